"""The event contracts: every event the services exchange, its payload and its subscribers.

An event names its consumers here, not in the publisher's code: the outbox relay sends
each event to the queue of every subscriber, so events wait in Redis until it starts.
"""

import uuid
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

from edge.logging import request_id_var

UNKNOWN_EVENT_TYPE = "Unknown event type: {type!r}."
MALFORMED_EVENT = "Malformed {type} event: {error}."


@dataclass(frozen=True, kw_only=True)
class Event:
    type: ClassVar[str]
    version: ClassVar[int] = 1
    subscribers: ClassVar[tuple[str, ...]]

    event_id: uuid.UUID = field(default_factory=uuid.uuid4)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    request_id: str | None = field(default_factory=request_id_var.get)

    def to_message(self) -> dict[str, Any]:
        """The JSON-ready message sent to subscribers."""
        message = asdict(self)
        message.update(
            type=self.type,
            version=self.version,
            event_id=str(self.event_id),
            occurred_at=self.occurred_at.isoformat(),
        )
        return message

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Self:
        try:
            values = {f.name: message[f.name] for f in fields(cls) if f.name in message}
            values["event_id"] = uuid.UUID(str(message["event_id"]))
            values["occurred_at"] = datetime.fromisoformat(message["occurred_at"])
            return cls(**values)
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(MALFORMED_EVENT.format(type=cls.type, error=error)) from error


@dataclass(frozen=True, kw_only=True)
class UserRegistered(Event):
    type = "user.registered"
    subscribers = ("notify",)

    user_id: int
    email: str
    full_name: str = ""


EVENT_TYPES: dict[str, type[Event]] = {event.type: event for event in (UserRegistered,)}


def event_from_message(message: dict[str, Any]) -> Event:
    event_class = EVENT_TYPES.get(message.get("type", ""))
    if event_class is None:
        raise ValueError(UNKNOWN_EVENT_TYPE.format(type=message.get("type")))
    return event_class.from_message(message)
