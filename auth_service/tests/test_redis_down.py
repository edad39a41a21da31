"""With Redis out of reach: logins go on, and a revocation fails loudly instead of being lost."""

import pytest
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from accounts.models import User
from accounts.services import user_access_set
from edge.grants import StaffActor
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
        "default": {
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
