"""Notifications in the admin: who was told what, and what failed."""

from django.contrib import admin

from notify.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["created_at", "email", "kind", "channel", "status", "sent_at"]
    list_filter = ["status", "kind", "channel", "created_at"]
    search_fields = ["email", "subject", "event_id"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Notification._meta.fields]

    def has_add_permission(self, request: object) -> bool:
        return False
