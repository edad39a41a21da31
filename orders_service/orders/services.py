"""Writes of orders: placing, the life cycle, and the price list."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from edge.events import (
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderEvent,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    ProductChanged,
)
from edge.messaging.services import publish
from orders.errors import EmailNotConfirmed, InvalidTransition
from orders.models import Order, OrderItem, OrderTransition, PriceListEntry
from orders.selectors import HISTORY, ITEMS

# The reason an expired order's history and cancellation email give.
EXPIRED = "expired: the stock was not confirmed within {within} of placing the order"


@dataclass(frozen=True)
class Actor:
    """Who moved an order, for its history."""

    kind: str
    label: str
    id: int | None = None

    @classmethod
    def for_user(cls, user: Any) -> "Actor":
        kind = OrderTransition.ActorKind.STAFF if user.is_staff else OrderTransition.ActorKind.CUSTOMER
        return cls(kind=kind, label=user.email, id=user.id)

    @classmethod
    def system(cls, name: str) -> "Actor":
        return cls(kind=OrderTransition.ActorKind.SYSTEM, label=name)


# The API places an order inside the transaction that holds its idempotency key: a savepoint of
# its own would cost two round trips, and any failure rolls that whole transaction back anyway.
@transaction.atomic(savepoint=False)
def order_place(*, customer: Any, items: list[dict[str, int]], prices: dict[int, PriceListEntry]) -> Order:
    """A pending order priced from the price list; ``order.placed`` asks the catalog for stock.

    The items are validated already (known, active products; sane quantities), and ``prices``
    holds the price list entry of each, by product id. The customer's token must say their email
    address is confirmed (``email_verified``): an account anyone registered with a stranger's
    address places no orders, so the stranger gets no order emails.
    """
    if not customer.email_verified:
        raise EmailNotConfirmed
    lines = [
        OrderItem(
            product_id=item["product_id"],
            sku=prices[item["product_id"]].sku,
            name=prices[item["product_id"]].name,
            unit_price=prices[item["product_id"]].price,
            quantity=item["quantity"],
        )
        for item in items
    ]
    order = Order.objects.create(
        customer_id=customer.id,
        customer_email=customer.email,
        currency=prices[items[0]["product_id"]].currency,
        total=sum((line.line_total for line in lines), Decimal("0.00")),
    )
    for line in lines:
        line.order = order
    OrderItem.objects.bulk_create(lines)
    placed = _record(order, Order.Status.PENDING, actor=Actor.for_user(customer), reason="placed")
    # What the API answers with: the rows just written, as order_list_for would read them.
    setattr(order, ITEMS, lines)
    setattr(order, HISTORY, [placed])
    publish(
        OrderPlaced(
            order_id=order.pk,
            customer_id=order.customer_id,
            customer_email=order.customer_email,
            items=[{"product_id": line.product_id, "quantity": line.quantity} for line in lines],
        )
    )
    return order


def _record(order: Order, to_status: str, *, actor: Actor, reason: str = "") -> OrderTransition:
    transition = OrderTransition.objects.create(
        order=order,
        from_status="" if to_status == Order.Status.PENDING else order.status,
        to_status=to_status,
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        reason=reason,
    )
    if order.status != to_status:
        order.status = to_status
        order.save(update_fields=["status", "updated_at"])
    return transition


def _order_event_fields(order: Order) -> dict[str, Any]:
    return {
        "order_id": order.pk,
        "customer_id": order.customer_id,
        "customer_email": order.customer_email,
        "total": str(order.total),
        "currency": order.currency,
    }


def _transition(order: Order, to_status: str, *, actor: Actor, reason: str, event: OrderEvent) -> Order:
    if not order.can_transition_to(to_status):
        raise InvalidTransition(order.status, to_status)
    _record(order, to_status, actor=actor, reason=reason)
    # The outbox row commits with the new status: consumers never hear of a change that rolled back.
    publish(event)
    return order


def _locked(order_id: int) -> Order:
    return Order.objects.select_for_update().get(pk=order_id)


# The handlers of the catalog's answers run inside the inbox transaction (edge.messaging), which
# any failure rolls back whole: a savepoint of their own would cost two round trips for nothing.
@transaction.atomic(savepoint=False)
def order_confirm(*, order_id: int) -> Order:
    """The catalog reserved the stock. A cancel that came first wins: its ``order.cancelled``
    releases the reservation whichever of the two the catalog handles first, so nothing more is
    sent (a second cancellation would email the customer twice)."""
    order = _locked(order_id)
    if order.status != Order.Status.PENDING:
        return order
    return _transition(
        order,
        Order.Status.CONFIRMED,
        actor=Actor.system("catalog"),
        reason="stock reserved",
        event=OrderConfirmed(**_order_event_fields(order)),
    )


@transaction.atomic(savepoint=False)
def order_reject(*, order_id: int, reason: str) -> Order:
    order = _locked(order_id)
    if order.status != Order.Status.PENDING:
        return order
    return _transition(
        order,
        Order.Status.REJECTED,
        actor=Actor.system("catalog"),
        reason=reason,
        event=OrderRejected(**_order_event_fields(order), reason=reason),
    )


@transaction.atomic
def order_cancel(*, order: Order, actor: Actor, reason: str = "") -> Order:
    order = _locked(order.pk)
    reason = reason or f"cancelled by {actor.kind}"
    return _transition(
        order,
        Order.Status.CANCELLED,
        actor=actor,
        reason=reason,
        event=OrderCancelled(**_order_event_fields(order), reason=reason),
    )


def orders_expire_pending(*, now: datetime | None = None, batch_size: int = 100) -> int:
    """Cancel the pending orders placed more than ``ORDERS_PENDING_EXPIRY_SECONDS`` ago; how many.

    The catalog hears ``order.cancelled`` as for any cancellation and releases what it holds for
    the order, once, whether it handles the order before or after the cancellation (one that
    comes first leaves a released reservation, so nothing is reserved). Each batch claims its orders with SKIP LOCKED: relays running this side by
    side never expire one twice, and an order a handler is confirming right now is left to the
    next sweep, which finds it confirmed.
    """
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.ORDERS_PENDING_EXPIRY_SECONDS)
    reason = _expiry_reason()
    expired = 0
    while True:
        with transaction.atomic():
            batch = list(
                Order.objects.select_for_update(skip_locked=True)
                .filter(status=Order.Status.PENDING, created_at__lt=cutoff)
                .order_by("created_at")[:batch_size]
            )
            for order in batch:
                _transition(
                    order,
                    Order.Status.CANCELLED,
                    actor=Actor.system("expiry"),
                    reason=reason,
                    event=OrderCancelled(**_order_event_fields(order), reason=reason),
                )
        expired += len(batch)
        if len(batch) < batch_size:
            return expired


def _expiry_reason() -> str:
    seconds = settings.ORDERS_PENDING_EXPIRY_SECONDS
    within = f"{seconds // 60} minutes" if seconds % 60 == 0 else f"{seconds} seconds"
    return EXPIRED.format(within=within)


@transaction.atomic
def order_ship(*, order: Order, actor: Actor) -> Order:
    order = _locked(order.pk)
    return _transition(
        order,
        Order.Status.SHIPPED,
        actor=actor,
        reason="shipped",
        event=OrderShipped(**_order_event_fields(order)),
    )


@transaction.atomic
def order_deliver(*, order: Order, actor: Actor) -> Order:
    order = _locked(order.pk)
    return _transition(
        order,
        Order.Status.DELIVERED,
        actor=actor,
        reason="delivered",
        event=OrderDelivered(**_order_event_fields(order)),
    )


def price_list_apply(*, event: ProductChanged) -> PriceListEntry | None:
    """Keep the newest price the catalog announced; an older event arriving late changes nothing."""
    entry = PriceListEntry.objects.select_for_update().filter(product_id=event.product_id).first()
    if entry is not None and entry.changed_at >= event.occurred_at:
        return entry
    values = {
        "sku": event.sku,
        "name": event.name,
        "price": Decimal(event.price),
        "currency": event.currency,
        "active": event.active,
        "changed_at": event.occurred_at,
    }
    entry, _ = PriceListEntry.objects.update_or_create(product_id=event.product_id, defaults=values)
    return entry
