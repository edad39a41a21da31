"""simplejwt's tokens, signed with auth's current key under its ``kid``; and the one-time token
of the link that confirms an email address.

simplejwt (5.5) sets no ``kid`` and takes one fixed key; these token classes use a backend
that signs with the current key from ``accounts.keys`` and verifies with the key the kid names,
as every other service does (``edge.tokens``).
"""

from typing import Any

import jwt
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken
from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken
from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefreshToken

from accounts.keys import signing_key
from edge.conf import edge_settings
from edge.tokens import InvalidToken, decode_token

ALGORITHM = "RS256"


class KeyedTokenBackend(TokenBackend):
    def encode(self, payload: dict[str, Any]) -> str:
        key = signing_key()
        payload = {**payload, "iss": edge_settings.JWT_ISSUER, "aud": edge_settings.JWT_AUDIENCE}
        return jwt.encode(payload, key.private_pem, algorithm=ALGORITHM, headers={"kid": key.kid})

    def decode(self, token: Any, verify: bool = True) -> dict[str, Any]:
        if not verify:
            return jwt.decode(str(token), options={"verify_signature": False})
        try:
            return decode_token(str(token))
        except InvalidToken as error:
            if isinstance(error.__cause__, jwt.ExpiredSignatureError):
                raise TokenBackendExpiredToken(str(error)) from error
            raise TokenBackendError(str(error)) from error


token_backend = KeyedTokenBackend(ALGORITHM)


class AccessToken(SimpleAccessToken):
    def get_token_backend(self) -> TokenBackend:
        return token_backend


class RefreshToken(SimpleRefreshToken):
    access_token_class = AccessToken

    def get_token_backend(self) -> TokenBackend:
        return token_backend


class EmailConfirmationTokenGenerator(PasswordResetTokenGenerator):
    """The one-time token of the link that confirms an address: Django's password reset token,
    with a salt of its own (a reset token does not confirm, nor the other way), made of the
    confirmation, so it dies on use, and of the password hash and the address, which a change
    of either also kills. Unlike a reset token, not of the last login: the new account's owner
    may log in before confirming. It expires as a reset link does (``PASSWORD_RESET_TIMEOUT``).
    """

    key_salt = "accounts.tokens.EmailConfirmationTokenGenerator"

    def _make_hash_value(self, user: AbstractBaseUser, timestamp: int) -> str:
        return f"{user.pk}{user.password}{user.email}{user.email_confirmed_at}{timestamp}"


email_confirmation_token_generator = EmailConfirmationTokenGenerator()
