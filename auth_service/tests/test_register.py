"""Registration: the same answer for a new address and a taken one, a confirmation link before
anything the registrant typed reaches the address, and a cap on the emails an address gets."""

import json
import logging
import re
from datetime import datetime, timedelta

from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.api.serializers import INVALID_CONFIRMATION_LINK
from accounts.models import User
from accounts.services import token_pair_issue, user_create
from accounts.tokens import EmailConfirmationTokenGenerator, email_confirmation_token_generator
from edge.events import (
    EmailAlreadyRegistered,
    EmailConfirmationRequested,
    PasswordResetRequested,
    UserRegistered,
    event_from_message,
)
from edge.messaging.models import OutboxMessage
from edge.tokens import verify_access_token
from tests.factories import UserFactory

REGISTER = "/api/auth/register/"
CONFIRM = "/api/auth/register/confirm/"
RESET = "/api/auth/password/reset/"
RESET_CONFIRM = "/api/auth/password/reset/confirm/"
PASSWORD = "a-long-enough-secret"
NEW_PASSWORD = "an-entirely-new-passphrase"
# What a registrant may type that must not reach an address whose owner has not confirmed it.
BAIT = "Visit http://evil.example now"


def _register(api_client, email: str, **extra: str):
    return api_client.post(REGISTER, {"email": email, "password": PASSWORD, **extra}, format="json")


def _events(event_class) -> list:
    return [
        event_from_message(message.payload)
        for message in OutboxMessage.objects.filter(event_type=event_class.type).order_by("created_at")
    ]


def _confirmation_link(user: User) -> dict:
    return {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": email_confirmation_token_generator.make_token(user),
    }


def test_a_new_address_gets_an_unconfirmed_account_and_a_confirmation_link_only(api_client, db, settings):
    response = _register(api_client, "New@Example.com", full_name=BAIT)

    assert response.status_code == 202
    user = User.objects.get(email="New@example.com")
    assert user.check_password(PASSWORD)
    assert user.full_name == BAIT
    assert not user.email_confirmed
    (event,) = _events(EmailConfirmationRequested)
    assert (event.user_id, event.email) == (user.pk, "New@example.com")
    assert re.fullmatch(
        rf"{re.escape(settings.PUBLIC_BASE_URL)}/register/confirm/[\w-]+/[\w-]+/", event.confirm_url
    )
    payload = OutboxMessage.objects.get().payload
    # The link travels sealed, and nothing the registrant typed travels at all.
    assert "register/confirm" not in json.dumps(payload)
    assert BAIT not in json.dumps(payload)
    assert not _events(UserRegistered)


def test_a_taken_address_answers_the_same_and_its_owner_gets_a_reset_link(api_client, customer):
    new = _register(api_client, "someone-new@example.com")
    OutboxMessage.objects.all().delete()

    taken = _register(api_client, customer.email.upper(), full_name=BAIT)

    assert (taken.status_code, taken.json()) == (new.status_code, new.json())
    assert sorted(taken.headers) == sorted(new.headers)
    assert User.objects.filter(email__iexact=customer.email).count() == 1
    customer.refresh_from_db()
    assert customer.full_name != BAIT
    (event,) = _events(EmailAlreadyRegistered)
    assert (event.user_id, event.email) == (customer.pk, customer.email)
    assert "/password-reset/" in event.reset_url
    assert BAIT not in json.dumps(OutboxMessage.objects.get().payload)
    assert not _events(EmailConfirmationRequested)


def test_a_taken_address_costs_a_password_hash_too(api_client, customer, monkeypatch):
    hashed = []
    monkeypatch.setattr("accounts.services.make_password", lambda password: hashed.append(password))

    _register(api_client, customer.email)

    assert hashed == [PASSWORD]


def test_a_deactivated_account_s_address_answers_the_same_and_sends_nothing(api_client, db):
    UserFactory(email="gone@example.com", is_active=False)

    response = _register(api_client, "gone@example.com")

    assert response.status_code == 202
    assert not OutboxMessage.objects.exists()


def test_invalid_input_is_400_per_field_whoever_holds_the_address(api_client, customer):
    malformed = api_client.post(REGISTER, {"email": "not-an-email", "password": PASSWORD}, format="json")
    weak_new = api_client.post(REGISTER, {"email": "weak@example.com", "password": "12345678"}, format="json")
    weak_taken = api_client.post(REGISTER, {"email": customer.email, "password": "12345678"}, format="json")

    assert malformed.status_code == 400
    assert list(malformed.json()) == ["email"]
    assert (weak_new.status_code, weak_new.json()) == (weak_taken.status_code, weak_taken.json())
    assert any("too common" in reason for reason in weak_new.json()["password"])
    assert not User.objects.filter(email="weak@example.com").exists()
    assert not OutboxMessage.objects.exists()


