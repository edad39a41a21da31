"""Verification of the RS256 access tokens that auth_service signs.

Every service verifies tokens itself with the public keys, so a request that bypasses
the gateway cannot forge an identity with a header.

The public keys are auth's, learnt from its JWKS (``JWT_JWKS_URL``, see ``edge.jwks``): auth
publishes a new one at each key rotation, and keeps retired ones until the tokens they signed
have expired. auth itself reads its own keys instead (``JWT_PUBLIC_KEY_LOADER``).
"""

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jwt
from django.utils.module_loading import import_string

from edge.conf import edge_settings
from edge.jwks import jwks_keys

INVALID_TOKEN = "Token is invalid or expired."
NOT_AN_ACCESS_TOKEN = "Token is not an access token."
UNKNOWN_KEY = "Token is signed with an unknown key."

# auth names its key files by kid: nothing but these characters, so a header cannot walk its
# file system, nor send anything odd to the JWKS cache.
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class InvalidToken(Exception):
    """The token is missing a claim, expired, wrongly signed or not an access token."""


@dataclass(frozen=True, kw_only=True)
class Claims:
    user_id: int
    email: str
    is_staff: bool
    is_superuser: bool
    jti: str
    exp: int
    # The user's token generation when it was issued: auth bumps it to revoke all of them.
    generation: int = 0
    # The refresh token this access token was issued with (a browser session's id).
    session_id: str = ""
    # Whether the user has confirmed their email address (OpenID Connect's claim); a token without
    # the claim says no.
    email_verified: bool = False
    # The slugs of the user's staff roles (edge.roles) when the token was issued.
    roles: tuple[str, ...] = ()


@lru_cache(maxsize=4)
def _key_loader(dotted_path: str) -> Any:
    return import_string(dotted_path)


def public_key(kid: str | None) -> Any:
    """The public key for ``kid``; raises ``InvalidToken`` when auth publishes no such key."""
    if not kid or not KID_PATTERN.match(kid):
        raise InvalidToken(UNKNOWN_KEY)
    if edge_settings.JWT_PUBLIC_KEY_LOADER:
        key = _key_loader(edge_settings.JWT_PUBLIC_KEY_LOADER)(kid)
    else:
        key = jwks_keys(
            edge_settings.JWT_JWKS_URL,
            algorithm=edge_settings.JWT_ALGORITHM,
            refetch_interval=edge_settings.JWT_JWKS_REFETCH_INTERVAL_SECONDS,
            timeout=edge_settings.JWT_JWKS_TIMEOUT_SECONDS,
        ).key(kid)
    if key is None:
        raise InvalidToken(UNKNOWN_KEY)
    return key


def decode_token(raw_token: str) -> dict:
    """The verified payload of any token auth signed (access or refresh); ``InvalidToken`` otherwise."""
    try:
        kid = jwt.get_unverified_header(raw_token).get("kid")
        return jwt.decode(
            raw_token,
            public_key(kid if isinstance(kid, str) else None),
            # Only the configured algorithm: "none" and HS256-with-the-public-key are refused here.
            algorithms=[edge_settings.JWT_ALGORITHM],
            issuer=edge_settings.JWT_ISSUER,
            audience=edge_settings.JWT_AUDIENCE,
            options={"require": ["exp", "jti", "user_id", "token_type", "iss", "aud"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(INVALID_TOKEN) from error


def verify_access_token(raw_token: str) -> Claims:
    """The claims of a validly signed access token; raises ``InvalidToken`` for anything else.

    This checks the token alone; ``edge.revocation.authenticate`` adds whether it was revoked.
    """
    payload = decode_token(raw_token)
    if payload["token_type"] != "access":
        raise InvalidToken(NOT_AN_ACCESS_TOKEN)
    try:
        return Claims(
            user_id=int(payload["user_id"]),
            email=str(payload.get("email", "")),
            is_staff=bool(payload.get("is_staff", False)),
            is_superuser=bool(payload.get("is_superuser", False)),
            jti=str(payload["jti"]),
            exp=int(payload["exp"]),
            generation=int(payload.get("gen", 0)),
            session_id=str(payload.get("sid", "")),
            email_verified=payload.get("email_verified") is True,
            roles=_roles(payload.get("roles", [])),
        )
    except (TypeError, ValueError) as error:
        raise InvalidToken(INVALID_TOKEN) from error


def _roles(claim: object) -> tuple[str, ...]:
    if not isinstance(claim, list) or not all(isinstance(role, str) for role in claim):
        raise ValueError("roles must be a list of slugs")
    return tuple(claim)
