"""pytest plugin shared by every service's own tests (``-p edge.testing`` in each pytest config).

Unit tests run Celery eagerly (Django's test set-up keeps email in memory); the end-to-end
tests use the real ones.
"""

import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from celery import current_app
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client
from django_redis.exceptions import ConnectionInterrupted
from jwt.algorithms import RSAAlgorithm
from pytest_django.fixtures import Settings
from redis.exceptions import RedisError

from edge.conf import edge_settings
from edge.events import EVENT_TYPES
from edge.messaging.signing import message_sign
from edge.revocation import UserState, user_state_get, user_state_store
from edge.service_table import SERVICE_NAMES

# The kid the test signing key is published under.
TEST_KID = "test-key"
# The key the tests seal and open secrets with; the contract examples' sealed values open with it.
TEST_SEAL_KEY = "d_AIghlctzUg1_0JTn5N5q6xEJPXF80CUsNhRDH6FZ4="
# One event signing key stands for every service's in the unit tests (edge.messaging.signing).
TEST_EVENT_SIGNING_KEY = "c445d68f061a6dcf5a99f4a1b54ea22843618edfd7363eb171031b3ce6fbf416"
TEST_EVENT_VERIFY_KEY = "86d502a6794c300dad5d3e64f7989354451ca419cabd563acd1918aad7734c7f"


def signed_by_producer(message: object, producer: str | None = None) -> dict[str, str]:
    """The ``edge.handle_event`` arguments that sign a message as ``producer`` would, by default
    its contract's first producer."""
    producer = producer or EVENT_TYPES[message["type"]].producers[0]
    return message_sign(message, producer=producer, key=TEST_EVENT_SIGNING_KEY).task_kwargs


def dashboard_panel(response: Any, key: str) -> Any:
    """The panel ``key`` of the admin dashboard that ``response`` (an admin index page) shows."""
    assert response.status_code == 200
    return next(panel for panel in response.context["dashboard"] if panel.key == key)


def dashboard_figures(panel: Any) -> dict[str, object]:
    return {figure.key: figure.value for figure in panel.figures}


def chart_values(chart: str, series: str) -> dict[str, str]:
    """The values of one series of a chart (edge.charts) by label, as its bars or points carry them."""
    pattern = rf'data-series="{re.escape(series)}" data-label="([^"]*)" data-value="([^"]*)"'
    return dict(re.findall(pattern, chart))


@pytest.fixture(autouse=True)
def _unit_test_settings(settings: Settings) -> None:
    # The manifest is built by collectstatic, which the unit tests do not run.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    settings.WHITENOISE_AUTOREFRESH = True
    # Real hashing costs a quarter second a password; no test is about its strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Revocations and users' standing are shared by all services in Redis; each test gets
    # its own, so one suite's users do not refuse another's tokens.
    settings.CACHES = {
        **settings.CACHES,
        "tokens": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": uuid.uuid4().hex},
    }
    # Every event a test publishes is checked against its schema, so a producer that breaks
    # its contract fails its own tests (production leaves the check to the consumers).
    # No unit test asks a real auth whether a token was revoked: one that needs to brings its
    # own (``auth_check``); otherwise the check is asked on the discard port, where nothing
    # answers, and a token Redis cannot vouch for is refused.
    settings.EDGE = {
        **settings.EDGE,
        "VALIDATE_PUBLISHED_EVENTS": True,
        "TOKEN_CHECK_URL": "http://127.0.0.1:9/internal/verify",
        "SEAL_KEYS": [TEST_SEAL_KEY],
        "EVENT_SIGNING_KEY": TEST_EVENT_SIGNING_KEY,
        "EVENT_VERIFY_KEYS": [f"{name}={TEST_EVENT_VERIFY_KEY}" for name in SERVICE_NAMES],
    }


@pytest.fixture(autouse=True)
def _celery_eager() -> None:
    # The app reads its settings once; its conf is where eager mode takes effect.
    current_app.conf.task_always_eager = True
    current_app.conf.task_eager_propagates = True


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class LocalHttpServer:
    """An endpoint of auth as the services meet it: real HTTP on a free local port, from a thread
    of the test process, answering every GET with ``answer()``. ``stop()`` takes it down as if
    auth were."""

    path = "/"

    def __init__(self) -> None:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                status, body = server.answer(self)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_port}{self.path}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, request: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        raise NotImplementedError

    def stop(self) -> None:
        if self._thread.is_alive():
            self._http.shutdown()
            self._http.server_close()
            self._thread.join()


