"""Writes of notify: creating notifications from events and sending them."""

import logging
import threading
from smtplib import SMTPException, SMTPServerDisconnected
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import timezone

from notify.models import Notification

logger = logging.getLogger(__name__)

_mail = threading.local()


@receiver(setting_changed)
def _forget_mail_connection(*, setting: str, **kwargs: Any) -> None:
    if setting == "MAILERS":
        _mail.connection = None


def notification_create(
    *, user_id: int, email: str, kind: str, context: dict, event_id: object
) -> Notification:
    """Render the email for ``kind`` and send it at once, in the transaction of the event that
    caused it; a refused email is kept pending and the send task retries it with backoff."""
    from notify.tasks import send_notification

    template = f"notify/email/{kind}"
    notification = Notification(
        user_id=user_id,
        email=email,
        kind=kind,
        subject=render_to_string(f"{template}_subject.txt", context).strip(),
        body_text=render_to_string(f"{template}.txt", context),
        body_html=render_to_string(f"{template}.html", context),
        event_id=event_id,
    )
    try:
        # Sent before the row is written: one INSERT records it sent, with no second task or
        # UPDATE. Should the commit then fail, the event is handled again and the email sent twice.
        _deliver(notification)
    except (SMTPException, OSError) as error:
        notification.error = f"{type(error).__name__}: {error}"
        notification.save()
        transaction.on_commit(
            lambda: send_notification.apply_async(
                (notification.pk,), countdown=settings.NOTIFY_RETRY_BACKOFF_SECONDS
            )
        )
        logger.warning(
            "notification refused; retrying",
            extra={"notification_id": notification.pk, "error": notification.error},
        )
        return notification
    notification.save()
    _log_sent(notification)
    return notification


@transaction.atomic
def notification_send(*, notification: Notification) -> Notification:
    """Send a pending notification over SMTP and mark it sent; SMTP errors propagate so the
    task can retry.

    The row stays locked while sending, so a redelivered task waits and then finds it sent.
    """
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    if notification.status == Notification.Status.SENT:
        return notification
    _deliver(notification)
    notification.save(update_fields=["status", "sent_at", "error"])
    _log_sent(notification)
    return notification


def _deliver(notification: Notification) -> None:
    message = EmailMultiAlternatives(
        subject=notification.subject, body=notification.body_text, to=[notification.email]
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    _send(message)
    notification.status = Notification.Status.SENT
    notification.sent_at = timezone.now()
    notification.error = ""


def _send(message: EmailMultiAlternatives) -> None:
    """Send over this thread's mail connection, kept open between emails: connecting and
    greeting the server cost more than one email does."""
    connection = getattr(_mail, "connection", None)
    if connection is None:
        connection = _mail.connection = mailers.default
    try:
        reused = connection.open() is False
        try:
            connection.send_messages([message])
        except SMTPServerDisconnected:
            if not reused:
                raise
            # The server closed the connection while it sat idle: once more on a new one.
            connection.close()
            connection.open()
            connection.send_messages([message])
    except BaseException:
        # After a refusal the session's state is unknown: the next email connects afresh.
        connection.close()
        raise


def _log_sent(notification: Notification) -> None:
    logger.info(
        "notification sent",
        extra={
            "notification_id": notification.pk,
            "kind": notification.kind,
            "channel": notification.channel,
            "email": notification.email,
            "event_id": str(notification.event_id),
        },
    )


def notification_fail(*, notification: Notification, error: Exception) -> Notification:
    """Give up after the last retry: staff see the error and can resend from the admin."""
    notification.status = Notification.Status.FAILED
    notification.error = f"{type(error).__name__}: {error}"
    notification.save(update_fields=["status", "error"])
    logger.error(
        "notification failed",
        extra={
            "notification_id": notification.pk,
            "kind": notification.kind,
            "channel": notification.channel,
            "email": notification.email,
            "error": notification.error,
        },
    )
    return notification


def notification_resend(*, notification: Notification) -> Notification:
    """Queue a failed (or stuck) notification again; one that was sent stays sent."""
    from notify.tasks import send_notification

    if notification.status == Notification.Status.SENT:
        return notification
    notification.status = Notification.Status.PENDING
    notification.error = ""
    notification.save(update_fields=["status", "error"])
    transaction.on_commit(lambda: send_notification.delay(notification.pk))
    return notification
