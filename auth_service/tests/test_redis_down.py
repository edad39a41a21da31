"""With Redis out of reach: logins go on, tokens are checked against the database (a logged-out
one stays refused), and a revocation fails loudly instead of being lost."""

from datetime import timedelta

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from accounts.models import RevokedAccessToken, User
from accounts.services import access_token_denylist_add, user_access_set
from edge.grants import StaffActor
from edge.revocation import TOKEN_STATE_RETRY_AFTER_SECONDS, TOKEN_STATE_UNAVAILABLE
from edge.tokens import verify_access_token
from tests.factories import PASSWORD

TOKEN = "/api/auth/token/"


def test_a_customer_still_gets_tokens(api_client, customer, take_redis_down):
    take_redis_down()

    response = api_client.post(TOKEN, {"email": customer.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200


def test_deactivating_a_user_fails_and_changes_nothing(customer, superuser, take_redis_down):
    take_redis_down()

    with pytest.raises((ConnectionInterrupted, RedisError)):
        user_access_set(user=customer, actor=StaffActor.for_user(superuser), is_active=False)

    assert User.objects.get(pk=customer.pk).is_active


def test_with_the_failure_count_out_of_reach_the_lockout_pauses_and_logins_go_on(
    api_client, customer, settings
):
    settings.CACHES = {
        **settings.CACHES,
        settings.LOGIN_FAILURE_CACHE: {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        },
    }
    for _ in range(settings.LOGIN_FAILURE_LIMIT + 1):
        wrong = api_client.post(TOKEN, {"email": customer.email, "password": "x"}, format="json")
        assert wrong.status_code == 401

    response = api_client.post(TOKEN, {"email": customer.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200


VERIFY = "/internal/verify"
LOGOUT = "/api/auth/logout/"


def test_a_token_logged_out_before_redis_went_down_stays_refused(
    api_client, client, customer, access_token_for, take_redis_down
):
    logged_out, other_session = access_token_for(customer), access_token_for(customer)
    assert api_client.post(LOGOUT, HTTP_AUTHORIZATION=f"Bearer {logged_out}").status_code == 204

    take_redis_down()

    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {logged_out}").status_code == 401
    assert api_client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {logged_out}").status_code == 401
    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {other_session}").status_code == 204


def test_a_logout_while_redis_is_down_fails_and_leaves_no_half_revocation(
    customer, access_token_for, take_redis_down
):
    claims = verify_access_token(access_token_for(customer))
    take_redis_down()

    with pytest.raises((ConnectionInterrupted, RedisError)):
        access_token_denylist_add(jti=claims.jti, exp=claims.exp)

    assert not RevokedAccessToken.objects.exists()


def test_revoked_access_tokens_are_forgotten_once_expired(customer, access_token_for):
    RevokedAccessToken.objects.create(jti="long-expired", expires_at=timezone.now() - timedelta(seconds=1))
    claims = verify_access_token(access_token_for(customer))

    access_token_denylist_add(jti=claims.jti, exp=claims.exp)

    assert list(RevokedAccessToken.objects.values_list("jti", flat=True)) == [claims.jti]


def test_with_redis_and_the_database_out_of_reach_the_check_answers_503_json(
    client, customer, access_token_for, take_redis_down, monkeypatch
):
    token = access_token_for(customer)
    take_redis_down()

    def database_down(claims: object) -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr("accounts.selectors.token_state_get", database_down)

    response = client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 503
    assert response.json() == {"detail": TOKEN_STATE_UNAVAILABLE}
    assert response["Retry-After"] == str(TOKEN_STATE_RETRY_AFTER_SECONDS)
