"""Notifications in the admin: who was told what, and what failed; the staff alerts on a page of
their own, and who gets them by email."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from notify.models import Notification, StaffAlert, StaffAlertSubscriber
from notify.selectors import staff_alert_list
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


class AlertKindFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(kind.value, kind.label) for kind in Notification.Kind if kind.value.startswith("alert_")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Notification]) -> QuerySet[Notification]:
        return queryset.filter(kind=self.value()) if self.value() else queryset


@admin.register(StaffAlert)
class StaffAlertAdmin(admin.ModelAdmin):
    """What staff should act on: stock running out, rejected orders, failed emails, dead letters."""

    list_display = ["created_at", "kind", "subject", "where"]
    list_filter = [AlertKindFilter, "created_at"]
    search_fields = ["subject", "body_text", "event_id"]
    date_hierarchy = "created_at"
    fields = ["created_at", "kind", "subject", "body_text", "link", "event_id"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Notification]:
        return staff_alert_list()

    @admin.display(description="admin page")
    def where(self, alert: StaffAlert) -> str:
        return format_html('<a href="{}">{}</a>', alert.link, alert.link) if alert.link else "-"

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(StaffAlertSubscriber)
class StaffAlertSubscriberAdmin(admin.ModelAdmin):
    """Kept from auth's events: staff opt in or out in their account, in auth."""

    list_display = ["email", "subscribed", "changed_at"]
    list_filter = ["subscribed"]
    search_fields = ["email"]
    readonly_fields = ["user_id", "email", "subscribed", "changed_at"]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
