"""Fair use of stock: one customer's open orders hold at most their share of a product."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from catalog import errors
from catalog.models import Reservation, Stock, StockMovement
from catalog.services import customer_share_limit
from edge.events import OrderCancelled, OrderPlaced, OrderShipped, StockRejected, StockReserved
from edge.messaging.services import event_handle
from tests.factories import make_product
from tests.helpers import published

ANN, BOB = 3, 4
SHARE_REASON = errors.REJECT_OVER_CUSTOMER_SHARE.format(percent=20, minimum=1)


@pytest.fixture(autouse=True)
def _share(settings) -> None:
    settings.CATALOG_CUSTOMER_SHARE_PERCENT = 20
    settings.CATALOG_CUSTOMER_SHARE_MIN_UNITS = 1


def place(order_id: int, customer_id: int, *items: tuple[int, int]) -> None:
    event_handle(
        message=OrderPlaced(
            order_id=order_id,
            customer_id=customer_id,
            customer_email=f"user{customer_id}@example.com",
            items=[{"product_id": p, "quantity": q} for p, q in items],
        ).to_message()
    )


def order_event(event_class: type, order_id: int, customer_id: int, **fields: str) -> dict:
    return event_class(
        order_id=order_id,
        customer_id=customer_id,
        customer_email=f"user{customer_id}@example.com",
        total="10.00",
        currency="EUR",
        **fields,
    ).to_message()


def reserved(product) -> int:
    return Stock.objects.get(product=product).reserved


@pytest.mark.parametrize(("on_hand", "limit"), [(20, 4), (24, 4), (25, 5), (4, 1), (0, 1)])
def test_the_share_is_a_fifth_of_the_units_on_hand_rounded_down_and_at_least_one(on_hand, limit):
    assert customer_share_limit(on_hand) == limit


@pytest.mark.django_db
def test_an_order_past_the_customers_share_is_rejected_saying_what_is_left_to_them():
    teapot = make_product(on_hand=20)
    place(1, ANN, (teapot.pk, 3))

    place(2, ANN, (teapot.pk, 2))

    [rejected] = published(StockRejected, order_id=2)
    assert rejected["reason"] == SHARE_REASON
    assert "at most 20% of a product's units (at least 1)" in rejected["reason"]
    assert rejected["shortages"] == [{"product_id": teapot.pk, "requested": 2, "available": 1}]
    assert Reservation.objects.get(order_id=2).status == Reservation.Status.REJECTED
    assert not StockMovement.objects.filter(order_id=2).exists()
    assert reserved(teapot) == 3


@pytest.mark.django_db
def test_a_customer_may_fill_their_share_exactly():
    teapot = make_product(on_hand=20)
    place(1, ANN, (teapot.pk, 3))

    place(2, ANN, (teapot.pk, 1))

    assert published(StockReserved, order_id=2)
    assert reserved(teapot) == 4


@pytest.mark.django_db
def test_one_customers_orders_do_not_hold_another_back():
    teapot = make_product(on_hand=20)
    place(1, ANN, (teapot.pk, 4))

    place(2, BOB, (teapot.pk, 4))

    assert published(StockReserved, order_id=2)
    assert reserved(teapot) == 8


@pytest.mark.django_db
def test_a_product_of_a_few_units_can_still_be_bought_one_unit_per_customer():
    rare = make_product(on_hand=3)

    place(1, ANN, (rare.pk, 2))
    place(2, ANN, (rare.pk, 1))
    place(3, BOB, (rare.pk, 1))

    assert published(StockRejected, order_id=1)[0]["shortages"][0]["available"] == 1
    assert published(StockReserved, order_id=2)
    assert published(StockReserved, order_id=3)
    assert reserved(rare) == 2


@pytest.mark.django_db
def test_an_order_over_the_share_of_one_item_reserves_none_of_its_items():
    teapot, cups = make_product(on_hand=20), make_product(on_hand=100)

    place(1, ANN, (cups.pk, 10), (teapot.pk, 5))

    [rejected] = published(StockRejected, order_id=1)
    assert rejected["shortages"] == [{"product_id": teapot.pk, "requested": 5, "available": 4}]
    assert reserved(teapot) == reserved(cups) == 0


@pytest.mark.django_db
def test_units_of_a_cancelled_or_shipped_order_no_longer_count_against_the_customer():
    teapot = make_product(on_hand=20)
    place(1, ANN, (teapot.pk, 4))
    event_handle(message=order_event(OrderCancelled, 1, ANN, reason="changed my mind"))
    place(2, ANN, (teapot.pk, 4))
    event_handle(message=order_event(OrderShipped, 2, ANN))

    # 16 units left on hand: the share is now 3.
    place(3, ANN, (teapot.pk, 3))

    assert published(StockReserved, order_id=3)
    assert Stock.objects.get(product=teapot).on_hand == 16
    assert reserved(teapot) == 3


@pytest.mark.django_db
def test_a_short_stock_is_told_as_such_before_the_share():
    teapot = make_product(on_hand=5)

    place(1, ANN, (teapot.pk, 6))

    [rejected] = published(StockRejected, order_id=1)
    assert rejected["reason"] == errors.REJECT_INSUFFICIENT_STOCK


@pytest.mark.django_db(transaction=True)
# Here commits are real, so the answers go to the test Redis: Celery warns they are not eager.
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_concurrent_orders_of_one_customer_never_pass_their_share():
    teapot = make_product(on_hand=20)

    def order_one(order_id: int) -> None:
        try:
            place(order_id, ANN, (teapot.pk, 1))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(order_one, range(100, 116)))

    assert reserved(teapot) == 4
    assert len(published(StockReserved)) == 4
    assert len(published(StockRejected)) == 12
