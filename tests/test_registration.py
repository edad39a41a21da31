"""Registration is safe to expose: it tells nobody which addresses have accounts, floods no inbox,
puts nothing a registrant typed into an email to an address that has not confirmed it, and an
account places orders only once its address is confirmed. Each is attacked through the gateway
and, where it applies, at the service directly."""

import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import httpx

from tests.support import (
    CONFIRMATION_LINK,
    CONFIRMATION_SUBJECT,
    CUSTOMER_PASSWORD,
    confirm_email,
    create_orderable_product,
    eventually,
    log_in_api,
    outbox_payloads,
    place_order,
    register,
    sign_up,
    text_of,
)

REGISTER = "/api/auth/register/"
RESET = "/api/auth/password/reset/"
# What a stranger types when registering someone else's address, hoping it reaches their inbox.
BAIT = "Claim your prize at http://evil.example"
ALREADY_REGISTERED_SUBJECT = "Someone tried to register"
RESET_LINK = re.compile(r"/password-reset/(?P<uid>[\w-]+)/(?P<token>[\w-]+)/")
# The email the auth service sends out, per address: the events it emitted.
ACCOUNT_EMAIL_EVENTS = (
    "user.email_confirmation_requested",
    "user.email_already_registered",
    "user.password_reset_requested",
)


def _registration(email: str) -> dict[str, str]:
    return {"email": email, "password": CUSTOMER_PASSWORD, "full_name": BAIT}


def _headers_that_matter(response: httpx.Response) -> dict[str, str]:
    """Every header but those that differ for any two requests."""
    return {name: value for name, value in response.headers.items() if name not in ("date", "x-request-id")}


def _account_emails_sent(stack, email: str) -> int:
    return sum(
        payload["email"] == email
        for event_type in ACCOUNT_EMAIL_EVENTS
        for payload in outbox_payloads(stack, "auth", event_type)
    )


def test_a_taken_address_answers_exactly_as_a_new_one_and_its_owner_gets_no_stranger_s_text(
    gateway, mail, customer
):
    new_email = f"new-{uuid.uuid4().hex[:10]}@example.com"

    new = gateway.post(REGISTER, json=_registration(new_email))
    taken = gateway.post(REGISTER, json=_registration(customer.email.upper()))

    assert new.status_code == taken.status_code == 202
    assert new.content == taken.content
    assert _headers_that_matter(new) == _headers_that_matter(taken)
    # The new address gets its link, the owner of the taken one a warning with a reset link:
    # neither email holds what the registrant typed.
    confirmation = mail.wait_for(new_email, CONFIRMATION_SUBJECT)
    warning = mail.wait_for(customer.email, ALREADY_REGISTERED_SUBJECT)
    for email in (confirmation, warning):
        assert BAIT not in text_of(email) + str(email["Subject"])
        assert "evil.example" not in email.as_string()
    reset = RESET_LINK.search(text_of(warning))
    assert reset, text_of(warning)
    chosen = gateway.post(
        "/api/auth/password/reset/confirm/",
        json={**reset.groupdict(), "new_password": "a-brand-new-passphrase"},
    )
    assert chosen.status_code == 204, chosen.text


