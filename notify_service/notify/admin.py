"""Notifications in the admin: who was told what, and what failed."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from notify.models import Notification
from notify.services import notification_resend


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "email", "kind", "channel", "status", "sent_at"]
    list_filter = ["status", "kind", "channel", "created_at"]
    search_fields = ["email", "subject", "event_id"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Notification._meta.fields]
    actions = ["resend"]

    @admin.action(description="Resend selected notifications that were not sent", permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        unsent = queryset.exclude(status=Notification.Status.SENT)
        for notification in unsent:
            notification_resend(notification=notification)
        self.message_user(request, f"{len(unsent)} notification(s) queued again.", messages.SUCCESS)

    def has_add_permission(self, request: object) -> bool:
        return False
