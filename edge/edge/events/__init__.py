"""The event contracts: every event the services exchange, its payload and its subscribers.

An event names its consumers here, not in the publisher's code: the outbox relay sends
each event to the queue of every subscriber, so events wait in Redis until it starts.
Each event type and version also has a JSON Schema and examples, kept as data
(``edge.events.contracts``); every message received is checked against its schema.
"""

import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar, Self

from edge.events.contracts import payload_error, validator_for
from edge.logging import request_id_var
from edge.sealing import SealBroken, seal, unseal

UNKNOWN_EVENT_TYPE = "Unknown event type: {type!r}."
NEWER_VERSION = "{type} version {version} is newer than this service understands (up to {understood})."
NO_SCHEMA = "{type} has no version {version!r}."
NOT_AN_OBJECT = "An event is a JSON object, not {kind}."
MALFORMED_EVENT = "Malformed {type} event: {error}."


class EventRejected(ValueError):
    """A message this service cannot handle, however often it tries: it goes to the dead letters."""

    reason: ClassVar[str]


class UnknownEventType(EventRejected):
    reason = "unknown_type"


class NewerEventVersion(EventRejected):
    reason = "newer_version"


class InvalidEvent(EventRejected):
    reason = "invalid_payload"


@dataclass(frozen=True, kw_only=True)
class Event:
    type: ClassVar[str]
    version: ClassVar[int] = 1
    # The services that may send it: a consumer refuses it signed by any other
    # (edge.messaging.signing).
    producers: ClassVar[tuple[str, ...]]
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
            raise InvalidEvent(MALFORMED_EVENT.format(type=cls.type, error=error)) from error


@dataclass(frozen=True, kw_only=True)
class SealedEvent(Event):
    """An event whose ``sealed_fields`` open an account (a link with a one-time token): they travel
    sealed (``edge.sealing``). The message waits in the outbox, the queue and perhaps the dead
    letters, where anyone who reads the database could take it."""

    sealed_fields: ClassVar[tuple[str, ...]]
    # The first version that seals them; older messages carried them in clear.
    sealed_since: ClassVar[int] = 1

    def to_message(self) -> dict[str, Any]:
        message = super().to_message()
        return {**message, **{name: seal(message[name]) for name in self.sealed_fields}}

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Self:
        event = super().from_message(message)
        if message.get("version", cls.version) < cls.sealed_since:
            return event
        try:
            return replace(event, **{name: unseal(getattr(event, name)) for name in cls.sealed_fields})
        except SealBroken as error:
            raise InvalidEvent(MALFORMED_EVENT.format(type=cls.type, error=error)) from error


@dataclass(frozen=True, kw_only=True)
class UserRegistered(Event):
    """A user confirmed their email address: only now may an email to it carry what they typed."""

    type = "user.registered"
    producers = ("auth",)
    subscribers = ("notify",)

    user_id: int
    email: str
    full_name: str = ""


@dataclass(frozen=True, kw_only=True)
class EmailConfirmationRequested(SealedEvent):
    """Someone registered a new account with this address: notify emails the link that confirms it.

    Nothing the registrant typed travels but the address: whoever owns it has not agreed to hear
    from them yet."""

    type = "user.email_confirmation_requested"
    producers = ("auth",)
    subscribers = ("notify",)
    sealed_fields = ("confirm_url",)

    user_id: int
    email: str
    confirm_url: str


@dataclass(frozen=True, kw_only=True)
class EmailAlreadyRegistered(SealedEvent):
    """Someone tried to register with the address of an existing account: notify tells its owner,
    with a link that sets a new password, and nothing else the registrant typed."""

    type = "user.email_already_registered"
    producers = ("auth",)
    subscribers = ("notify",)
    sealed_fields = ("reset_url",)

    user_id: int
    email: str
    reset_url: str


@dataclass(frozen=True, kw_only=True)
class PasswordResetRequested(SealedEvent):
    type = "user.password_reset_requested"
    # 2: the link travels sealed.
    version = 2
    producers = ("auth",)
    subscribers = ("notify",)
    sealed_fields = ("reset_url",)
    sealed_since = 2

    user_id: int
    email: str
    reset_url: str


@dataclass(frozen=True, kw_only=True)
class ProductChanged(Event):
    """A product was created, or its name, price or active flag changed: orders keeps a price list."""

    type = "product.changed"
    producers = ("catalog",)
    subscribers = ("orders",)

    product_id: int
    sku: str
    name: str
    # Decimal amounts travel as strings, so no float ever rounds a price.
    price: str
    currency: str
    active: bool
    change: str  # "created", "updated" or "deactivated"


@dataclass(frozen=True, kw_only=True)
class OrderPlaced(Event):
    type = "order.placed"
    producers = ("orders",)
    subscribers = ("catalog",)

    order_id: int
    customer_id: int
    customer_email: str
    items: list[dict[str, int]]  # [{"product_id": 1, "quantity": 2}, ...]


