"""Revoked tokens and users' standing, as auth writes them and every service reads them."""

import time

import pytest
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from edge.revocation import (
    TOKEN_REVOKED,
    USER_INACTIVE,
    UserState,
    access_token_revoke,
    authenticate,
    user_state_store,
)
from edge.tokens import InvalidToken, verify_access_token

WHOAMI = "/api/edge/whoami/"


def _standing(user_id: int, *, active: bool = True, generation: int = 0) -> None:
    user_state_store(
        user_id=user_id,
        state=UserState(active=active, is_staff=False, is_superuser=False, generation=generation),
    )


def test_a_token_of_a_user_in_good_standing_is_accepted(make_token):
    _standing(5)

    assert authenticate(make_token(5, gen=0)).user_id == 5


def test_a_revoked_access_token_is_refused_by_the_api(client, make_token):
    token = make_token(5)
    claims = verify_access_token(token)
    access_token_revoke(jti=claims.jti, exp=claims.exp)

    response = client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert response.json()["detail"] == TOKEN_REVOKED


def test_a_deactivated_users_token_is_refused(make_token):
    _standing(5, active=False)

    with pytest.raises(InvalidToken, match=USER_INACTIVE):
        authenticate(make_token(5))


def test_a_token_of_an_older_generation_is_refused(make_token):
    _standing(5, generation=2)

    with pytest.raises(InvalidToken, match=TOKEN_REVOKED):
        authenticate(make_token(5, gen=1))
    assert authenticate(make_token(5, gen=2)).user_id == 5


@pytest.mark.django_db
def test_the_admin_drops_a_deactivated_users_session_on_the_next_request(client, make_token):
    client.cookies["access_token"] = make_token(9, is_staff=True, is_superuser=True)
    assert client.get("/admin/edge/").status_code == 200

    _standing(9, active=False)

    assert client.get("/admin/edge/").status_code == 302


@pytest.fixture
def redis_down(settings):
    settings.CACHES = {
        **settings.CACHES,
        "tokens": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2, "IGNORE_EXCEPTIONS": False},
        },
    }


def test_with_redis_down_a_service_accepts_a_signed_token_and_leaves_the_standing_to_the_gateway(
    redis_down, make_token
):
    assert authenticate(make_token(5)).user_id == 5


def test_with_redis_down_a_revocation_fails_loudly_rather_than_being_lost(redis_down):
    with pytest.raises((ConnectionInterrupted, RedisError)):
        access_token_revoke(jti="j", exp=int(time.time()) + 60)