def test_an_unconfirmed_account_logs_in_but_orders_nothing_until_its_address_is_confirmed(
    stack, gateway, mail, staff
):
    product = create_orderable_product(gateway, staff, stack, on_hand=5, price="3.00")
    email = sign_up(gateway)
    tokens = gateway.post("/api/auth/token/", json={"email": email, "password": CUSTOMER_PASSWORD})
    assert tokens.status_code == 200, tokens.text
    unconfirmed = log_in_api(gateway, email)

    through_the_gateway = place_order(gateway, unconfirmed, [(product["id"], 1)])
    with httpx.Client(base_url=stack.service_url("orders"), timeout=15) as orders_directly:
        directly = place_order(orders_directly, unconfirmed, [(product["id"], 1)])

    for refused in (through_the_gateway, directly):
        assert refused.status_code == 403, refused.text
        assert refused.headers["content-type"] == "application/json"
        assert refused.json()["code"] == "email_not_confirmed"
    assert gateway.get("/api/orders/", headers=unconfirmed.auth).json()["count"] == 0

    confirm_email(gateway, mail, email)

    # A token issued before the confirmation still says unconfirmed; a refreshed one says confirmed.
    assert place_order(gateway, unconfirmed, [(product["id"], 1)]).status_code == 403
    refreshed = gateway.post("/api/auth/token/refresh/", json={"refresh": tokens.json()["refresh"]})
    assert refreshed.status_code == 200, refreshed.text
    confirmed = replace(unconfirmed, access=refreshed.json()["access"])
    placed = place_order(gateway, confirmed, [(product["id"], 1)])
    assert placed.status_code == 201, placed.text


def test_an_address_gets_at_most_three_account_emails_an_hour_whichever_way_it_is_asked(stack, gateway, mail):
    email = sign_up(gateway)  # the first: its confirmation

    with httpx.Client(base_url=stack.service_url("auth"), timeout=15) as auth_directly:
        answers = [
            gateway.post(REGISTER, json=_registration(email)),
            auth_directly.post(REGISTER, json=_registration(email)),
            gateway.post(RESET, json={"email": email}),
            auth_directly.post(RESET, json={"email": email}),
            gateway.post(REGISTER, json=_registration(email)),
            auth_directly.post(REGISTER, json=_registration(email)),
        ]

    assert [answer.status_code for answer in answers] == [202] * len(answers)
    assert len({answer.content for answer in answers if REGISTER in str(answer.url)}) == 1
    # auth emitted three emails' events for the address, and no more: nothing else can be sent.
    assert _account_emails_sent(stack, email) == 3
    eventually(lambda: len(mail.to(email)) == 3)
    assert len(mail.to(email, CONFIRMATION_SUBJECT)) == 1
    assert len(mail.to(email, ALREADY_REGISTERED_SUBJECT)) == 2


def test_the_emailed_link_opens_a_page_whose_button_confirms_and_no_log_keeps_its_token(stack, browser, mail):
    email = sign_up(browser)
    link = CONFIRMATION_LINK.search(text_of(mail.wait_for(email, CONFIRMATION_SUBJECT)))

    page = browser.get(link.group(0))
    assert page.status_code == 200
    assert "Confirm my email address" in page.text
    assert not mail.to(email, "Welcome")
    confirmed = browser.post(
        link.group(0),
        data={"csrfmiddlewaretoken": browser.cookies["auth_csrftoken"]},
        headers={"Referer": str(page.url), "Origin": str(browser.base_url).rstrip("/")},
    )

    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == "/register/confirmed/"
    assert mail.wait_for(email, "Welcome to Commerce")
    logs = "".join(path.read_text() for path in stack.logs.glob("*.log"))
    assert link["token"] not in logs


def test_a_burst_of_registrations_from_one_client_gets_429_json_and_others_still_register(
    stack, gateway, mail
):
    def attempt(_: int) -> httpx.Response:
        # From an address of its own (any 127.x reaches the gateway): its bucket is its own.
        transport = httpx.HTTPTransport(local_address="127.0.0.2")
        with httpx.Client(base_url=stack.gateway_url, transport=transport, timeout=15) as client:
            return client.post(REGISTER, json={})

    with ThreadPoolExecutor(max_workers=30) as pool:
        responses = list(pool.map(attempt, range(30)))

    limited = [response for response in responses if response.status_code == 429]
    assert limited
    assert {response.status_code for response in responses} == {400, 429}
    assert limited[0].headers["content-type"] == "application/json"
    assert limited[0].json()["status"] == 429
    # The limit is per client: another one registers meanwhile.
    assert register(gateway, mail).access
