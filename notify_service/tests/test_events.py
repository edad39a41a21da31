"""Events in, emails out."""

import json

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from edge.events import (
    EmailAlreadyRegistered,
    EmailConfirmationRequested,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderRejected,
    OrderShipped,
    PasswordResetRequested,
    UserRegistered,
)
from edge.messaging.models import InboxMessage
from edge.messaging.services import event_handle
from edge.messaging.tasks import handle_event
from edge.testing import signed_by_producer
from notify.models import Notification
from notify.services import notifications_send_unsent

ORDER = {
    "order_id": 10,
    "customer_id": 3,
    "customer_email": "ann@example.com",
    "total": "25.90",
    "currency": "EUR",
}


def test_a_new_user_gets_one_welcome_email(db, django_capture_on_commit_callbacks):
    event = UserRegistered(user_id=3, email="ann@example.com", full_name="Ann Smith")

    with django_capture_on_commit_callbacks(execute=True):
        event_handle(message=event.to_message())

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ann@example.com"]
    assert email.subject == "Welcome to Commerce"
    assert "Ann Smith" in email.body
    assert "<strong>ann@example.com</strong>" in email.alternatives[0].content
    notification = Notification.objects.get()
    assert (notification.status, notification.user_id, notification.event_id) == ("sent", 3, event.event_id)


def test_the_same_event_twice_sends_one_email(db, django_capture_on_commit_callbacks):
    message = UserRegistered(user_id=3, email="ann@example.com").to_message()

    with django_capture_on_commit_callbacks(execute=True):
        event_handle(message=message)
        event_handle(message=message)

    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1


@pytest.mark.parametrize(
    ("event", "subject"),
    [
        (OrderConfirmed(**ORDER), "Your order #10 is confirmed"),
        (OrderRejected(**ORDER, reason="insufficient stock"), "Your order #10 could not be accepted"),
        (OrderShipped(**ORDER), "Your order #10 is on its way"),
        (OrderDelivered(**ORDER), "Your order #10 was delivered"),
        (OrderCancelled(**ORDER, reason="changed my mind"), "Your order #10 is cancelled"),
    ],
    ids=lambda value: getattr(value, "type", ""),
)
def test_each_order_event_emails_the_customer(db, django_capture_on_commit_callbacks, event, subject):
    with django_capture_on_commit_callbacks(execute=True):
        event_handle(message=event.to_message())

    assert [(email.to, email.subject) for email in mail.outbox] == [(["ann@example.com"], subject)]
    assert "#10" in mail.outbox[0].body
    assert (
        Notification.objects.get(channel=Notification.Channel.EMAIL).kind
        == f"order_{event.type.split('.')[1]}"
    )


def test_a_rejection_tells_the_reason(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event_handle(message=OrderRejected(**ORDER, reason="insufficient stock").to_message())

    assert "Reason: insufficient stock" in mail.outbox[0].body


def test_a_password_reset_request_emails_the_link(db, django_capture_on_commit_callbacks):
    event = PasswordResetRequested(
        user_id=4, email="bob@example.com", reset_url="http://gateway.example/password-reset/NA/abc-123/"
    )

    with django_capture_on_commit_callbacks(execute=True):
        event_handle(message=event.to_message())

    email = mail.outbox[0]
    assert email.to == ["bob@example.com"]
    assert email.subject == "Reset your Commerce password"
    assert "http://gateway.example/password-reset/NA/abc-123/" in email.body
    assert 'href="http://gateway.example/password-reset/NA/abc-123/"' in email.alternatives[0].content
    assert Notification.objects.get().kind == Notification.Kind.PASSWORD_RESET


def test_a_reset_link_is_kept_sealed_until_its_email_has_gone_and_then_not_at_all(db):
    link = "http://gateway.example/password-reset/NA/abc-123/"
    event = PasswordResetRequested(user_id=4, email="bob@example.com", reset_url=link)

    # Recorded, not sent yet: the send waits for the commit.
    event_handle(message=event.to_message())

    waiting = Notification.objects.get()
    assert waiting.status == Notification.Status.PENDING
    assert link not in waiting.body_text + waiting.body_html + json.dumps(waiting.sealed_values)
    assert "[[reset_url]]" in waiting.body_text

    notifications_send_unsent(event_id=event.event_id)

    assert link in mail.outbox[0].body
    assert f'href="{link}"' in mail.outbox[0].alternatives[0].content
    sent = Notification.objects.get()
    assert (sent.status, sent.sealed_values) == (Notification.Status.SENT, {})


@pytest.mark.parametrize(
    ("event", "link", "subject", "kind"),
    [
        (
            EmailConfirmationRequested(
                user_id=5,
                email="cy@example.com",
                confirm_url="http://gateway.example/register/confirm/NQ/c-1/",
            ),
            "http://gateway.example/register/confirm/NQ/c-1/",
            "Confirm your email address for Commerce",
            Notification.Kind.EMAIL_CONFIRMATION,
        ),
        (
            EmailAlreadyRegistered(
                user_id=5, email="cy@example.com", reset_url="http://gateway.example/password-reset/NQ/r-1/"
            ),
            "http://gateway.example/password-reset/NQ/r-1/",
            "Someone tried to register with your Commerce address",
            Notification.Kind.ALREADY_REGISTERED,
        ),
    ],
    ids=["confirmation", "already-registered"],
)
def test_a_registration_emails_its_link_sealed_until_it_goes(db, event, link, subject, kind):
    event_handle(message=event.to_message())

    waiting = Notification.objects.get()
    assert (waiting.kind, waiting.email, waiting.subject) == (kind, "cy@example.com", subject)
    assert link not in waiting.body_text + waiting.body_html + json.dumps(waiting.sealed_values)

    notifications_send_unsent(event_id=event.event_id)

    assert [email.to for email in mail.outbox] == [["cy@example.com"]]
    assert link in mail.outbox[0].body
    assert f'href="{link}"' in mail.outbox[0].alternatives[0].content


class WorkerLost(Exception):
    """Stands for SIGKILL: the worker dies with the email handed over and no answer read."""


def test_an_email_lost_with_its_worker_goes_out_once_more_when_the_event_comes_back(
    transactional_db, monkeypatch
):
    message = UserRegistered(user_id=3, email="ann@example.com").to_message()
    accept = EmailBackend.send_messages

    def take_it_and_die(self, messages):
        accept(self, messages)
        raise WorkerLost

    monkeypatch.setattr(EmailBackend, "send_messages", take_it_and_die)
    with pytest.raises(WorkerLost):
        event_handle(message=message)

    # The event is handled and its notification recorded, committed, and not marked sent.
    assert InboxMessage.objects.filter(event_id=message["event_id"]).exists()
    assert Notification.objects.get().status == Notification.Status.PENDING

    monkeypatch.setattr(EmailBackend, "send_messages", accept)
    handle_event.delay(message, **signed_by_producer(message))
    handle_event.delay(message, **signed_by_producer(message))

    notification = Notification.objects.get()
    assert notification.status == Notification.Status.SENT
    # The copy the server took before the worker died, and the one sent again: the same message.
    assert [email.message()["Message-ID"] for email in mail.outbox] == [notification.message_id] * 2
