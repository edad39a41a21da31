"""A token whose revocation cannot be checked is never accepted: with the user's standing lost
from Redis, or Redis stopped, every service asks auth (which holds both in its database) or
refuses, at the gateway and at each service reached directly."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest
import redis

from edge.service_table import SERVICE_NAMES
from tests.support import Account, register

TARGETS = [("gateway", name) for name in SERVICE_NAMES] + [("directly", name) for name in SERVICE_NAMES]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def protected(stack, mail) -> dict[str, str]:
    """A path of each service that reads the caller's token and lets a customer in: the first
    GET of its OpenAPI schema, without parameters, that takes a token (a public read checks
    one that is sent) and answers 200."""
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as gateway:
        probe = register(gateway, mail, full_name="Path Finder")
    paths = {}
    for name in SERVICE_NAMES:
        with httpx.Client(base_url=stack.service_url(name), timeout=15) as client:
            schema = client.get(f"/api/{name}/schema/", params={"format": "json"}).json()
            candidates = [
                path
                for path, operations in sorted(schema["paths"].items())
                if "{" not in path
                and "get" in operations
                and any("bearerAuth" in requirement for requirement in operations["get"].get("security", []))
            ]
            paths[name] = next(
                path for path in candidates if client.get(path, headers=probe.auth).status_code == 200
            )
    return paths


@pytest.fixture
def get(stack, protected) -> Callable[[str, str, str], httpx.Response]:
    """``get(where, service, token)``: the service's protected path, through the gateway or directly."""

    def request(where: str, service: str, token: str) -> httpx.Response:
        base_url = stack.gateway_url if where == "gateway" else stack.service_url(service)
        with httpx.Client(base_url=base_url, timeout=15) as client:
            return client.get(protected[service], headers=_bearer(token))

    return request


def _forget_standing(stack, user_id: int) -> int:
    """Delete the user's standing from Redis, as a flush or an eviction would (the key is the
    ``tokens`` cache's ``user:<id>``, under django-redis' prefix and version); how many keys."""
    client = redis.Redis.from_url(stack.redis.url)
    keys = list(client.scan_iter(match=f"tokens:*:user:{user_id}"))
    return client.delete(*keys) if keys else 0


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
    stack, gateway, get, customer, staff
):
    assert [get(*target, customer.access).status_code for target in TARGETS] == [200] * len(TARGETS)
    deactivated = gateway.patch(f"/api/auth/users/{customer.id}/", json={"is_active": False}, headers=staff)
    assert deactivated.status_code == 200

    answers = {}
    for target in TARGETS:
        # Before each request: auth, asked last, wrote the standing back from its database.
        assert _forget_standing(stack, customer.id) == 1, target
        answers[target] = get(*target, customer.access)

    assert {target: answer.status_code for target, answer in answers.items()} == dict.fromkeys(TARGETS, 401)
    assert all(answer.headers["content-type"] == "application/json" for answer in answers.values())


def test_a_logged_out_token_is_refused_while_redis_is_down_and_a_valid_one_still_works(
    stack, gateway, get, customer
):
    session = _second_session(gateway, customer)
    logout = gateway.post(
        "/api/auth/logout/", json={"refresh": session["refresh"]}, headers=_bearer(session["access"])
    )
    assert logout.status_code == 204

    with _stopped(stack, "redis"):
        logged_out = {target: get(*target, session["access"]).status_code for target in TARGETS}
        valid = {target: get(*target, customer.access).status_code for target in TARGETS}

    assert logged_out == dict.fromkeys(TARGETS, 401)
    assert valid == dict.fromkeys(TARGETS, 200)


@pytest.mark.parametrize("service", [name for name in SERVICE_NAMES if name != "auth"])
def test_with_redis_and_auth_both_down_a_service_answers_503_json_and_accepts_nothing(
    stack, gateway, mail, get, service
):
    account = register(gateway, mail)

    with _stopped(stack, "redis", "auth-web"):
        direct = get("directly", service, account.access)
        through_the_gateway = get("gateway", service, account.access)

    assert direct.status_code == 503
    assert direct.json()["detail"].startswith("Whether the token is still valid cannot be checked")
    assert int(direct.headers["Retry-After"]) > 0
    assert through_the_gateway.status_code in (502, 503)
    assert through_the_gateway.headers["content-type"] == "application/json"


@contextmanager
def _auths_revoked_tokens_unreadable(stack) -> Iterator[None]:
    """auth's database cannot answer the token check (as when it is down), for this check alone."""
    with psycopg.connect(stack.service_env["auth"]["DATABASE_URL"], autocommit=True) as connection:
        connection.execute(
            "ALTER TABLE accounts_revokedaccesstoken RENAME TO accounts_revokedaccesstoken_away"
        )
        try:
            yield
        finally:
            connection.execute(
                "ALTER TABLE accounts_revokedaccesstoken_away RENAME TO accounts_revokedaccesstoken"
            )


def test_when_neither_redis_nor_auths_database_can_answer_everyone_refuses_with_503_json(
    stack, gateway, mail, get
):
    account = register(gateway, mail)

    answers = {}
    with _auths_revoked_tokens_unreadable(stack):
        for target in TARGETS:
            _forget_standing(stack, account.id)
            answers[target] = get(*target, account.access)

    assert {target: answer.status_code for target, answer in answers.items()} == dict.fromkeys(TARGETS, 503)
    assert all(answer.headers["content-type"] == "application/json" for answer in answers.values())
    assert all(answer.headers["Retry-After"] == "5" for answer in answers.values())
    assert all("cannot be checked right now" in answer.json()["detail"] for answer in answers.values())
    assert get("gateway", "orders", account.access).status_code == 200
