"""How a service's events are doing: what staff see on the admin index and what metrics export."""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from edge.messaging.models import DeadLetter, InboxMessage, OutboxMessage

INBOX_THROUGHPUT_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class EventHealth:
    # Outbox rows not yet sent to the broker, and how long the oldest has waited.
    outbox_unsent: int
    oldest_unsent_age_seconds: float | None
    # Events this service handled in the last INBOX_THROUGHPUT_WINDOW.
    inbox_handled_last_hour: int
    # Dead letters still waiting for a replay.
    dead_letters_waiting: int


def event_health() -> EventHealth:
    now = timezone.now()
    outbox = OutboxMessage.objects.filter(sent_at__isnull=True).aggregate(
        unsent=Count("pk"), oldest=Min("created_at")
    )
    return EventHealth(
        outbox_unsent=outbox["unsent"],
        oldest_unsent_age_seconds=(now - outbox["oldest"]).total_seconds() if outbox["oldest"] else None,
        inbox_handled_last_hour=InboxMessage.objects.filter(
            received_at__gte=now - INBOX_THROUGHPUT_WINDOW
        ).count(),
        dead_letters_waiting=dead_letters_waiting().count(),
    )


def dead_letters_waiting() -> QuerySet[DeadLetter]:
    """Dead letters no replay has handled yet, the latest failure first."""
    return DeadLetter.objects.filter(replayed_at__isnull=True).order_by("-failed_at")