@dataclass(frozen=True, kw_only=True)
class StockReserved(Event):
    type = "stock.reserved"
    producers = ("catalog",)
    subscribers = ("orders",)

    order_id: int


@dataclass(frozen=True, kw_only=True)
class StockRejected(Event):
    type = "stock.rejected"
    producers = ("catalog",)
    subscribers = ("orders",)

    order_id: int
    reason: str
    # [{"product_id": 1, "requested": 3, "available": 1}, ...]; empty when the reason is not stock.
    shortages: list[dict[str, int]] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class OrderEvent(Event):
    """What notify needs to tell a customer about their order."""

    producers = ("orders",)

    order_id: int
    customer_id: int
    customer_email: str
    total: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class OrderConfirmed(OrderEvent):
    type = "order.confirmed"
    subscribers = ("notify",)


@dataclass(frozen=True, kw_only=True)
class OrderRejected(OrderEvent):
    type = "order.rejected"
    subscribers = ("notify",)

    reason: str


@dataclass(frozen=True, kw_only=True)
class OrderShipped(OrderEvent):
    type = "order.shipped"
    # Catalog takes the shipped units off the stock on hand (they were reserved until now).
    subscribers = ("catalog", "notify")


@dataclass(frozen=True, kw_only=True)
class OrderDelivered(OrderEvent):
    type = "order.delivered"
    subscribers = ("notify",)


@dataclass(frozen=True, kw_only=True)
class OrderCancelled(OrderEvent):
    type = "order.cancelled"
    subscribers = ("catalog", "notify")

    reason: str


@dataclass(frozen=True, kw_only=True)
class StaffAlertsSubscriptionChanged(Event):
    """Whether a user gets staff alerts by email: staff who opted in, while active and staff.

    Sent whenever that or their address changes (and once more, unsubscribed, when the account
    goes); notify keeps the list of addresses it emails each alert to."""

    type = "user.staff_alerts_changed"
    producers = ("auth",)
    subscribers = ("notify",)

    user_id: int
    email: str
    subscribed: bool


class StaffAlertKind(StrEnum):
    LOW_STOCK = "low_stock"
    OUT_OF_STOCK = "out_of_stock"
    ORDER_REJECTED = "order_rejected"
    EMAIL_FAILED = "email_failed"
    DEAD_LETTER = "dead_letter"


@dataclass(frozen=True, kw_only=True)
class StaffAlertRaised(Event):
    """Something staff should act on (a product out of stock, a dead letter): notify logs it
    (a notification on the log channel and a JSON log line) and emails the subscribed staff.

    Raised through ``edge.alerts.staff_alert_raise``, which notify, its one subscriber, handles
    in place rather than sending to itself."""

    type = "staff.alert_raised"
    producers = ("catalog", "orders")
    subscribers = ("notify",)

    kind: str  # a StaffAlertKind
    # The service where it happened.
    service: str
    subject: str
    detail: str = ""
    # What it is about, in that service: ("product", "12"), ("deadletter", "3").
    object_type: str = ""
    object_id: str = ""
    # Where staff act on it: a path on the gateway (that service's admin page of the object).
    link: str = ""


EVENT_TYPES: dict[str, type[Event]] = {
    event.type: event
    for event in (
        UserRegistered,
        EmailConfirmationRequested,
        EmailAlreadyRegistered,
        PasswordResetRequested,
        ProductChanged,
        OrderPlaced,
        StockReserved,
        StockRejected,
        OrderConfirmed,
        OrderRejected,
        OrderShipped,
        OrderDelivered,
        OrderCancelled,
        StaffAlertsSubscriptionChanged,
        StaffAlertRaised,
    )
}


def event_from_message(message: object) -> Event:
    """The event a message carries, once the message has passed its contract's checks."""
    return message_check(message).from_message(message)


def message_check(message: object) -> type[Event]:
    """The event class of a message that keeps its contract.

    Raises ``UnknownEventType``, ``NewerEventVersion`` or ``InvalidEvent``. A version older than
    the class's is checked against its own schema; the version that changes a field is the one
    whose ``from_message`` brings the older shape up to date.
    """
    if not isinstance(message, dict):
        raise InvalidEvent(NOT_AN_OBJECT.format(kind=type(message).__name__))
    event_type = message.get("type")
    event_class = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if event_class is None:
        raise UnknownEventType(UNKNOWN_EVENT_TYPE.format(type=event_type))
    version = message.get("version")
    if type(version) is int and version > event_class.version:
        raise NewerEventVersion(
            NEWER_VERSION.format(type=event_type, version=version, understood=event_class.version)
        )
    validator = validator_for(event_type, version) if type(version) is int else None
    if validator is None:
        raise InvalidEvent(NO_SCHEMA.format(type=event_type, version=version))
    error = payload_error(validator, message)
    if error is not None:
        raise InvalidEvent(MALFORMED_EVENT.format(type=event_type, error=error))
    return event_class
