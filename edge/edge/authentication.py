"""DRF authentication by the access token: a ``Bearer`` header, or the browser's access cookie."""

from dataclasses import dataclass

from rest_framework import authentication, exceptions, status
from rest_framework.request import Request

from edge.conf import edge_settings
from edge.revocation import (
    TOKEN_STATE_RETRY_AFTER_SECONDS,
    TOKEN_STATE_UNAVAILABLE,
    TokenStateUnavailable,
    authenticate,
)
from edge.roles import role_permissions
from edge.tokens import Claims, InvalidToken

MALFORMED_AUTHORIZATION = "Authorization header must be 'Bearer <token>'."


class TokenStateUnavailableError(exceptions.APIException):
    """503: the token may be fine, but whether it was revoked cannot be checked right now."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = TOKEN_STATE_UNAVAILABLE
    default_code = "token_state_unavailable"
    # DRF's exception handler sends this as the Retry-After header.
    wait = TOKEN_STATE_RETRY_AFTER_SECONDS


@dataclass(frozen=True)
class TokenUser:
    """The caller as the token describes it; no database row is needed to serve an API call."""

    claims: Claims
    is_active: bool = True
    is_anonymous: bool = False
    is_authenticated: bool = True

    @property
    def id(self) -> int:
        return self.claims.user_id

    pk = id

    @property
    def email(self) -> str:
        return self.claims.email

    @property
    def is_staff(self) -> bool:
        return self.claims.is_staff

    @property
    def is_superuser(self) -> bool:
        return self.claims.is_superuser

    @property
    def email_verified(self) -> bool:
        return self.claims.email_verified

    @property
    def token_roles(self) -> tuple[str, ...]:
        return self.claims.roles

    def get_all_permissions(self, obj: object = None) -> set[str]:
        """What the token's roles give in this service (edge.roles), as the admin's user holds them."""
        if obj is not None or not (self.is_active and self.is_staff):
            return set()
        return set(role_permissions(self.claims.roles))

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return self.is_superuser or perm in self.get_all_permissions(obj)

    def __str__(self) -> str:
        return self.claims.email


class GatewayJWTAuthentication(authentication.BaseAuthentication):
    """Verifies the access token itself; client-sent ``X-User-*`` headers are never trusted."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[TokenUser, Claims] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if header:
            scheme, _, raw_token = header.partition(" ")
            if scheme != self.keyword or not raw_token.strip():
                raise exceptions.AuthenticationFailed(MALFORMED_AUTHORIZATION)
            return self._authenticate_token(raw_token.strip())

        raw_token = request.COOKIES.get(edge_settings.ACCESS_COOKIE_NAME)
        if not raw_token:
            return None
        user_and_claims = self._authenticate_token(raw_token)
        # A cookie rides along with any request the browser makes: unsafe methods need CSRF.
        authentication.SessionAuthentication().enforce_csrf(request)
        return user_and_claims

    def _authenticate_token(self, raw_token: str) -> tuple[TokenUser, Claims]:
        try:
            # The signature, and whether auth revoked the token or the user since it was issued.
            claims = authenticate(raw_token)
        except InvalidToken as error:
            raise exceptions.AuthenticationFailed(str(error)) from error
        except TokenStateUnavailable as error:
            raise TokenStateUnavailableError from error
        return TokenUser(claims), claims

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) to a request without credentials.
        return f'{self.keyword} realm="api"'
