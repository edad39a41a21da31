"""Staff see what a service sent and handled, and resend stuck events by hand."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from edge.messaging.models import InboxMessage, OutboxMessage
from edge.messaging.services import outbox_send


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ["event_type", "event_id", "created_at", "sent_at", "attempts"]
    list_filter = ["event_type", ("sent_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id", "event_type"]
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]
    actions = ["send_now"]

    @admin.action(description="Send selected unsent events now")
    def send_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        sent = sum(
            outbox_send(message_id=message.event_id) for message in queryset.filter(sent_at__isnull=True)
        )
        self.message_user(request, f"{sent} event(s) sent.", messages.SUCCESS)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(InboxMessage)
class InboxMessageAdmin(admin.ModelAdmin):
    list_display = ["event_type", "event_id", "received_at"]
    list_filter = ["event_type"]
    search_fields = ["event_id"]
    readonly_fields = [field.name for field in InboxMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
