"""The token state auth writes to Redis and every service reads: revoked access tokens and
each user's standing (active, staff, superuser, token generation).

Auth writes the standing of a user whenever it changes and whenever it issues tokens; every
service checks it on each request, so deactivating a user or revoking their tokens cuts them
off at the gateway, in every admin site and at a service reached directly, at once, without
asking auth's database. The values live in the ``tokens`` cache, which all services share.
"""

import logging
import time
from dataclasses import asdict, dataclass
from typing import Any

from django.core.cache import BaseCache, caches
from django.utils.module_loading import import_string
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from edge.conf import edge_settings
from edge.tokens import Claims, InvalidToken, verify_access_token

logger = logging.getLogger(__name__)

TOKEN_REVOKED = "Token has been revoked."
USER_INACTIVE = "User is inactive or deleted."


@dataclass(frozen=True, kw_only=True)
class UserState:
    active: bool
    is_staff: bool
    is_superuser: bool
    # Tokens issued at an older generation are refused: bumping it revokes them all.
    generation: int


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


def refusal_reason(claims: Claims) -> str | None:
    """Why these verified claims may no longer be used, or None. One Redis round trip."""
    values = _read([_revoked_key(claims.jti), _user_key(claims.user_id)])
    if values and values.get(_revoked_key(claims.jti)):
        return TOKEN_REVOKED
    raw_state = values.get(_user_key(claims.user_id)) if values else None
    if raw_state:
        state = UserState(**raw_state)
    elif edge_settings.USER_STATE_LOADER:
        # Auth reads a missing standing from its database; later requests find it in Redis.
        # With Redis down the gateway still checks the standing this way: only the denylist
        # of logged-out access tokens is out of reach, for at most their short lifetime.
        state = import_string(edge_settings.USER_STATE_LOADER)(claims.user_id)
        if values is not None:
            user_state_store(user_id=claims.user_id, state=state)
    else:
        # Auth writes the standing of every user it issues a token to, without expiry, and
        # the gateway's check in front of every service reads it from auth's database when
        # Redis lost it or is down: a service without a database of users accepts the token.
        return None
    if not state.active:
        return USER_INACTIVE
    if claims.generation < state.generation:
        return TOKEN_REVOKED
    return None


def authenticate(raw_token: str) -> Claims:
    """The claims of an access token that is valid, unexpired and not revoked; ``InvalidToken`` otherwise."""
    claims = verify_access_token(raw_token)
    reason = refusal_reason(claims)
    if reason:
        raise InvalidToken(reason)
    return claims
