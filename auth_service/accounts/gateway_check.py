"""The gateway's token check, ``/internal/verify``: nginx asks it before every protected request.

It answers from the token's signature and one Redis round trip. Being on the path of every
protected request, it is served by ``with_verify_fast_path`` in front of Django's middleware
and URL resolver, which would otherwise cost more than the check itself; the Django view in
``accounts.views`` gives the same answers to callers of Django itself (the tests).
"""

import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs

from django.core import signals
from django.http.cookie import parse_cookie

from edge.conf import edge_settings
from edge.revocation import authenticate
from edge.tokens import InvalidToken

VERIFY_PATH = "/internal/verify"
MISSING_TOKEN = "Authentication credentials were not provided."
STAFF_ONLY = "This action needs a staff account."

Answer = tuple[int, dict[str, str], dict[str, str] | None]


def token_from(authorization: str, cookie_token: str | None) -> str | None:
    """The bearer token of the Authorization header, else the access cookie's."""
    scheme, _, raw_token = authorization.partition(" ")
    if scheme == "Bearer" and raw_token.strip():
        return raw_token.strip()
    return cookie_token


def verify_answer(*, raw_token: str | None, require_staff: bool) -> Answer:
    """204 with the identity headers, 401, or 403 (``require_staff``). Never a redirect:
    nginx turns any other answer of an auth subrequest into a 500."""
    if not raw_token:
        return 401, {}, {"detail": MISSING_TOKEN}
    try:
        claims = authenticate(raw_token)
    except InvalidToken as error:
        return 401, {}, {"detail": str(error)}
    if require_staff and not claims.is_staff:
        return 403, {}, {"detail": STAFF_ONLY}
    identity = {
        "X-User-Id": str(claims.user_id),
        "X-User-Email": claims.email,
        "X-User-Staff": "true" if claims.is_staff else "false",
    }
    return 204, identity, None


StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def with_verify_fast_path(django_app: WSGIApp) -> WSGIApp:
    """Wraps the service's WSGI app: ``GET /internal/verify`` is answered here, the rest by Django."""

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != VERIFY_PATH or environ.get("REQUEST_METHOD") != "GET":
            return django_app(environ, start_response)
        # The same upkeep Django does around a request (stale database connections, caches).
        signals.request_started.send(sender=with_verify_fast_path, environ=environ)
        try:
            cookie_token = parse_cookie(environ.get("HTTP_COOKIE", "")).get(edge_settings.ACCESS_COOKIE_NAME)
            status, headers, body = verify_answer(
                raw_token=token_from(environ.get("HTTP_AUTHORIZATION", ""), cookie_token),
                require_staff=bool(parse_qs(environ.get("QUERY_STRING", "")).get("staff")),
            )
        finally:
            signals.request_finished.send(sender=with_verify_fast_path)
        payload = json.dumps(body).encode() if body else b""
        response_headers = [*headers.items(), ("Content-Length", str(len(payload)))]
        if body:
            response_headers.append(("Content-Type", "application/json"))
        start_response(f"{status} {HTTPStatus(status).phrase}", response_headers)
        return [payload]

    return application
