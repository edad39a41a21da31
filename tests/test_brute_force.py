"""Password guessing through the gateway, and straight at auth: growing delays per account and
client address, per address over every account, never a lockout that keeps the owner out.

The stack trusts 127.0.0.1 as a proxy (conftest.py): a test's X-Forwarded-For is its client's
address, a fresh one each test. A connection from 127.0.0.2 is a client nobody trusts.
"""

import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support import (
    LOGIN_FIRST_DELAY_SECONDS,
    LOGIN_FREE_FAILURES_PER_CLIENT,
    Account,
    client_at,
    log_in,
    new_client_address,
)

TOKEN = "/api/auth/token/"
PASSWORD_CHANGE = "/api/auth/password/change/"
# auth's LOGIN_FREE_FAILURES_PER_ACCOUNT, as it comes.
FREE_FAILURES = 5
UNTRUSTED = "127.0.0.2"


@pytest.fixture
def attacker(stack) -> Iterator[httpx.Client]:
    with client_at(stack.gateway_url, new_client_address()) as client:
        yield client


def _guess(client: httpx.Client, email: str, password: str = "wrong-guess") -> httpx.Response:
    return client.post(TOKEN, json={"email": email, "password": password})


def _fail_freely(client: httpx.Client, email: str) -> None:
    for _ in range(FREE_FAILURES):
        assert _guess(client, email).status_code == 401


def test_guesses_at_one_account_from_one_address_meet_growing_delays(attacker, customer: Account):
    _fail_freely(attacker, customer.email)

    first = _guess(attacker, customer.email)
    right_password_too_soon = _guess(attacker, customer.email, customer.password)
    time.sleep(int(first.headers["Retry-After"]))
    second = _guess(attacker, customer.email)

    assert first.status_code == 429, first.text
    assert first.json()["code"] == "login_delayed"
    assert first.json()["retry_after"] == LOGIN_FIRST_DELAY_SECONDS
    assert first.headers["Retry-After"] == str(LOGIN_FIRST_DELAY_SECONDS)
    assert right_password_too_soon.status_code == 429
    assert "access" not in right_password_too_soon.json()
    assert second.status_code == 429
    assert second.headers["Retry-After"] == str(2 * LOGIN_FIRST_DELAY_SECONDS)


def test_the_owner_logs_in_at_once_from_another_address_while_a_stranger_waits(stack, attacker, customer):
    _fail_freely(attacker, customer.email)
    assert _guess(attacker, customer.email).status_code == 429

    with client_at(stack.gateway_url, new_client_address()) as owner:
        response = _guess(owner, customer.email, customer.password)

    assert response.status_code == 200
    assert response.json()["access"]
    assert _guess(attacker, customer.email, customer.password).status_code == 429


def test_the_login_page_the_token_endpoint_and_password_change_share_one_count(attacker, customer):
    for _ in range(2):
        page = log_in(attacker, customer.email, "wrong-guess")
        assert page.status_code == 200
        assert "access_token" not in attacker.cookies
    for _ in range(2):
        assert _guess(attacker, customer.email).status_code == 401
    wrong_old = attacker.post(
        PASSWORD_CHANGE,
        json={"old_password": "wrong-guess", "new_password": "a-brand-new-passphrase-42"},
        headers=customer.auth,
    )
    assert wrong_old.status_code == 400

    page = log_in(attacker, customer.email, "wrong-guess")
    token = _guess(attacker, customer.email, customer.password)
    change = attacker.post(
        PASSWORD_CHANGE,
        json={"old_password": customer.password, "new_password": "a-brand-new-passphrase-42"},
        headers=customer.auth,
    )

    assert page.status_code == 429
    assert page.headers["Retry-After"] == str(LOGIN_FIRST_DELAY_SECONDS)
    assert "Too many failed logins" in page.text
    assert (token.status_code, token.json()["code"]) == (429, "login_delayed")
    assert (change.status_code, change.json()["code"]) == (429, "login_delayed")


def test_guessing_many_accounts_from_one_address_meets_delays_but_not_the_owner(stack, customer):
    """Password spraying: LOGIN_FREE_FAILURES_PER_CLIENT failures over every account."""
    with client_at(stack.gateway_url, new_client_address()) as sprayer:
        answers = []
        for number in range(LOGIN_FREE_FAILURES_PER_CLIENT + 1):
            answers.append(_guess(sprayer, f"sprayed-{number}-{secrets.token_hex(4)}@example.com"))
            # Slower than the gateway's limit per address (5 a second), which is not the point here.
            time.sleep(0.25)
        sprayed = _guess(sprayer, customer.email, customer.password)

    with client_at(stack.gateway_url, new_client_address()) as owner:
        assert _guess(owner, customer.email, customer.password).status_code == 200
    assert [answer.status_code for answer in answers] == [401] * LOGIN_FREE_FAILURES_PER_CLIENT + [429]
    assert answers[-1].json()["code"] == "login_delayed"
    assert sprayed.status_code == 429


def test_an_untrusted_clients_x_forwarded_for_does_not_escape_the_count(stack, customer):
    with client_at(stack.gateway_url, local_address=UNTRUSTED) as spoofer:
        answers = [
            spoofer.post(
                TOKEN,
                json={"email": customer.email, "password": "wrong-guess"},
                headers={"X-Forwarded-For": new_client_address(), "X-Real-IP": new_client_address()},
            ).status_code
            for _ in range(FREE_FAILURES + 1)
        ]

    assert answers == [401] * FREE_FAILURES + [429]


def test_guesses_straight_at_auth_are_counted_whatever_x_real_ip_they_send(stack, customer):
    """auth believes X-Real-IP from the gateway alone (GATEWAY_ADDRESSES): not from 127.0.0.2."""
    with client_at(stack.service_url("auth"), local_address=UNTRUSTED) as direct:
        answers = [
            direct.post(
                TOKEN,
                json={"email": customer.email, "password": "wrong-guess"},
                headers={"X-Real-IP": new_client_address()},
            ).status_code
            for _ in range(FREE_FAILURES + 1)
        ]

    assert answers == [401] * FREE_FAILURES + [429]


def test_a_burst_from_one_address_gets_the_gateways_429_json_and_another_address_does_not(stack):
    """The gateway's limit (5 a second, a burst of 10) is per client address as it resolved it.
    Empty bodies: auth refuses them at once (400) without checking any password."""

    def post_empty(client: httpx.Client) -> httpx.Response:
        return client.post(TOKEN, json={})

    limited = None
    with (
        client_at(stack.gateway_url, new_client_address()) as burst,
        ThreadPoolExecutor(max_workers=20) as pool,
    ):
        for _ in range(10):
            answers = list(pool.map(lambda _: post_empty(burst), range(20)))
            limited = next((answer for answer in answers if answer.status_code == 429), None)
            if limited:
                break
        with client_at(stack.gateway_url, new_client_address()) as other:
            elsewhere = post_empty(other)

    assert limited is not None, "200 requests, 20 at once, never met the gateway's limit"
    assert limited.headers["content-type"] == "application/json"
    assert limited.json()["status"] == 429
    assert limited.headers["Retry-After"]
    assert elsewhere.status_code == 400
