"""Writes of notify: recording notifications from events and sending them, logging staff alerts
and emailing them to the staff who subscribed.

A notification's row commits with the event that caused it (and the event's inbox row) before
its email leaves; it is marked sent once the mail server has accepted the email. Per email that
is the INSERT in the event's transaction, then a transaction of one UPDATE around the send.
"""

import logging
import threading
from datetime import datetime
from smtplib import SMTPException, SMTPServerDisconnected
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.core.signals import setting_changed
from django.db import transaction
from django.dispatch import receiver
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape

from edge.alerts import admin_link, staff_alert_raise
from edge.events import StaffAlertKind, StaffAlertRaised
from edge.messaging.services import failure_text
from edge.sealing import seal, unseal
from notify.models import SECRET_PLACEHOLDER, Notification, StaffAlertSubscriber
from notify.selectors import staff_alert_subscribers

STAFF_ALERT_TEMPLATE = "notify/email/staff_alert"

logger = logging.getLogger(__name__)

_mail = threading.local()


@receiver(setting_changed)
def _forget_mail_connection(*, setting: str, **kwargs: Any) -> None:
    if setting == "MAILERS":
        _mail.connection = None


def notification_create(
    *,
    user_id: int,
    email: str,
    kind: str,
    context: dict,
    event_id: object,
    secrets: dict[str, str] | None = None,
    template: str | None = None,
) -> Notification:
    """Record the email for ``kind`` in the transaction of the event that caused it, and send it
    from the same task once that has committed: no email leaves for a row that rolled back, and
    none leaves unrecorded.

    ``secrets`` (a reset link) reach the templates as placeholders and wait sealed in the row;
    only the email that leaves holds them (``_email``). The templates are the kind's own unless
    ``template`` names others."""
    secrets = secrets or {}
    context = {**context, **{name: SECRET_PLACEHOLDER.format(name=name) for name in secrets}}
    template = template or f"notify/email/{kind}"
    notification = Notification.objects.create(
        user_id=user_id,
        email=email,
        kind=kind,
        subject=render_to_string(f"{template}_subject.txt", context).strip(),
        body_text=render_to_string(f"{template}.txt", context),
        body_html=render_to_string(f"{template}.html", context),
        sealed_values={name: seal(value) for name, value in secrets.items()},
        event_id=event_id,
    )
    # Not robust: should sending fail on something other than the mail server (the database),
    # the event's task fails and its retry finds the event handled and the email unsent, which
    # notifications_send_unsent() then sends.
    transaction.on_commit(lambda: notification_deliver(notification=notification))
    return notification


def notifications_send_unsent(*, event_id: object) -> int:
    """Send the notifications an event recorded that are still pending; how many were sent.

    For a delivery of an event that was handled before: the delivery that handled it may have
    died between its commit and the mail server's answer, and its message come back. One the
    server refused is among them too: it goes out sooner, and its retry then finds it sent.
    """
    unsent = Notification.objects.filter(event_id=event_id, status=Notification.Status.PENDING)
    return sum(notification_deliver(notification=notification) for notification in unsent)


def notification_deliver(*, notification: Notification) -> bool:
    """Send a recorded notification now; True if this call sent it. A refused email keeps its
    error and the send task retries it with backoff."""
    from notify.tasks import send_notification

    try:
        return notification_send(notification=notification)
    except (SMTPException, OSError) as error:
        notification.error = failure_text(error)
        Notification.objects.filter(pk=notification.pk, status=Notification.Status.PENDING).update(
            error=notification.error
        )
        send_notification.apply_async((notification.pk,), countdown=settings.NOTIFY_RETRY_BACKOFF_SECONDS)
        logger.warning(
            "notification refused; retrying",
            extra={"notification_id": notification.pk, "error": notification.error},
        )
        return False


def notification_send(*, notification: Notification) -> bool:
    """Send a pending notification over SMTP and mark it sent, once; True if this call sent it.
    SMTP errors propagate, with the notification still pending, so the caller can retry.

    The row is marked sent before the email goes out, in a transaction that commits only once
    the server has accepted it: another delivery of the event (or a retry) waits on the row and
    then finds it sent. Should the worker die before the server's answer, Postgres rolls the
    mark back with the dead connection, and the event's message, unacknowledged, comes back to
    send it once more, with the same Message-ID.
    """
    sent_at = timezone.now()
    with transaction.atomic():
        # The sealed secrets go with the mark: once the email is out, the row needs them no more.
        claimed = Notification.objects.filter(pk=notification.pk, status=Notification.Status.PENDING).update(
            status=Notification.Status.SENT, sent_at=sent_at, error="", sealed_values={}
        )
        if not claimed:
            return False
        _send(_email(notification))
    notification.status, notification.sent_at, notification.error = Notification.Status.SENT, sent_at, ""
    notification.sealed_values = {}
    _log_sent(notification)
    return True


