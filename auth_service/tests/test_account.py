"""The caller's own account: profile, password change, password reset by email."""

import json
import logging
import re
from datetime import datetime, timedelta

from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.api.serializers import INVALID_RESET_LINK, WRONG_PASSWORD
from edge.events import PasswordResetRequested, event_from_message
from edge.messaging.models import OutboxMessage
from tests.factories import PASSWORD

ME = "/api/auth/me/"
CHANGE = "/api/auth/password/change/"
RESET = "/api/auth/password/reset/"
CONFIRM = "/api/auth/password/reset/confirm/"
VERIFY = "/internal/verify"
NEW_PASSWORD = "an-entirely-new-passphrase"


def _bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_a_user_changes_their_name(api_client, customer, access_token_for):
    response = api_client.patch(
        ME, {"full_name": "New Name"}, format="json", **_bearer(access_token_for(customer))
    )

    assert response.status_code == 200
    assert response.json()["full_name"] == "New Name"
    customer.refresh_from_db()
    assert customer.full_name == "New Name"


def test_a_name_that_is_not_text_is_400(api_client, customer, access_token_for):
    # {"full_name": 0} used to become "0" (found by tests/test_fuzz.py).
    response = api_client.patch(ME, {"full_name": 0}, format="json", **_bearer(access_token_for(customer)))

    assert response.status_code == 400
    assert "full_name" in response.json()


def test_the_email_cannot_be_changed_through_the_profile(api_client, customer, access_token_for):
    api_client.patch(ME, {"email": "other@example.com"}, format="json", **_bearer(access_token_for(customer)))

    customer.refresh_from_db()
    assert customer.email != "other@example.com"


def test_changing_the_password_revokes_earlier_tokens_and_returns_new_ones(
    api_client, client, customer, access_token_for, committing
):
    old = access_token_for(customer)

    with committing():
        response = api_client.post(
            CHANGE, {"old_password": PASSWORD, "new_password": NEW_PASSWORD}, format="json", **_bearer(old)
        )

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)
    assert client.get(VERIFY, **_bearer(old)).status_code == 401
    assert client.get(VERIFY, **_bearer(response.json()["access"])).status_code == 204


def test_a_wrong_current_password_is_400_and_changes_nothing(api_client, customer, access_token_for):
    response = api_client.post(
        CHANGE,
        {"old_password": "nope", "new_password": NEW_PASSWORD},
        format="json",
        **_bearer(access_token_for(customer)),
    )

    assert response.status_code == 400
    assert response.json()["old_password"] == [WRONG_PASSWORD]
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_a_weak_new_password_is_400_with_the_reasons(api_client, customer, access_token_for):
    response = api_client.post(
        CHANGE,
        {"old_password": PASSWORD, "new_password": "123"},
        format="json",
        **_bearer(access_token_for(customer)),
    )

    assert response.status_code == 400
    assert response.json()["new_password"]


def test_a_reset_request_sends_a_link_through_notify(api_client, customer, settings):
    response = api_client.post(RESET, {"email": customer.email.upper()}, format="json")

    assert response.status_code == 202
    message = OutboxMessage.objects.get(event_type=PasswordResetRequested.type)
    assert message.payload["user_id"] == customer.pk
    assert message.payload["email"] == customer.email
    # The outbox row holds the link sealed; notify opens it.
    assert "password-reset" not in json.dumps(message.payload)
    assert re.fullmatch(
        rf"{re.escape(settings.PUBLIC_BASE_URL)}/password-reset/[\w-]+/[\w-]+/",
        event_from_message(message.payload).reset_url,
    )


def test_a_reset_request_for_an_unknown_email_answers_the_same_and_sends_nothing(api_client, customer):
    known = api_client.post(RESET, {"email": customer.email}, format="json")
    OutboxMessage.objects.all().delete()

    unknown = api_client.post(RESET, {"email": "nobody@example.com"}, format="json")

    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())
    assert not OutboxMessage.objects.exists()


def test_a_reset_link_ignores_the_host_a_request_claims(api_client, customer, settings):
    settings.ALLOWED_HOSTS = ["*"]  # as behind a gateway that passes any Host on
    api_client.post(RESET, {"email": customer.email}, format="json", HTTP_HOST="evil.example")

    reset_url = event_from_message(OutboxMessage.objects.get().payload).reset_url
    assert reset_url.startswith(settings.PUBLIC_BASE_URL)


def _link(user) -> dict:
    return {
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


def test_confirming_a_reset_sets_the_password_and_revokes_every_token(
    api_client, client, customer, access_token_for, committing
):
    old = access_token_for(customer)

    with committing():
        response = api_client.post(CONFIRM, {**_link(customer), "new_password": NEW_PASSWORD}, format="json")

    assert response.status_code == 204
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)
    assert client.get(VERIFY, **_bearer(old)).status_code == 401


def test_a_reset_link_works_once(api_client, customer):
    link = _link(customer)
    api_client.post(CONFIRM, {**link, "new_password": NEW_PASSWORD}, format="json")

    response = api_client.post(CONFIRM, {**link, "new_password": "yet-another-passphrase"}, format="json")

    assert response.status_code == 400
    assert response.json()["token"] == [INVALID_RESET_LINK]
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)


def test_a_forged_reset_link_is_400(api_client, customer):
    response = api_client.post(
        CONFIRM, {"uid": "!!", "token": "x-y", "new_password": NEW_PASSWORD}, format="json"
    )

    assert response.status_code == 400
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


class _TokensMadeAnHourAgo(PasswordResetTokenGenerator):
    def _now(self) -> datetime:
        return datetime.now() - timedelta(hours=1, seconds=1)


def test_a_reset_link_dies_after_an_hour(api_client, customer):
    link = {**_link(customer), "token": _TokensMadeAnHourAgo().make_token(customer)}

    response = api_client.post(CONFIRM, {**link, "new_password": NEW_PASSWORD}, format="json")

    assert response.status_code == 400
    assert response.json()["token"] == [INVALID_RESET_LINK]
    customer.refresh_from_db()
    assert customer.check_password(PASSWORD)


def test_the_reset_page_sets_the_password(client, customer):
    link = _link(customer)
    form = client.get(f"/password-reset/{link['uid']}/{link['token']}/", follow=True)
    assert form.status_code == 200

    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/password-reset/done/"
    customer.refresh_from_db()
    assert customer.check_password(NEW_PASSWORD)


def test_the_request_log_keeps_no_reset_token(client, customer, caplog):
    link = _link(customer)

    with caplog.at_level(logging.INFO, logger="edge.request"):
        client.get(f"/password-reset/{link['uid']}/{link['token']}/")

    (logged,) = [record for record in caplog.records if record.name == "edge.request"]
    assert link["token"] not in logged.path
    assert logged.path == f"/password-reset/{link['uid']}/[redacted]/"
