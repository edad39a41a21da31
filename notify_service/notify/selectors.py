"""Reads of notify."""

from datetime import datetime
from typing import Any

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from notify.models import Notification, StaffAlertSubscriber


def notification_list_for(*, user: Any) -> QuerySet[Notification]:
    """Every notification for staff whose roles let them view them (as in the admin); anyone
    else's own."""
    notifications = Notification.objects.all()
    return (
        notifications if user.has_perm("notify.view_notification") else notifications.filter(user_id=user.id)
    )


def staff_alert_subscribers() -> QuerySet[StaffAlertSubscriber]:
    """The staff who get staff alerts by email."""
    return StaffAlertSubscriber.objects.filter(subscribed=True)


def staff_alert_list() -> QuerySet[Notification]:
    """The staff alerts, newest first."""
    return Notification.objects.filter(channel=Notification.Channel.LOG)


def emails_per_day(*, since: datetime) -> QuerySet[Notification, dict[str, Any]]:
    """How many emails made each day since ``since`` were sent, and how many failed."""
    return (
        Notification.objects.filter(
            channel=Notification.Channel.EMAIL,
            status__in=[Notification.Status.SENT, Notification.Status.FAILED],
            created_at__gte=since,
        )
        .annotate(day=TruncDate("created_at"))
        .values("day", "status")
        .annotate(emails=Count("pk"))
        .order_by("day", "status")
    )


def emails_failed() -> QuerySet[Notification]:
    """Emails that failed and wait for staff to resend them, the latest first."""
    return Notification.objects.filter(
        channel=Notification.Channel.EMAIL, status=Notification.Status.FAILED
    ).order_by("-created_at", "-id")


def notification_counts_by_status() -> dict[str, int]:
    """How many notifications are in each status, every status named (0 for none)."""
    counts = dict(Notification.objects.values_list("status").annotate(count=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in Notification.Status.values}
