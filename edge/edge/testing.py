"""pytest plugin shared by every service's own tests (``-p edge.testing`` in each pytest config).

Unit tests run Celery eagerly (Django's test set-up keeps email in memory); the end-to-end
tests use the real ones.
"""

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import jwt
import pytest
from celery import current_app
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pytest_django.fixtures import Settings


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
    settings.EDGE = {**settings.EDGE, "VALIDATE_PUBLISHED_EVENTS": True}


@pytest.fixture(autouse=True)
def _celery_eager() -> None:
    # The app reads its settings once; its conf is where eager mode takes effect.
    current_app.conf.task_always_eager = True
    current_app.conf.task_eager_propagates = True


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def public_key_file(settings: Settings, signing_key: rsa.RSAPrivateKey, tmp_path: Path) -> Path:
    """Makes the service verify tokens against the test signing key, as it would auth's."""
    path = tmp_path / "jwt_public.pem"
    path.write_bytes(
        signing_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    settings.EDGE = {**settings.EDGE, "JWT_PUBLIC_KEY_PATH": str(path)}
    return path


@pytest.fixture
def make_token(signing_key: rsa.RSAPrivateKey, public_key_file: Path) -> Callable[..., str]:
    """``make_token(user_id, is_staff=True, ...)``: an access token as auth would sign it."""

    def make(user_id: int = 7, *, key: object = None, algorithm: str = "RS256", **claims: object) -> str:
        payload = {
            "token_type": "access",
            "user_id": str(user_id),
            "email": f"user{user_id}@example.com",
            "is_staff": False,
            "is_superuser": False,
            "jti": uuid.uuid4().hex,
            "exp": int(time.time()) + 300,
            **claims,
        }
        return jwt.encode(payload, key or signing_key, algorithm)

    return make
