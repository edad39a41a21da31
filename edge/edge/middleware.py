"""Middleware shared by every service: request ids, and the gateway identity for the admin."""

import logging
import time
from collections.abc import Callable

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import SimpleLazyObject

from edge.client_address import client_address
from edge.conf import edge_settings
from edge.logging import clean_request_id, request_id_var
from edge.revocation import (
    TOKEN_STATE_RETRY_AFTER_SECONDS,
    TOKEN_STATE_UNAVAILABLE,
    TokenStateUnavailable,
    authenticate,
)
from edge.tokens import InvalidToken
from edge.users import user_for_claims

logger = logging.getLogger("edge.request")

# URL arguments that are secrets (a password reset link's token): no log line holds one.
SECRET_URL_ARGUMENTS = ("token",)
REDACTED = "[redacted]"


class RequestIdMiddleware:
    """Takes the gateway's ``X-Request-ID`` (or makes one), logs the request with it, and echoes it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = clean_request_id(request.headers.get("X-Request-ID"))
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            logger.info(
                "request",
                extra={
                    "method": request.method,
                    "path": _loggable_path(request),
                    "status": response.status_code,
                    # As the gateway verified it; empty for public routes and direct calls.
                    "gateway_user_id": request.headers.get("X-User-Id", ""),
                    "client": client_address(request),
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                },
            )
            return response
        finally:
            request_id_var.reset(token)


def _loggable_path(request: HttpRequest) -> str:
    path = request.path
    arguments = request.resolver_match.kwargs if request.resolver_match else {}
    for name in SECRET_URL_ARGUMENTS:
        if arguments.get(name):
            path = path.replace(str(arguments[name]), REDACTED)
    return path


class GatewayAuthenticationMiddleware(AuthenticationMiddleware):
    """Sets ``request.user`` from the verified access cookie, on every request.

    This is Django's REMOTE_USER idea with a signed token instead of a trusted header:
    nothing is kept in the session, so a user's staff and superuser flags always follow
    the token, and every admin site sees a logout at once.
    """

    def process_request(self, request: HttpRequest) -> None:
        # Lazy: a request that never looks at its user costs no Redis or database round trip.
        request.user = SimpleLazyObject(lambda: _user_from_cookie(request))

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A page whose user cannot be checked (Redis and auth both out of reach) answers 503.

        Not the login page: the user is most likely logged in, and a new login could not be
        checked either. The body is JSON like every other refusal; a browser shows it as text.
        """
        if not isinstance(exception, TokenStateUnavailable):
            return None
        response = JsonResponse(
            {"detail": TOKEN_STATE_UNAVAILABLE, "code": "token_state_unavailable", "status": 503}, status=503
        )
        response["Retry-After"] = str(TOKEN_STATE_RETRY_AFTER_SECONDS)
        return response


def _user_from_cookie(request: HttpRequest) -> object:
    raw_token = request.COOKIES.get(edge_settings.ACCESS_COOKIE_NAME)
    if not raw_token:
        return AnonymousUser()
    try:
        # Revoked tokens and deactivated users are refused here too, on the user's next request.
        claims = authenticate(raw_token)
    except InvalidToken:
        return AnonymousUser()
    return user_for_claims(claims) or AnonymousUser()
