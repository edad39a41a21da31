"""Failed password checks meet growing delays per account and address, and per address, never a
lockout of the account: its owner at another address logs in at once."""

import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from accounts.errors import LoginDelayed
from accounts.services import login_attempt
from accounts.throttling import login_attempt_count
from tests.factories import PASSWORD

LOGIN = "/login/"
TOKEN = "/api/auth/token/"
PASSWORD_CHANGE = "/api/auth/password/change/"
STRANGER = "203.0.113.7"
OWNER = "198.51.100.20"


@pytest.fixture(autouse=True)
def _few_free_failures(settings) -> None:
    settings.LOGIN_FREE_FAILURES_PER_ACCOUNT = 3
    settings.LOGIN_FREE_FAILURES_PER_CLIENT = 10
    settings.LOGIN_FIRST_DELAY_SECONDS = 1


def _token(api_client, email: str, password: str, client: str = STRANGER):
    # The Django test client comes from 127.0.0.1, a gateway address: X-Real-IP names the client.
    return api_client.post(
        TOKEN, {"email": email, "password": password}, format="json", HTTP_X_REAL_IP=client
    )


def _login_page(client, email: str, password: str, address: str = STRANGER):
    return client.post(LOGIN, {"username": email, "password": password}, HTTP_X_REAL_IP=address)


def test_guesses_from_one_address_meet_growing_delays_answered_with_429_and_retry_after(api_client, customer):
    for _ in range(3):
        assert _token(api_client, customer.email, "wrong").status_code == 401

    first = _token(api_client, customer.email, "wrong")
    right_password_too_soon = _token(api_client, customer.email, PASSWORD)
    time.sleep(int(first["Retry-After"]) + 0.1)
    second = _token(api_client, customer.email, "wrong")

    assert first.status_code == 429
    assert first.json() == {
        "code": LoginDelayed.code,
        "detail": LoginDelayed.message.format(seconds=1),
        "retry_after": 1,
    }
    assert first["Retry-After"] == "1"
    assert right_password_too_soon.status_code == 429
    assert "access" not in right_password_too_soon.json()
    assert second.status_code == 429
    assert second["Retry-After"] == "2"


def test_the_owner_logs_in_at_once_from_another_address_while_a_stranger_is_delayed(api_client, customer):
    for _ in range(4):
        _token(api_client, customer.email, "wrong", client=STRANGER)

    owner = _token(api_client, customer.email, PASSWORD, client=OWNER)
    stranger = _token(api_client, customer.email, PASSWORD, client=STRANGER)

    assert owner.status_code == 200
    assert stranger.status_code == 429


def test_the_login_page_the_token_endpoint_and_password_change_share_one_count(
    client, api_client, customer, access_token_for
):
    assert _login_page(client, customer.email, "wrong").status_code == 200
    assert _token(api_client, customer.email, "wrong").status_code == 401
    wrong_old_password = api_client.post(
        PASSWORD_CHANGE,
        {"old_password": "wrong", "new_password": "a-brand-new-passphrase-42"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access_token_for(customer)}",
        HTTP_X_REAL_IP=STRANGER,
    )
    assert wrong_old_password.status_code == 400

    page = _login_page(client, customer.email, "wrong")

    assert page.status_code == 429
    assert page["Retry-After"] == "1"
    assert page.context["form"].non_field_errors() == [LoginDelayed.message.format(seconds=1)]
    assert "access_token" not in page.cookies
    assert _token(api_client, customer.email, PASSWORD).status_code == 429


def test_a_wrong_old_password_past_the_free_failures_is_429(api_client, customer, access_token_for):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {access_token_for(customer)}", "HTTP_X_REAL_IP": STRANGER}
    body = {"old_password": "wrong", "new_password": "a-brand-new-passphrase-42"}
    for _ in range(3):
        assert api_client.post(PASSWORD_CHANGE, body, format="json", **headers).status_code == 400

    delayed = api_client.post(PASSWORD_CHANGE, body, format="json", **headers)
    right_too_soon = api_client.post(
        PASSWORD_CHANGE, {**body, "old_password": PASSWORD}, format="json", **headers
    )

    assert delayed.status_code == 429
    assert delayed.json()["code"] == LoginDelayed.code
    assert delayed["Retry-After"] == "1"
    assert right_too_soon.status_code == 429


def test_guessing_many_accounts_from_one_address_meets_delays_too(api_client, customer):
    for number in range(10):
        assert _token(api_client, f"nobody-{number}@example.com", "wrong").status_code == 401

    sprayed = _token(api_client, customer.email, "wrong")
    from_elsewhere = _token(api_client, customer.email, PASSWORD, client=OWNER)

    assert sprayed.status_code == 429
    assert from_elsewhere.status_code == 200


def test_a_login_forgets_the_accounts_failures_at_that_address(api_client, customer):
    for _ in range(3):
        _token(api_client, customer.email, "wrong")
    assert _token(api_client, customer.email, PASSWORD).status_code == 200

    for _ in range(3):
        assert _token(api_client, customer.email, "wrong").status_code == 401
    assert _token(api_client, customer.email, PASSWORD).status_code == 200


def test_an_x_real_ip_from_anyone_but_the_gateway_does_not_escape_the_count(api_client, customer):
    for number in range(4):
        # Straight to the service from elsewhere, with a new made-up address each time.
        response = api_client.post(
            TOKEN,
            {"email": customer.email, "password": "wrong"},
            format="json",
            REMOTE_ADDR="192.0.2.50",
            HTTP_X_REAL_IP=f"10.0.0.{number}",
        )

    assert response.status_code == 429


def test_the_addresses_of_one_ipv6_network_count_as_one_client(api_client, customer):
    # One host holds a whole /64: a new address for each guess changes nothing.
    answers = [
        _token(api_client, customer.email, "wrong", client=f"2001:db8:1:2::{number}") for number in range(4)
    ]

    assert [answer.status_code for answer in answers] == [401, 401, 401, 429]
    assert _token(api_client, customer.email, PASSWORD, client="2001:db8:1:3::1").status_code == 200


def test_a_delayed_attempt_is_refused_before_its_password_is_checked(db):
    for _ in range(4):
        with (
            pytest.raises((ValueError, LoginDelayed)),
            login_attempt(email="Someone@Example.com ", client=STRANGER, failure=ValueError),
        ):
            raise ValueError("wrong password")
    checked = []

    with (
        pytest.raises(LoginDelayed),
        login_attempt(email="someone@example.com", client=STRANGER, failure=ValueError),
    ):
        checked.append("password")

    assert checked == []


def test_guesses_sent_all_at_once_are_each_counted(db):
    with ThreadPoolExecutor(max_workers=10) as pool:
        attempts = list(
            pool.map(lambda _: login_attempt_count(email="a@example.com", client=STRANGER), range(30))
        )

    # Three free failures, then the fourth attempt, which sets the first delay; the rest wait.
    assert sum(attempt.allowed for attempt in attempts) == 4


def test_with_redis_out_of_reach_nothing_is_counted_and_logins_go_on(
    api_client, customer, abuse_counts_out_of_reach
):
    for _ in range(5):
        assert _token(api_client, customer.email, "wrong").status_code == 401

    assert _token(api_client, customer.email, PASSWORD).status_code == 200
