"""Sending notifications, retried when the mail server refuses."""

from smtplib import SMTPException

from celery import shared_task

from notify.models import Notification
from notify.services import notification_send


@shared_task(autoretry_for=(SMTPException, OSError), retry_backoff=True, retry_backoff_max=300, max_retries=8)
def send_notification(notification_id: int) -> None:
    notification = Notification.objects.filter(pk=notification_id).first()
    if notification is not None:
        notification_send(notification=notification)
