"""The notifications API: a user's own notifications; staff whose roles let them view
notifications see all (as in the admin)."""

from django.db.models import QuerySet
from rest_framework import viewsets

from notify.api.serializers import NotificationSerializer
from notify.models import Notification
from notify.selectors import notification_list_for


class NotificationViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = NotificationSerializer
    filterset_fields = ["kind", "status", "channel"]

    def get_queryset(self) -> QuerySet[Notification]:
        return notification_list_for(user=self.request.user)
