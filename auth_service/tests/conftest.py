import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.keys import signing_key_rotate
from accounts.models import User
from accounts.services import token_pair_issue
from tests.factories import UserFactory


@pytest.fixture(autouse=True)
def _private_cache(settings) -> None:
    # Login failures are counted in their own cache's Redis (a Lua script): under a prefix of
    # its own, each test starts with none.
    settings.CACHES = {
        **settings.CACHES,
        settings.ABUSE_COUNTS_CACHE: {
            **settings.CACHES[settings.ABUSE_COUNTS_CACHE],
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}",
        },
    }


@pytest.fixture
def key_dir(settings, tmp_path) -> Path:
    """Signing keys of this test alone (rotation changes them); the first one is current."""
    settings.JWT_PRIVATE_KEY_DIR = str(tmp_path / "keys")
    signing_key_rotate()
    return tmp_path / "keys"


@pytest.fixture
def take_redis_down(settings) -> Callable[[], None]:
    """``take_redis_down()``: from then on the shared token state cannot be reached."""

    def down() -> None:
        settings.CACHES = {
            **settings.CACHES,
            "tokens": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": "redis://127.0.0.1:1/0",
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": False},
            },
        }

    return down


@pytest.fixture
def abuse_counts_out_of_reach(settings) -> None:
    """auth's counts of failed logins and of emails per address on a Redis nobody answers at."""
    settings.CACHES = {
        **settings.CACHES,
        settings.ABUSE_COUNTS_CACHE: {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """``with committing(): ...`` runs what waits for the commit (the test's transaction never commits)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def customer(db: None) -> User:
    return UserFactory()


@pytest.fixture
def staff(db: None) -> User:
    return UserFactory(is_staff=True)


@pytest.fixture
def superuser(db: None) -> User:
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def access_token_for() -> Callable[[User], str]:
    def issue(user: User) -> str:
        return str(token_pair_issue(user=user).access)

    return issue