class JwksServer(LocalHttpServer):
    """auth's JWKS endpoint. ``publish(kid, key)`` adds a key to the set, ``fetches`` counts the
    requests it answered."""

    path = "/api/auth/.well-known/jwks.json"

    def __init__(self) -> None:
        self.keys: dict[str, dict] = {}
        self.fetches = 0
        super().__init__()

    def answer(self, request: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        self.fetches += 1
        return 200, json.dumps({"keys": list(self.keys.values())}).encode()

    def publish(self, kid: str, key: rsa.RSAPrivateKey) -> None:
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
        self.keys[kid] = {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


@pytest.fixture
def jwks_server(settings: Settings, signing_key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    """Makes the service verify tokens with the keys of a JWKS server of the test's own, which
    publishes the test signing key (under ``TEST_KID``) as auth publishes its keys."""
    server = JwksServer()
    server.publish(TEST_KID, signing_key)
    # A new server, a new address: no test meets keys another test's cache learnt.
    settings.EDGE = {**settings.EDGE, "JWT_JWKS_URL": server.url}
    yield server
    server.stop()


class AuthCheckServer(LocalHttpServer):
    """auth's token check (``/internal/verify``) as the services meet it when their Redis cannot
    answer, answering ``status`` (and ``detail`` in the body of a refusal). ``checks`` holds the
    ``Authorization`` header of each request it answered."""

    path = "/internal/verify"

    def __init__(self) -> None:
        self.status = 204
        self.detail = ""
        self.checks: list[str] = []
        super().__init__()

    def answer(self, request: BaseHTTPRequestHandler) -> tuple[int, bytes]:
        self.checks.append(request.headers.get("Authorization", ""))
        body = json.dumps({"detail": self.detail}).encode() if self.status >= 400 else b""
        return self.status, body


@pytest.fixture
def auth_check(settings: Settings) -> Iterator[AuthCheckServer]:
    """Makes the service ask a token check of the test's own when Redis cannot answer."""
    server = AuthCheckServer()
    settings.EDGE = {**settings.EDGE, "TOKEN_CHECK_URL": server.url}
    yield server
    server.stop()


@pytest.fixture
def make_token(signing_key: rsa.RSAPrivateKey, jwks_server: JwksServer) -> Callable[..., str]:
    """``make_token(user_id, is_staff=True, ...)``: an access token as auth would sign it
    (``iss=None`` leaves that claim out)."""

    def make(
        user_id: int = 7,
        *,
        key: object = None,
        algorithm: str = "RS256",
        kid: str = TEST_KID,
        **claims: object,
    ) -> str:
        payload = {
            "token_type": "access",
            "user_id": str(user_id),
            "email": f"user{user_id}@example.com",
            "is_staff": False,
            "is_superuser": False,
            "email_verified": True,
            "jti": uuid.uuid4().hex,
            "exp": int(time.time()) + 300,
            "iss": edge_settings.JWT_ISSUER,
            "aud": edge_settings.JWT_AUDIENCE,
            **claims,
        }
        # A claim given as None is left out, as a forger might.
        payload = {name: value for name, value in payload.items() if value is not None}
        # auth writes the standing of every user it issues a token to (unless Redis is down);
        # a test may have set another one first.
        with suppress(ConnectionInterrupted, RedisError):
            if user_state_get(user_id) is None:
                user_state_store(
                    user_id=user_id,
                    state=UserState(
                        active=True,
                        is_staff=bool(payload.get("is_staff")),
                        is_superuser=bool(payload.get("is_superuser")),
                        generation=int(payload.get("gen", 0)),
                    ),
                )
        return jwt.encode(payload, key or signing_key, algorithm, headers={"kid": kid})

    return make


@pytest.fixture
def staff_api_client(make_token: Callable[..., str]) -> Callable[..., Any]:
    """``staff_api_client(*roles, user_id=12)``: a DRF test client whose bearer token is a staff
    member's with those roles (edge.roles)."""
    # DRF's test module reads Django's settings as it loads: pytest loads this plugin before them.
    from rest_framework.test import APIClient

    def client_for(*roles: str, user_id: int = 12) -> APIClient:
        client = APIClient()
        token = make_token(user_id, is_staff=True, roles=list(roles))
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return client

    return client_for


def _admin_client_with(token: str) -> Client:
    """A Django test client signed in to the admin the way the gateway's login leaves a browser:
    its access token in a cookie."""
    client = Client()
    client.cookies["access_token"] = token
    return client


@pytest.fixture
def superuser_admin_client(make_token: Callable[..., str]) -> Client:
    """A Django test client signed in to the admin as a superuser."""
    return _admin_client_with(make_token(1, is_staff=True, is_superuser=True))


@pytest.fixture
def staff_admin_client(make_token: Callable[..., str]) -> Callable[..., Any]:
    """``staff_admin_client(*roles, user_id=12)``: a Django test client signed in to the admin
    with a staff member's token with those roles."""

    def client_for(*roles: str, user_id: int = 12) -> Client:
        return _admin_client_with(make_token(user_id, is_staff=True, roles=list(roles)))

    return client_for
