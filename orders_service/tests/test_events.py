"""What the catalog tells orders: prices, and whether the stock is there."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from edge.events import (
    OrderCancelled,
    OrderConfirmed,
    OrderRejected,
    ProductChanged,
    StockRejected,
    StockReserved,
)
from edge.messaging.models import OutboxMessage
from edge.messaging.services import event_handle
from orders.models import Order, PriceListEntry
from tests.factories import OrderFactory


def _product_changed(price: str, at: datetime) -> dict:
    return ProductChanged(
        product_id=3,
        sku="TEA-3",
        name="Tea",
        price=price,
        currency="EUR",
        active=True,
        change="updated",
        occurred_at=at,
    ).to_message()


def test_product_changed_keeps_the_newest_price(db):
    now = datetime.now(UTC)

    event_handle(message=_product_changed("5.00", now))
    event_handle(message=_product_changed("4.00", now - timedelta(minutes=1)))

    assert PriceListEntry.objects.get(product_id=3).price == Decimal("5.00")


def test_stock_reserved_confirms_the_order_and_tells_the_customer(db):
    order = OrderFactory()

    event_handle(message=StockReserved(order_id=order.id).to_message())

    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED
    assert order.history.get().actor_label == "catalog"
    assert OutboxMessage.objects.filter(event_type=OrderConfirmed.type).count() == 1


def test_stock_rejected_rejects_the_order_with_the_shortage(db):
    order = OrderFactory()
    event = StockRejected(
        order_id=order.id,
        reason="insufficient stock",
        shortages=[{"product_id": 3, "requested": 5, "available": 2}],
    )

    event_handle(message=event.to_message())

    order.refresh_from_db()
    assert order.status == Order.Status.REJECTED
    assert order.history.get().reason == "insufficient stock (product 3: 2 of 5 available)"
    assert (
        OutboxMessage.objects.get(event_type=OrderRejected.type).payload["reason"].startswith("insufficient")
    )


def test_stock_reserved_for_an_order_cancelled_meanwhile_leaves_it_cancelled_and_sends_nothing(db):
    # The cancellation's own order.cancelled releases the stock: the catalog handles it after
    # the reservation, or before it and then reserves nothing.
    order = OrderFactory(status=Order.Status.CANCELLED)

    event_handle(message=StockReserved(order_id=order.id).to_message())

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert not OutboxMessage.objects.filter(
        event_type__in=[OrderCancelled.type, OrderConfirmed.type]
    ).exists()


def test_a_late_stock_answer_leaves_a_shipped_order_alone(db):
    order = OrderFactory(status=Order.Status.SHIPPED)

    event_handle(message=StockRejected(order_id=order.id, reason="insufficient stock").to_message())

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED
    assert not OutboxMessage.objects.exists()
