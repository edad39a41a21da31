"""Reads of notify."""

from django.db.models import QuerySet

from notify.models import Notification, StaffAlertSubscriber


def notification_list_for(*, user_id: int, is_staff: bool) -> QuerySet[Notification]:
    """Staff see every notification; anyone else only their own."""
    notifications = Notification.objects.all()
    return notifications if is_staff else notifications.filter(user_id=user_id)


def staff_alert_subscribers() -> QuerySet[StaffAlertSubscriber]:
    """The staff who get staff alerts by email."""
    return StaffAlertSubscriber.objects.filter(subscribed=True)


def staff_alert_list() -> QuerySet[Notification]:
    """The staff alerts, newest first."""
    return Notification.objects.filter(channel=Notification.Channel.LOG)