def test_registering_with_no_body_lists_the_required_fields(api_client, db):
    response = api_client.post(REGISTER, "not json", content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json()


def test_confirming_marks_the_address_and_only_then_sends_the_welcome_with_the_name(api_client, db):
    _register(api_client, "ann@example.com", full_name="Ann Smith")
    user = User.objects.get(email="ann@example.com")

    response = api_client.post(CONFIRM, _confirmation_link(user), format="json")

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.email_confirmed
    (welcome,) = _events(UserRegistered)
    assert (welcome.user_id, welcome.email, welcome.full_name) == (user.pk, "ann@example.com", "Ann Smith")


def test_a_confirmation_link_works_once(api_client, db):
    _register(api_client, "ann@example.com")
    link = _confirmation_link(User.objects.get())
    api_client.post(CONFIRM, link, format="json")

    again = api_client.post(CONFIRM, link, format="json")

    assert again.status_code == 400
    assert again.json()["token"] == [INVALID_CONFIRMATION_LINK]
    assert len(_events(UserRegistered)) == 1


class _TokensMadeAnHourAgo(EmailConfirmationTokenGenerator):
    def _now(self) -> datetime:
        return datetime.now() - timedelta(hours=1, seconds=1)


def test_a_confirmation_link_dies_after_an_hour(api_client, db):
    _register(api_client, "ann@example.com")
    user = User.objects.get()
    link = {**_confirmation_link(user), "token": _TokensMadeAnHourAgo().make_token(user)}

    response = api_client.post(CONFIRM, link, format="json")

    assert response.status_code == 400
    user.refresh_from_db()
    assert not user.email_confirmed


def test_a_confirmation_link_still_works_after_the_new_account_logged_in(api_client, db):
    _register(api_client, "ann@example.com")
    user = User.objects.get()
    link = _confirmation_link(user)
    logged_in = api_client.post(
        "/api/auth/token/", {"email": "ann@example.com", "password": PASSWORD}, format="json"
    )
    assert logged_in.status_code == 200

    response = api_client.post(CONFIRM, link, format="json")

    assert response.status_code == 204


def test_a_password_reset_token_does_not_confirm_an_address(api_client, db):
    _register(api_client, "ann@example.com")
    user = User.objects.get()
    link = {**_confirmation_link(user), "token": default_token_generator.make_token(user)}

    response = api_client.post(CONFIRM, link, format="json")

    assert response.status_code == 400
    user.refresh_from_db()
    assert not user.email_confirmed


def test_the_access_token_says_whether_the_address_is_confirmed(api_client, db, key_dir):
    _register(api_client, "ann@example.com")
    user = User.objects.get()
    before = verify_access_token(str(token_pair_issue(user=user).access))
    api_client.post(CONFIRM, _confirmation_link(user), format="json")
    user.refresh_from_db()

    after = verify_access_token(str(token_pair_issue(user=user).access))

    assert (before.email_verified, after.email_verified) == (False, True)


def test_the_confirmation_page_confirms_only_on_its_button(client, db):
    _register(client, "ann@example.com")
    user = User.objects.get()
    link = _confirmation_link(user)
    page = f"/register/confirm/{link['uid']}/{link['token']}/"

    shown = client.get(page)
    user.refresh_from_db()
    assert shown.status_code == 200
    assert "Confirm my email address" in shown.content.decode()
    assert not user.email_confirmed

    confirmed = client.post(page)

    assert confirmed.status_code == 303
    assert confirmed["Location"] == "/register/confirmed/"
    user.refresh_from_db()
    assert user.email_confirmed
    assert "is confirmed" in client.get(confirmed["Location"]).content.decode()
    assert client.post(page).status_code == 400


def test_the_request_log_keeps_no_confirmation_token(client, db, caplog):
    _register(client, "ann@example.com")
    link = _confirmation_link(User.objects.get())

    with caplog.at_level(logging.INFO, logger="edge.request"):
        client.get(f"/register/confirm/{link['uid']}/{link['token']}/")

    logged = [record for record in caplog.records if record.name == "edge.request"][-1]
    assert logged.path == f"/register/confirm/{link['uid']}/[redacted]/"


def test_a_password_reset_confirms_the_address_without_a_welcome(api_client, db):
    _register(api_client, "ann@example.com", full_name=BAIT)
    user = User.objects.get()
    link = {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }

    response = api_client.post(RESET_CONFIRM, {**link, "new_password": NEW_PASSWORD}, format="json")

    assert response.status_code == 204
    user.refresh_from_db()
    assert user.email_confirmed
    assert not _events(UserRegistered)


def test_an_address_gets_at_most_the_stated_number_of_emails_an_hour(api_client, customer, settings):
    settings.ACCOUNT_EMAILS_PER_ADDRESS_PER_HOUR = 3

    answers = [_register(api_client, customer.email) for _ in range(2)]
    answers += [api_client.post(RESET, {"email": customer.email}, format="json") for _ in range(3)]
    answers.append(_register(api_client, customer.email))

    assert {answer.status_code for answer in answers} == {202}
    assert len(_events(EmailAlreadyRegistered)) == 2
    assert len(_events(PasswordResetRequested)) == 1
    # Another address has its own emails.
    _register(api_client, "other@example.com")
    assert len(_events(EmailConfirmationRequested)) == 1


def test_with_the_cache_out_of_reach_the_cap_pauses_and_registration_goes_on(
    api_client, db, abuse_counts_out_of_reach
):
    response = _register(api_client, "ann@example.com")

    assert response.status_code == 202
    assert len(_events(EmailConfirmationRequested)) == 1


def test_staff_made_and_superuser_accounts_count_as_confirmed(db):
    assert user_create(email="made@example.com", password=None).email_confirmed
    assert User.objects.create_superuser("root@example.com", PASSWORD).email_confirmed
