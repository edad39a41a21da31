"""Outbox, inbox and dead-letter rows: the events a service sent, handled, and could not handle."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class OutboxMessage(models.Model):
    """An event written in the same transaction as the change that caused it."""

    event_id = models.UUIDField(primary_key=True)
    event_type = models.CharField(max_length=64, db_index=True)
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The W3C trace context of the request or task that published it (edge.tracing), under which
    # it is sent, by the relay too: its consumers' spans join the publisher's trace. Empty when
    # the publisher was not traced. Not part of the signed message: it names a trace, no fact.
    traceparent = models.CharField(max_length=55, blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(
                fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="outbox_unsent"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class InboxMessage(models.Model):
    """An event this service has handled; its row commits with the handler's effects."""

    event_id = models.UUIDField(primary_key=True)
    event_type = models.CharField(max_length=64, db_index=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id}"


class DeadLetter(models.Model):
    """A message this service could not handle: it waits here for staff to replay it.

    The message is kept as it arrived, whatever it holds: a dead letter may be a message
    that is not even an event, so its id and type are copied out only when they are strings.
    """

    class Reason(models.TextChoices):
        # Never retried: handling it again would fail the same way.
        UNKNOWN_TYPE = "unknown_type", "Unknown type"
        NEWER_VERSION = "newer_version", "Newer version"
        INVALID_PAYLOAD = "invalid_payload", "Invalid payload"
        # Not sent by a producer of its type (edge.messaging.signing).
        UNSIGNED = "unsigned", "Unsigned"
        BAD_SIGNATURE = "bad_signature", "Bad signature"
        NOT_A_PRODUCER = "not_a_producer", "Not a producer"
        # Its handler failed on every delivery.
        RETRIES_EXHAUSTED = "retries_exhausted", "Retries exhausted"

    message = models.JSONField(encoder=DjangoJSONEncoder)
    event_id = models.CharField(max_length=64, blank=True, db_index=True)
    event_type = models.CharField(max_length=64, blank=True, db_index=True)
    # Who signed it, as the message said, and the signature: a replay checks them again.
    producer = models.CharField(max_length=64, blank=True)
    signature = models.CharField(max_length=128, blank=True)
    # The queue it came from: the service's own, named in edge.service_table.
    queue = models.CharField(max_length=64)
    reason = models.CharField(max_length=32, choices=Reason.choices, db_index=True)
    error = models.TextField()
    # Deliveries to the handler before it came here.
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # The last failure, on delivery or on a replay; reason and error are that failure's.
    failed_at = models.DateTimeField()
    replays = models.PositiveIntegerField(default=0)
    # Set when a replay handled it (or found it handled already): it is done with.
    replayed_at = models.DateTimeField(null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["-failed_at"]

    def __str__(self) -> str:
        return f"{self.event_type or 'message'} {self.event_id} ({self.get_reason_display()})"
