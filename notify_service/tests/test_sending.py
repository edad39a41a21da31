"""Sending: retried while the mail server refuses, then failed with its error; staff resend."""

from smtplib import SMTPServerDisconnected

import pytest
from celery import current_app
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend

from edge.events import UserRegistered
from edge.messaging.services import event_handle
from notify.models import Notification
from notify.services import notification_resend
from notify.tasks import send_notification
from tests.factories import NotificationFactory


@pytest.fixture
def refusing_mail_server(monkeypatch, settings):
    settings.NOTIFY_SEND_MAX_RETRIES = 2
    settings.NOTIFY_RETRY_BACKOFF_SECONDS = 0
    attempts = []

    def refuse(self, messages):
        attempts.append(messages)
        raise SMTPServerDisconnected("Connection unexpectedly closed")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    return attempts


def test_a_refused_email_is_retried_then_marked_failed_with_the_error(db, refusing_mail_server, monkeypatch):
    # Eager retries run inline; the first call then reports the retry it scheduled.
    current_app.conf.task_eager_propagates = False
    notification = NotificationFactory()

    send_notification.delay(notification.pk)

    notification.refresh_from_db()
    assert len(refusing_mail_server) == 3
    assert notification.status == Notification.Status.FAILED
    assert "Connection unexpectedly closed" in notification.error


def test_an_email_refused_as_its_event_arrives_is_kept_and_retried_by_the_send_task(
    db, refusing_mail_server, django_capture_on_commit_callbacks
):
    current_app.conf.task_eager_propagates = False

    with django_capture_on_commit_callbacks(execute=True):
        event_handle(message=UserRegistered(user_id=3, email="ann@example.com").to_message())

    notification = Notification.objects.get(channel=Notification.Channel.EMAIL)
    # The try on arrival, then the send task's first attempt and its two retries.
    assert len(refusing_mail_server) == 4
    assert notification.status == Notification.Status.FAILED
    assert "Connection unexpectedly closed" in notification.error


def test_staff_resend_a_failed_notification(db, django_capture_on_commit_callbacks):
    notification = NotificationFactory(status=Notification.Status.FAILED, error="SMTPServerDisconnected")

    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification=notification)

    notification.refresh_from_db()
    assert (notification.status, notification.error) == (Notification.Status.SENT, "")
    assert len(mail.outbox) == 1


def test_a_sent_notification_is_not_sent_again(db, django_capture_on_commit_callbacks):
    notification = NotificationFactory(status=Notification.Status.SENT)

    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification=notification)
    send_notification.delay(notification.pk)

    assert mail.outbox == []


def test_a_resend_of_a_notification_sent_meanwhile_sends_nothing(db, django_capture_on_commit_callbacks):
    notification = NotificationFactory(status=Notification.Status.FAILED, error="SMTPServerDisconnected")
    # Another delivery of its event sent it after staff opened the admin page.
    Notification.objects.filter(pk=notification.pk).update(status=Notification.Status.SENT)

    with django_capture_on_commit_callbacks(execute=True):
        notification_resend(notification=notification)

    notification.refresh_from_db()
    assert notification.status == Notification.Status.SENT
    assert mail.outbox == []


def test_every_attempt_at_an_email_carries_the_message_id_of_its_notification(
    db, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFY_RETRY_BACKOFF_SECONDS = 0
    message_ids = []
    accept = EmailBackend.send_messages

    def refuse_the_first(self, messages):
        message_ids.append(messages[0].message()["Message-ID"])
        if len(message_ids) == 1:
            raise SMTPServerDisconnected("Connection unexpectedly closed")
        return accept(self, messages)

    monkeypatch.setattr(EmailBackend, "send_messages", refuse_the_first)
    event = UserRegistered(user_id=3, email="ann@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        event_handle(message=event.to_message())

    assert Notification.objects.get().status == Notification.Status.SENT
    # The refused attempt and the retry that went out: one message to the recipient's client.
    assert message_ids == [f"<notification.{event.event_id}.welcome@commerce.local>"] * 2
