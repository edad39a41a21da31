"""The token state auth writes to Redis and every service reads: revoked access tokens and
each user's standing (active, staff, superuser, token generation).

Auth writes the standing of a user whenever it changes and whenever it issues tokens; every
service checks it on each request, so deactivating a user or revoking their tokens cuts them
off at the gateway, in every admin site and at a service reached directly, at once, without
asking auth's database. The values live in the ``tokens`` cache, which all services share.

Revocation fails closed: a token whose state Redis cannot give is checked by auth, from its
database, or refused (``TokenStateUnavailable``, which the API answers with a 503); it is
never accepted unchecked.
"""

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from contextlib import suppress
from dataclasses import asdict, dataclass
from typing import Any

from django.core.cache import BaseCache, caches
from django.db import DatabaseError
from django.utils.module_loading import import_string
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from edge.conf import edge_settings
from edge.tokens import Claims, InvalidToken, verify_access_token

logger = logging.getLogger(__name__)

TOKEN_REVOKED = "Token has been revoked."
USER_INACTIVE = "User is inactive or deleted."
TOKEN_REFUSED = "Token was refused by auth."
TOKEN_STATE_UNAVAILABLE = "Whether the token is still valid cannot be checked right now; try again shortly."
# What a refusal for want of the token's state tells the client to wait (its Retry-After).
TOKEN_STATE_RETRY_AFTER_SECONDS = 5


class TokenStateUnavailable(Exception):
    """Neither Redis nor auth can say whether the token was revoked: it must be refused, for now."""


@dataclass(frozen=True, kw_only=True)
class UserState:
    active: bool
    is_staff: bool
    is_superuser: bool
    # Tokens issued at an older generation are refused: bumping it revokes them all.
    generation: int


@dataclass(frozen=True, kw_only=True)
class TokenState:
    """What auth's database says of one access token: the ``TOKEN_STATE_LOADER``'s answer."""

    revoked: bool
    user: UserState


def _cache() -> BaseCache:
    return caches[edge_settings.TOKEN_STATE_CACHE]


def _revoked_key(jti: str) -> str:
    return f"revoked:{jti}"


def _user_key(user_id: int) -> str:
    return f"user:{user_id}"


def access_token_revoke(*, jti: str, exp: int) -> None:
    """Refuse this access token from now on; the entry expires with the token itself."""
    remaining = int(exp - time.time())
    if remaining > 0:
        _cache().set(_revoked_key(jti), 1, timeout=remaining + 1)


def user_state_store(*, user_id: int, state: UserState) -> None:
    # No expiry: the standing must outlive every token issued to the user.
    _cache().set(_user_key(user_id), asdict(state), timeout=None)


def user_state_get(user_id: int) -> UserState | None:
    value = _cache().get(_user_key(user_id))
    return UserState(**value) if value else None


def _read(keys: list[str]) -> dict[str, Any] | None:
    """The values of these keys; None when Redis cannot be reached."""
    try:
        return _cache().get_many(keys)
    except (ConnectionInterrupted, RedisError):
        logger.warning("token state unavailable: Redis cannot be reached")
        return None


def standing_refusal_reason(claims: Claims, state: UserState) -> str | None:
    """Why the user's standing no longer allows these claims, or None."""
    if not state.active:
        return USER_INACTIVE
    if claims.generation < state.generation:
        return TOKEN_REVOKED
    return None


def refusal_reason(claims: Claims, *, raw_token: str) -> str | None:
    """Why these verified claims may no longer be used, or None.

    The hot path is one Redis round trip. When it cannot answer (Redis out of reach, or the
    user's standing missing from it, which may mean the denylist entry went with it) the
    answer comes from auth, which holds both in its database: auth reads them there
    (``TOKEN_STATE_LOADER``), every other service asks auth over HTTP (``TOKEN_CHECK_URL``).
    A token that cannot be checked either way is never accepted: ``TokenStateUnavailable``.
    """
    values = _read([_revoked_key(claims.jti), _user_key(claims.user_id)])
    if values and values.get(_revoked_key(claims.jti)):
        return TOKEN_REVOKED
    raw_state = values.get(_user_key(claims.user_id)) if values else None
    if raw_state:
        return standing_refusal_reason(claims, UserState(**raw_state))
    if edge_settings.TOKEN_STATE_LOADER:
        try:
            token_state = import_string(edge_settings.TOKEN_STATE_LOADER)(claims)
        except DatabaseError as error:
            raise TokenStateUnavailable(TOKEN_STATE_UNAVAILABLE) from error
        if values is not None:
            # Later requests, at auth and at every other service, find the standing in Redis;
            # if Redis went away meanwhile, the answer from the database still holds.
            with suppress(ConnectionInterrupted, RedisError):
                user_state_store(user_id=claims.user_id, state=token_state.user)
        if token_state.revoked:
            return TOKEN_REVOKED
        return standing_refusal_reason(claims, token_state.user)
    return ask_auth(raw_token)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # auth's check never redirects: a redirect is an answer from something else, not a yes.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def ask_auth(raw_token: str) -> str | None:
    """auth's own check of the token (the gateway's ``/internal/verify``): None when auth
    accepts it, the reason when auth refuses it; ``TokenStateUnavailable`` for any other answer
    or none in time."""
    url = edge_settings.TOKEN_CHECK_URL
    # urllib would open file: and ftp: URLs too; auth is only ever asked over HTTP(S).
    if not url.startswith(("http://", "https://")):
        raise TokenStateUnavailable(TOKEN_STATE_UNAVAILABLE)
    request = urllib.request.Request(  # noqa: S310
        url, headers={"Authorization": f"Bearer {raw_token}", "Accept": "application/json"}
    )
    try:
        with _opener.open(request, timeout=edge_settings.TOKEN_CHECK_TIMEOUT_SECONDS) as response:
            if response.status in (200, 204):
                return None
    except urllib.error.HTTPError as error:
        if error.code == 401:
            return _refusal_detail(error)
        logger.warning("token state unavailable: auth answered %s", error.code)
    except (OSError, http.client.HTTPException) as error:
        logger.warning("token state unavailable: auth cannot be reached: %r", error)
    raise TokenStateUnavailable(TOKEN_STATE_UNAVAILABLE)


def _refusal_detail(refusal: urllib.error.HTTPError) -> str:
    """The reason auth gives in its 401 answer, or a plain one if it gives none."""
    try:
        detail = json.load(refusal).get("detail")
    except (OSError, http.client.HTTPException, ValueError, AttributeError):
        detail = None
    return detail if isinstance(detail, str) and detail else TOKEN_REFUSED


def authenticate(raw_token: str) -> Claims:
    """The claims of an access token that is valid, unexpired and not revoked.

    Raises ``InvalidToken`` for a token that is refused, ``TokenStateUnavailable`` for one
    whose revocation cannot be checked right now.
    """
    claims = verify_access_token(raw_token)
    reason = refusal_reason(claims, raw_token=raw_token)
    if reason:
        raise InvalidToken(reason)
    return claims
