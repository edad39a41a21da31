"""Reads of notify."""

from django.db.models import QuerySet

from notify.models import Notification


def notification_list_for(*, user_id: int, is_staff: bool) -> QuerySet[Notification]:
    """Staff see every notification; anyone else only their own."""
    notifications = Notification.objects.all()
    return notifications if is_staff else notifications.filter(user_id=user_id)
