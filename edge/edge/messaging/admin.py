"""Staff see what a service sent, handled and could not handle; they resend stuck events and
replay dead letters by hand."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from edge.messaging.models import DeadLetter, InboxMessage, OutboxMessage
from edge.messaging.services import dead_letter_replay, outbox_send


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


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = [
        "event_type",
        "event_id",
        "reason",
        "producer",
        "queue",
        "attempts",
        "failed_at",
        "replays",
        "replayed_at",
    ]
    list_filter = ["reason", "event_type", "producer", ("replayed_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id"]
    readonly_fields = [field.name for field in DeadLetter._meta.fields]
    actions = ["replay"]

    # Replaying writes what the handler writes: staff who may only view dead letters may not.
    @admin.action(description="Replay selected dead letters through the handler", permissions=["change"])
    def replay(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        outcomes = [
            dead_letter_replay(dead_letter=dead_letter)
            for dead_letter in queryset.filter(replayed_at__isnull=True)
        ]
        handled, failed = outcomes.count(True), outcomes.count(False)
        if handled:
            self.message_user(request, f"{handled} dead letter(s) handled.", messages.SUCCESS)
        if failed:
            self.message_user(
                request, f"{failed} dead letter(s) failed again; each shows its latest error.", messages.ERROR
            )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
