"""Verification of the RS256 access tokens that auth_service signs.

Every service verifies tokens itself with the public keys, so a request that bypasses
the gateway cannot forge an identity with a header.

``JWT_PUBLIC_KEY_PATH`` is a directory of ``<kid>.pem`` public keys (auth adds one at each
key rotation, and retired keys stay until the tokens they signed have expired), or a single
PEM file that verifies every token whatever its ``kid``.
"""

import os
import re
from dataclasses import dataclass
from functools import lru_cache

import jwt

from edge.conf import edge_settings

INVALID_TOKEN = "Token is invalid or expired."
NOT_AN_ACCESS_TOKEN = "Token is not an access token."
UNKNOWN_KEY = "Token is signed with an unknown key."

# A kid names a file: nothing but these characters, so a header cannot walk the file system.
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


@lru_cache(maxsize=32)
def _read_key(path: str, mtime: float) -> str:
    with open(path) as key_file:
        return key_file.read()


def public_key(kid: str | None = None) -> str:
    """The PEM public key for ``kid``; raises ``InvalidToken`` when no such key is published."""
    path = edge_settings.JWT_PUBLIC_KEY_PATH
    if os.path.isdir(path):
        if not kid or not KID_PATTERN.match(kid):
            raise InvalidToken(UNKNOWN_KEY)
        path = os.path.join(path, f"{kid}.pem")
    try:
        # Keyed by mtime: a key file added or replaced on disk is picked up without a restart.
        return _read_key(path, os.stat(path).st_mtime)
    except FileNotFoundError as error:
        raise InvalidToken(UNKNOWN_KEY) from error


def decode_token(raw_token: str) -> dict:
    """The verified payload of any token auth signed (access or refresh); ``InvalidToken`` otherwise."""
    try:
        kid = jwt.get_unverified_header(raw_token).get("kid")
        return jwt.decode(
            raw_token,
            public_key(kid if isinstance(kid, str) else None),
            # Only the configured algorithm: "none" and HS256-with-the-public-key are refused here.
            algorithms=[edge_settings.JWT_ALGORITHM],
            options={"require": ["exp", "jti", "user_id", "token_type"]},
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
        )
    except (TypeError, ValueError) as error:
        raise InvalidToken(INVALID_TOKEN) from error
