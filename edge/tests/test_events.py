"""The event contracts: every event survives the trip through JSON and names its consumers."""

import json

import pytest

from edge.events import (
    EVENT_TYPES,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderPlaced,
    OrderRejected,
    OrderShipped,
    PasswordResetRequested,
    ProductChanged,
    StockRejected,
    StockReserved,
    UserRegistered,
    event_from_message,
)

ORDER = {
    "order_id": 10,
    "customer_id": 1,
    "customer_email": "ann@example.com",
    "total": "25.90",
    "currency": "EUR",
}
EXAMPLES = {
    UserRegistered: UserRegistered(user_id=1, email="ann@example.com", full_name="Ann"),
    PasswordResetRequested: PasswordResetRequested(
        user_id=1, email="ann@example.com", reset_url="http://shop.example/password-reset/?token=abc"
    ),
    ProductChanged: ProductChanged(
        product_id=3,
        sku="TEA-001",
        name="Green tea",
        price="4.50",
        currency="EUR",
        active=True,
        change="created",
    ),
    OrderPlaced: OrderPlaced(
        order_id=10, customer_id=1, customer_email="ann@example.com", items=[{"product_id": 3, "quantity": 2}]
    ),
    StockReserved: StockReserved(order_id=10),
    StockRejected: StockRejected(
        order_id=10,
        reason="insufficient stock",
        shortages=[{"product_id": 3, "requested": 2, "available": 1}],
    ),
    OrderConfirmed: OrderConfirmed(**ORDER),
    OrderRejected: OrderRejected(**ORDER, reason="insufficient stock"),
    OrderShipped: OrderShipped(**ORDER),
    OrderDelivered: OrderDelivered(**ORDER),
    OrderCancelled: OrderCancelled(**ORDER, reason="changed my mind"),
}


def test_every_event_type_has_an_example():
    assert set(EXAMPLES) == set(EVENT_TYPES.values())


@pytest.mark.parametrize("event", EXAMPLES.values(), ids=lambda event: event.type)
def test_an_event_comes_back_equal_from_its_json_message(event):
    message = json.loads(json.dumps(event.to_message()))

    assert message["type"] == event.type
    assert message["version"] == event.version
    assert event_from_message(message) == event


@pytest.mark.parametrize("event_class", EVENT_TYPES.values(), ids=lambda event_class: event_class.type)
def test_every_event_has_subscribers(event_class):
    assert event_class.subscribers


def test_a_message_missing_a_field_is_refused_by_name():
    message = EXAMPLES[UserRegistered].to_message()
    del message["email"]

    with pytest.raises(ValueError, match=r"user\.registered"):
        event_from_message(message)


def test_an_unknown_event_type_is_refused():
    with pytest.raises(ValueError, match="Unknown event type"):
        event_from_message({"type": "order.teleported"})
