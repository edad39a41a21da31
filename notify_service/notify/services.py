"""Writes of notify: creating notifications from events and sending them."""

import logging

from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from notify.models import Notification

logger = logging.getLogger(__name__)


@transaction.atomic
def notification_create(
    *, user_id: int, email: str, kind: str, context: dict, event_id: object
) -> Notification:
    """Render the email for ``kind`` and queue it; it is sent once this transaction commits."""
    from notify.tasks import send_notification

    template = f"notify/email/{kind}"
    notification = Notification.objects.create(
        user_id=user_id,
        email=email,
        kind=kind,
        subject=render_to_string(f"{template}_subject.txt", context).strip(),
        body_text=render_to_string(f"{template}.txt", context),
        body_html=render_to_string(f"{template}.html", context),
        event_id=event_id,
    )
    transaction.on_commit(lambda: send_notification.delay(notification.pk))
    return notification


@transaction.atomic
def notification_send(*, notification: Notification) -> Notification:
    """Send over SMTP and mark it sent; SMTP errors propagate so the task can retry.

    The row stays locked while sending, so a redelivered task waits and then finds it sent.
    """
    notification = Notification.objects.select_for_update().get(pk=notification.pk)
    if notification.status == Notification.Status.SENT:
        return notification
    message = EmailMultiAlternatives(
        subject=notification.subject, body=notification.body_text, to=[notification.email]
    )
    if notification.body_html:
        message.attach_alternative(notification.body_html, "text/html")
    message.send()
    notification.status = Notification.Status.SENT
    notification.sent_at = timezone.now()
    notification.error = ""
    notification.save(update_fields=["status", "sent_at", "error"])
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
    return notification


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
