"""A token whose revocation cannot be checked is never accepted: with the user's standing lost
from Redis, or Redis stopped, every service asks auth (which holds both in its database) or
refuses, at the gateway and at each service reached directly."""

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import redis

from edge.service_table import SERVICE_NAMES
from tests.support import Account, register

# A path of each service that reads the caller's token (catalog's reads are public, but a
# token sent along is still checked).
PROTECTED = {
    "auth": "/api/auth/me/",
    "catalog": "/api/catalog/products/",
    "orders": "/api/orders/",
    "notify": "/api/notify/notifications/",
}
TARGETS = [("gateway", name) for name in SERVICE_NAMES] + [("directly", name) for name in SERVICE_NAMES]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _get(stack, where: str, service: str, token: str) -> httpx.Response:
    base_url = stack.gateway_url if where == "gateway" else stack.service_url(service)
    with httpx.Client(base_url=base_url, timeout=15) as client:
        return client.get(PROTECTED[service], headers=_bearer(token))


def _forget_standing(stack, user_id: int) -> None:
    """Delete the user's standing from Redis, as a flush or an eviction would (the key is the
    ``tokens`` cache's ``user:<id>``, under django-redis' prefix and version)."""
    client = redis.Redis.from_url(stack.redis.url)
    keys = list(client.scan_iter(match=f"tokens:*:user:{user_id}"))
    assert keys, "auth wrote no standing for the user"
    client.delete(*keys)


@contextmanager
def _stopped(stack, *processes: str) -> Iterator[None]:
    for process in processes:
        stack.stop_process(process)
    try:
        yield
    finally:
        for process in reversed(processes):
            stack.start_process(process)


def _second_session(gateway: httpx.Client, account: Account) -> dict:
    answer = gateway.post("/api/auth/token/", json={"email": account.email, "password": account.password})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_deactivated_users_token_is_refused_after_redis_lost_their_standing(
    stack, gateway, customer, staff
):
    assert [_get(stack, *target, customer.access).status_code for target in TARGETS] == [200] * len(TARGETS)
    deactivated = gateway.patch(f"/api/auth/users/{customer.id}/", json={"is_active": False}, headers=staff)
    assert deactivated.status_code == 200

    answers = {}
    for target in TARGETS:
        # Before each request: whoever checked last (auth) wrote the standing back.
        _forget_standing(stack, customer.id)
        answers[target] = _get(stack, *target, customer.access)

    assert {target: answer.status_code for target, answer in answers.items()} == dict.fromkeys(TARGETS, 401)
    assert all(answer.headers["content-type"] == "application/json" for answer in answers.values())


def test_a_logged_out_token_is_refused_while_redis_is_down_and_a_valid_one_still_works(
    stack, gateway, customer
):
    session = _second_session(gateway, customer)
    logout = gateway.post(
        "/api/auth/logout/", json={"refresh": session["refresh"]}, headers=_bearer(session["access"])
    )
    assert logout.status_code == 204

    with _stopped(stack, "redis"):
        logged_out = {target: _get(stack, *target, session["access"]).status_code for target in TARGETS}
        valid = {target: _get(stack, *target, customer.access).status_code for target in TARGETS}

    assert logged_out == dict.fromkeys(TARGETS, 401)
    assert valid == dict.fromkeys(TARGETS, 200)


@pytest.mark.parametrize("service", [name for name in SERVICE_NAMES if name != "auth"])
def test_with_redis_and_auth_both_down_a_service_answers_503_json_and_accepts_nothing(
    stack, gateway, service
):
    account = register(gateway)

    with _stopped(stack, "redis", "auth-web"):
        direct = _get(stack, "directly", service, account.access)
        through_the_gateway = _get(stack, "gateway", service, account.access)

    assert direct.status_code == 503
    assert direct.json()["detail"].startswith("Whether the token is still valid cannot be checked")
    assert int(direct.headers["Retry-After"]) > 0
    assert through_the_gateway.status_code in (502, 503)
    assert through_the_gateway.headers["content-type"] == "application/json"
