"""What the tests look for in the outbox."""

from edge.events import Event
from edge.messaging.models import OutboxMessage


def published(event_class: type[Event], **fields: object) -> list[dict]:
    """The payloads of this type in the outbox, with these field values."""
    payloads = OutboxMessage.objects.filter(event_type=event_class.type).values_list("payload", flat=True)
    return [p for p in payloads if all(p.get(name) == value for name, value in fields.items())]