def _email(notification: Notification) -> EmailMultiAlternatives:
    secrets = {
        SECRET_PLACEHOLDER.format(name=name): unseal(sealed)
        for name, sealed in notification.sealed_values.items()
    }
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=_filled(notification.body_text, secrets),
        to=[notification.email],
        headers={"Message-ID": notification.message_id},
    )
    if notification.body_html:
        html_secrets = {placeholder: escape(value) for placeholder, value in secrets.items()}
        message.attach_alternative(_filled(notification.body_html, html_secrets), "text/html")
    return message


def _filled(body: str, secrets: dict[str, str]) -> str:
    for placeholder, value in secrets.items():
        body = body.replace(placeholder, value)
    return body


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


@transaction.atomic
def notification_fail(*, notification: Notification, error: Exception) -> Notification:
    """Give up after the last retry: staff are alerted, see the error and can resend from the admin.

    No alert for a staff alert's own email: its alert would be emailed the same way, and fail
    the same way; the error line and the failed row say it."""
    notification.error = failure_text(error)
    # Only while pending: another delivery of its event may have sent it meanwhile.
    failed = Notification.objects.filter(pk=notification.pk, status=Notification.Status.PENDING).update(
        status=Notification.Status.FAILED, error=notification.error
    )
    if not failed:
        return notification
    notification.status = Notification.Status.FAILED
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
    if not notification.is_staff_alert:
        staff_alert_raise(
            kind=StaffAlertKind.EMAIL_FAILED,
            subject=f"Email failed: {notification.get_kind_display()} to {notification.email}",
            detail=f"Given up after its last retry. {notification.error}",
            object_type="notification",
            object_id=notification.pk,
            link=admin_link("admin:notify_notification_change", notification.pk),
        )
    return notification


def notification_resend(*, notification: Notification) -> Notification:
    """Queue a failed (or stuck) notification again; one that was sent stays sent."""
    from notify.tasks import send_notification

    # Conditional: a resend that waited on the row while its email was going out finds it sent.
    requeued = (
        Notification.objects.filter(pk=notification.pk)
        .exclude(status=Notification.Status.SENT)
        .update(status=Notification.Status.PENDING, error="")
    )
    if not requeued:
        return notification
    notification.status, notification.error = Notification.Status.PENDING, ""
    transaction.on_commit(lambda: send_notification.delay(notification.pk))
    return notification


# --- staff alerts ---------------------------------------------------------------------------


def staff_alert_record(*, alert: StaffAlertRaised) -> Notification:
    """Log a staff alert (a notification on the log channel, and a JSON log line once it has
    committed) and email it to every subscribed staff member."""
    kind = Notification.Kind.of_alert(alert.kind)
    logged = Notification.objects.create(
        channel=Notification.Channel.LOG,
        kind=kind,
        subject=alert.subject,
        body_text=alert.detail,
        link=alert.link,
        # The log is its delivery: the row is the alert staff see, the line what log search finds.
        status=Notification.Status.SENT,
        sent_at=timezone.now(),
        event_id=alert.event_id,
    )
    transaction.on_commit(lambda: _log_alert(alert, logged))
    context = {field: getattr(alert, field) for field in ("service", "subject", "detail", "link")}
    for subscriber in staff_alert_subscribers():
        notification_create(
            user_id=subscriber.user_id,
            email=subscriber.email,
            kind=kind,
            context=context,
            event_id=alert.event_id,
            template=STAFF_ALERT_TEMPLATE,
        )
    return logged


def _log_alert(alert: StaffAlertRaised, logged: Notification) -> None:
    logger.warning(
        "staff alert",
        extra={
            "notification_id": logged.pk,
            "event_id": str(alert.event_id),
            "kind": alert.kind,
            # Not "service": that is the service writing the line (edge.logging).
            "raised_by": alert.service,
            "subject": alert.subject,
            "detail": alert.detail,
            "object_type": alert.object_type,
            "object_id": alert.object_id,
            "link": alert.link,
        },
    )


@transaction.atomic
def staff_alert_subscription_set(
    *, user_id: int, email: str, subscribed: bool, changed_at: datetime
) -> StaffAlertSubscriber:
    """Keep what auth says of a user's staff alert emails, unless it says something newer already:
    events may arrive out of order (a retry, a replayed dead letter)."""
    subscriber, created = StaffAlertSubscriber.objects.select_for_update().get_or_create(
        user_id=user_id, defaults={"email": email, "subscribed": subscribed, "changed_at": changed_at}
    )
    if created or subscriber.changed_at > changed_at:
        return subscriber
    subscriber.email, subscriber.subscribed, subscriber.changed_at = email, subscribed, changed_at
    subscriber.save(update_fields=["email", "subscribed", "changed_at"])
    return subscriber
