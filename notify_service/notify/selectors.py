"""Reads of notify."""

from django.db.models import Count, QuerySet

from notify.models import Notification


def notification_list_for(*, user_id: int, is_staff: bool) -> QuerySet[Notification]:
    """Staff see every notification; anyone else only their own."""
    notifications = Notification.objects.all()
    return notifications if is_staff else notifications.filter(user_id=user_id)


def notification_counts_by_status() -> dict[str, int]:
    """How many notifications are in each status, every status named (0 for none)."""
    counts = dict(Notification.objects.values_list("status").annotate(count=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in Notification.Status.values}
