"""Pending orders expire: cancelled after ORDERS_PENDING_EXPIRY_SECONDS, and the catalog told to release their stock."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from edge.events import OrderCancelled, StockReserved
from edge.messaging.models import OutboxMessage
from edge.messaging.services import event_handle
from orders.models import Order
from orders.services import orders_expire_pending
from tests.factories import OrderFactory


@pytest.fixture(autouse=True)
def _expiry(settings) -> None:
    settings.ORDERS_PENDING_EXPIRY_SECONDS = 15 * 60


def placed_ago(minutes: float, **fields: object) -> Order:
    order = OrderFactory(**fields)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))
    return order


def cancellations(order: Order) -> list[dict]:
    return [
        message.payload
        for message in OutboxMessage.objects.filter(event_type=OrderCancelled.type)
        if message.payload["order_id"] == order.pk
    ]


@pytest.mark.django_db
def test_an_order_pending_past_the_expiry_is_cancelled_and_the_catalog_told_to_release():
    order = placed_ago(16)

    assert orders_expire_pending() == 1

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    step = order.history.get()
    assert (step.from_status, step.to_status, step.actor_kind, step.actor_label) == (
        "pending",
        "cancelled",
        "system",
        "expiry",
    )
    assert step.reason == "expired: the stock was not confirmed within 15 minutes of placing the order"
    [event] = cancellations(order)
    assert event["reason"] == step.reason


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("minutes", "status"),
    [(14, Order.Status.PENDING), (60, Order.Status.CONFIRMED), (60, Order.Status.REJECTED)],
)
def test_a_fresh_pending_order_and_an_answered_one_do_not_expire(minutes, status):
    order = placed_ago(minutes, status=status)

    assert orders_expire_pending() == 0

    order.refresh_from_db()
    assert order.status == status
    assert not cancellations(order)


@pytest.mark.django_db
def test_an_expired_order_is_expired_once():
    order = placed_ago(16)

    orders_expire_pending()
    assert orders_expire_pending() == 0

    assert len(cancellations(order)) == 1
    assert order.history.count() == 1


@pytest.mark.django_db
def test_the_expiry_is_a_setting(settings):
    settings.ORDERS_PENDING_EXPIRY_SECONDS = 90
    order = placed_ago(2)

    orders_expire_pending()

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert "within 90 seconds" in order.history.get().reason


@pytest.mark.django_db
def test_stock_reserved_after_the_expiry_leaves_the_order_cancelled_with_one_cancellation():
    order = placed_ago(16)
    orders_expire_pending()

    event_handle(message=StockReserved(order_id=order.pk).to_message())

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert len(cancellations(order)) == 1


@pytest.mark.django_db
def test_every_batch_is_swept():
    orders = [placed_ago(20) for _ in range(5)]

    assert orders_expire_pending(batch_size=2) == 5

    assert set(Order.objects.filter(pk__in=[o.pk for o in orders]).values_list("status", flat=True)) == {
        Order.Status.CANCELLED
    }


@pytest.mark.django_db
def test_the_outbox_relay_runs_the_sweep():
    order = placed_ago(16)

    call_command("relay_outbox", "--once")

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED


@pytest.mark.django_db(transaction=True)
# Here commits are real, so the events go to the test Redis: Celery warns they are not eager.
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_an_order_being_confirmed_is_left_to_the_next_sweep():
    order = placed_ago(16)
    locked, release = threading.Event(), threading.Event()

    def confirm_slowly() -> None:
        # What order_confirm does: hold the order's row until its transaction ends.
        try:
            with transaction.atomic():
                Order.objects.select_for_update().get(pk=order.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    holder = threading.Thread(target=confirm_slowly)
    holder.start()
    try:
        assert locked.wait(10)
        assert orders_expire_pending() == 0
    finally:
        release.set()
        holder.join()
    assert orders_expire_pending() == 1


@pytest.mark.django_db(transaction=True)
# Here commits are real, so the events go to the test Redis: Celery warns they are not eager.
@pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")
def test_sweeps_side_by_side_expire_each_order_once():
    orders = [placed_ago(20) for _ in range(30)]

    def sweep(_: int) -> int:
        try:
            return orders_expire_pending(batch_size=3)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=3) as pool:
        expired = sum(pool.map(sweep, range(3)))

    assert expired == 30
    assert OutboxMessage.objects.filter(event_type=OrderCancelled.type).count() == 30
    assert all(order.history.count() == 1 for order in orders)
