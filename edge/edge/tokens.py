"""Verification of the RS256 access tokens that auth_service signs.

Every service verifies tokens itself with the public key, so a request that bypasses
the gateway cannot forge an identity with a header.
"""

import os
from dataclasses import dataclass
from functools import lru_cache

import jwt

from edge.conf import edge_settings

INVALID_TOKEN = "Token is invalid or expired."
NOT_AN_ACCESS_TOKEN = "Token is not an access token."


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


@lru_cache(maxsize=4)
def _read_key(path: str, mtime: float) -> str:
    with open(path) as key_file:
        return key_file.read()


def public_key() -> str:
    path = edge_settings.JWT_PUBLIC_KEY_PATH
    # Keyed by mtime: a key file replaced on disk is picked up without a restart.
    return _read_key(path, os.stat(path).st_mtime)


def verify_access_token(raw_token: str) -> Claims:
    """The claims of a valid access token; raises ``InvalidToken`` for anything else."""
    try:
        payload = jwt.decode(
            raw_token,
            public_key(),
            # Only the configured algorithm: "none" and HS256-with-the-public-key are refused here.
            algorithms=[edge_settings.JWT_ALGORITHM],
            options={"require": ["exp", "jti", "user_id", "token_type"]},
        )
    except jwt.PyJWTError as error:
        raise InvalidToken(INVALID_TOKEN) from error
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
        )
    except (TypeError, ValueError) as error:
        raise InvalidToken(INVALID_TOKEN) from error
