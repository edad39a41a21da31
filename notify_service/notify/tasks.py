"""Sending notifications: retried with exponential backoff while the mail server refuses,
then marked failed with the error, for staff to resend from the admin."""

import logging
from smtplib import SMTPException

from celery import Task, shared_task
from django.conf import settings

from notify.models import Notification
from notify.services import notification_fail, notification_send

logger = logging.getLogger(__name__)


@shared_task(bind=True)
def send_notification(self: Task, notification_id: int) -> None:
    notification = Notification.objects.filter(pk=notification_id, status=Notification.Status.PENDING).first()
    if notification is None:
        # Sent meanwhile (by another delivery of its event), or failed.
        return
    try:
        notification_send(notification=notification)
    except (SMTPException, OSError) as error:
        if self.request.retries >= settings.NOTIFY_SEND_MAX_RETRIES:
            notification_fail(notification=notification, error=error)
            return
        delay = min(
            settings.NOTIFY_RETRY_BACKOFF_SECONDS * 2**self.request.retries, settings.NOTIFY_RETRY_BACKOFF_MAX
        )
        logger.warning(
            "notification send failed; retrying",
            extra={"notification_id": notification_id, "retry_in_s": delay, "error": str(error)},
        )
        raise self.retry(exc=error, countdown=delay, max_retries=settings.NOTIFY_SEND_MAX_RETRIES) from error
