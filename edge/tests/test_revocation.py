"""Revoked tokens and users' standing, as auth writes them and every service reads them."""

import time

import pytest
from django.core.cache import caches
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from edge.revocation import (
    TOKEN_REVOKED,
    TOKEN_STATE_RETRY_AFTER_SECONDS,
    TOKEN_STATE_UNAVAILABLE,
    USER_INACTIVE,
    TokenStateUnavailable,
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


def _forget_every_standing() -> None:
    # As if Redis had lost the keys (a flush, a failover to an empty replica, an eviction).
    caches["tokens"].clear()


def test_with_redis_down_a_service_asks_auth_and_accepts_what_auth_accepts(
    client, redis_down, make_token, auth_check
):
    token = make_token(5)

    response = client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 200
    assert auth_check.checks == [f"Bearer {token}"]


def test_with_redis_down_a_token_auth_refuses_is_401_with_auths_reason(
    client, redis_down, make_token, auth_check
):
    auth_check.status, auth_check.detail = 401, TOKEN_REVOKED

    response = client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {make_token(5)}")

    assert response.status_code == 401
    assert response.json()["detail"] == TOKEN_REVOKED


def test_a_deactivated_users_token_whose_standing_was_lost_is_refused(client, make_token, auth_check):
    token = make_token(5)
    _forget_every_standing()
    auth_check.status, auth_check.detail = 401, USER_INACTIVE

    response = client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 401
    assert response.json()["detail"] == USER_INACTIVE


def test_a_token_redis_vouches_for_is_accepted_without_asking_auth(client, make_token, auth_check):
    auth_check.status = 401

    response = client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {make_token(5)}")

    assert response.status_code == 200
    assert auth_check.checks == []


def test_with_redis_and_auth_both_out_of_reach_the_api_answers_503_json(
    client, redis_down, make_token, auth_check
):
    auth_check.stop()

    response = client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {make_token(5)}")

    assert response.status_code == 503
    assert response.json() == {"detail": TOKEN_STATE_UNAVAILABLE}
    assert response["Retry-After"] == str(TOKEN_STATE_RETRY_AFTER_SECONDS)


@pytest.mark.parametrize("status", [500, 503, 302, 403])
def test_any_other_answer_from_auth_is_no_yes(client, make_token, auth_check, status):
    token = make_token(5)
    _forget_every_standing()
    auth_check.status = status

    with pytest.raises(TokenStateUnavailable):
        authenticate(token)


def test_with_nobody_answering_the_token_check_a_token_redis_cannot_vouch_for_is_refused(make_token):
    token = make_token(5)
    _forget_every_standing()

    with pytest.raises(TokenStateUnavailable):
        authenticate(token)


@pytest.mark.django_db
def test_with_redis_and_auth_both_out_of_reach_the_admin_answers_503_not_the_login_page(
    superuser_admin_client, redis_down, auth_check
):
    auth_check.stop()

    response = superuser_admin_client.get("/admin/edge/")

    assert response.status_code == 503
    assert response.json()["code"] == "token_state_unavailable"
    assert response["Retry-After"] == str(TOKEN_STATE_RETRY_AFTER_SECONDS)


@pytest.mark.django_db
def test_with_redis_down_the_admin_lets_in_whom_auth_accepts(superuser_admin_client, redis_down, auth_check):
    assert superuser_admin_client.get("/admin/edge/").status_code == 200


def test_with_redis_down_a_revocation_fails_loudly_rather_than_being_lost(redis_down):
    with pytest.raises((ConnectionInterrupted, RedisError)):
        access_token_revoke(jti="j", exp=int(time.time()) + 60)
