"""Orders in, stock reserved (all or nothing), released once, sold once; answers out."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection
from django.db.models import Sum

from catalog import errors
from catalog.models import Reservation, Stock, StockMovement
from edge.events import OrderCancelled, OrderPlaced, OrderShipped, StockRejected, StockReserved
from edge.messaging.models import DeadLetter
from edge.messaging.services import event_handle
from edge.messaging.tasks import handle_event
from edge.testing import signed_by_producer
from tests.factories import make_product
from tests.helpers import published

ORDER = {"customer_id": 3, "customer_email": "ann@example.com"}
CANCELLED = {**ORDER, "total": "10.00", "currency": "EUR", "reason": "changed my mind"}


def placed(order_id: int, *items: tuple[int, int]) -> dict:
    return OrderPlaced(
        order_id=order_id, **ORDER, items=[{"product_id": p, "quantity": q} for p, q in items]
    ).to_message()


def stock_of(product) -> tuple[int, int]:
    stock = Stock.objects.get(product=product)
    return stock.on_hand, stock.reserved


@pytest.mark.django_db
def test_an_order_reserves_every_item_and_is_answered_reserved():
    tea, cup = make_product(on_hand=5), make_product(on_hand=2)

    event_handle(message=placed(10, (tea.pk, 3), (cup.pk, 2)))

    assert stock_of(tea) == (5, 3)
    assert stock_of(cup) == (2, 2)
    assert published(StockReserved, order_id=10)
    assert not published(StockRejected)
    assert StockMovement.objects.filter(order_id=10, reason="reservation").count() == 2


@pytest.mark.django_db
def test_an_order_short_of_one_item_reserves_nothing_and_says_what_is_short():
    tea, cup = make_product(on_hand=5), make_product(on_hand=1)

    event_handle(message=placed(11, (tea.pk, 3), (cup.pk, 2)))

    assert stock_of(tea) == (5, 0)
    assert stock_of(cup) == (1, 0)
    [rejected] = published(StockRejected, order_id=11)
    assert rejected["reason"] == errors.REJECT_INSUFFICIENT_STOCK
    assert rejected["shortages"] == [{"product_id": cup.pk, "requested": 2, "available": 1}]
    assert not published(StockReserved)
    assert not StockMovement.objects.filter(order_id=11).exists()


@pytest.mark.django_db
def test_an_item_named_twice_counts_twice():
    tea = make_product(on_hand=3)

    event_handle(message=placed(12, (tea.pk, 2), (tea.pk, 2)))

    [rejected] = published(StockRejected, order_id=12)
    assert rejected["shortages"] == [{"product_id": tea.pk, "requested": 4, "available": 3}]


@pytest.mark.django_db
@pytest.mark.parametrize("active", [True, False])
def test_an_order_for_an_unknown_or_inactive_product_is_rejected_with_the_reason(active):
    tea, gone = make_product(on_hand=5), make_product(on_hand=5, active=active)
    unknown = gone.pk if not active else 999_999

    event_handle(message=placed(13, (tea.pk, 1), (unknown, 1)))

    [rejected] = published(StockRejected, order_id=13)
    assert rejected["reason"] == errors.REJECT_UNKNOWN_PRODUCTS.format(ids=unknown)
    assert rejected["shortages"] == []
    assert stock_of(tea) == (5, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "items",
    [
        [],
        [{"product_id": 1, "quantity": 0}],
        [{"product_id": 1, "quantity": -2}],
        [{"product_id": "x", "quantity": 1}],
    ],
)
def test_an_order_with_no_or_malformed_items_goes_to_the_dead_letters_and_reserves_nothing(items):
    tea = make_product(on_hand=5)
    message = OrderPlaced(order_id=14, **ORDER, items=items).to_message()

    handle_event.delay(message, **signed_by_producer(message))

    [dead] = DeadLetter.objects.filter(event_id=message["event_id"])
    assert dead.reason == DeadLetter.Reason.INVALID_PAYLOAD
    assert "(at items" in dead.error
    assert stock_of(tea) == (5, 0)
    assert not Reservation.objects.filter(order_id=14).exists()
    assert published(StockReserved, order_id=14) == published(StockRejected, order_id=14) == []


@pytest.mark.django_db
def test_the_same_order_placed_twice_reserves_once_and_answers_once():
    tea = make_product(on_hand=5)

    event_handle(message=placed(15, (tea.pk, 2)))
    # Another event for the same order, as a retrying publisher would send it.
    event_handle(message=placed(15, (tea.pk, 2)))

    assert stock_of(tea) == (5, 2)
    assert len(published(StockReserved, order_id=15)) == 1


@pytest.mark.django_db
def test_a_cancellation_releases_the_reservation_once_however_often_it_arrives():
    tea = make_product(on_hand=5)
    event_handle(message=placed(16, (tea.pk, 4)))

    for _ in range(3):
        event_handle(message=OrderCancelled(order_id=16, **CANCELLED).to_message())

    assert stock_of(tea) == (5, 0)
    assert Reservation.objects.get(order_id=16).status == "released"
    assert StockMovement.objects.filter(order_id=16, reason="release").count() == 1


@pytest.mark.django_db
def test_a_cancellation_that_overtakes_its_order_leaves_nothing_reserved():
    tea = make_product(on_hand=5)

    event_handle(message=OrderCancelled(order_id=17, **CANCELLED).to_message())
    event_handle(message=placed(17, (tea.pk, 2)))

    assert stock_of(tea) == (5, 0)
    assert not published(StockReserved, order_id=17)


@pytest.mark.django_db
def test_a_rejected_order_releases_nothing_when_cancelled():
    tea = make_product(on_hand=1)
    event_handle(message=placed(18, (tea.pk, 2)))

    event_handle(message=OrderCancelled(order_id=18, **CANCELLED).to_message())

    assert stock_of(tea) == (1, 0)
    assert Reservation.objects.get(order_id=18).status == "rejected"


@pytest.mark.django_db
def test_a_shipped_order_leaves_the_stock_on_hand_once():
    tea = make_product(on_hand=5)
    event_handle(message=placed(19, (tea.pk, 2)))
    shipped = {k: v for k, v in CANCELLED.items() if k != "reason"}

    event_handle(message=OrderShipped(order_id=19, **shipped).to_message())
    event_handle(message=OrderShipped(order_id=19, **shipped).to_message())
    event_handle(message=OrderCancelled(order_id=19, **CANCELLED).to_message())

    assert stock_of(tea) == (3, 0)
    assert Reservation.objects.get(order_id=19).status == "sold"
    assert StockMovement.objects.filter(order_id=19, reason="sale").count() == 1


@pytest.mark.django_db(transaction=True)
# Here commits are real, so the answers go to the test Redis: Celery warns they are not eager.
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_concurrent_orders_never_oversell():
    tea = make_product(on_hand=10)
    orders = range(100, 130)

    def place(order_id: int) -> None:
        try:
            event_handle(message=placed(order_id, (tea.pk, 1)))
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(place, orders))

    assert stock_of(tea) == (10, 10)
    assert len(published(StockReserved)) == 10
    assert len(published(StockRejected)) == 20
    sums = StockMovement.objects.filter(product=tea).aggregate(Sum("on_hand_delta"), Sum("reserved_delta"))
    assert (sums["on_hand_delta__sum"], sums["reserved_delta__sum"]) == (10, 10)
