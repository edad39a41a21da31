"""Fair use of stock, tried through the gateway and past it: one customer's share of a product,
pending orders that expire and give their stock back, how fast one customer may place orders,
and how many orders the gateway takes in over all customers."""

import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import psycopg
import pytest

from devstack.stack import Stack
from tests.support import (
    ORDER_INTAKE_BURST,
    ORDER_INTAKE_PER_S,
    create_orderable_product,
    eventually,
    order_status,
    outbox_payloads,
    place_order,
    register,
    stock,
    wait_for_status,
)


def _last_step(gateway: httpx.Client, customer, order_id: int) -> dict:
    return gateway.get(f"/api/orders/{order_id}/", headers=customer.auth).json()["history"][-1]


@pytest.mark.parametrize("route", ["gateway", "orders directly"])
def test_a_customer_cannot_hold_more_than_their_share_of_a_product(
    gateway, staff, stack, mail, customer, route
):
    # 20 units on hand: a customer's open orders may hold a fifth of them, 4.
    teapot = create_orderable_product(gateway, staff, stack, on_hand=20)
    first = place_order(gateway, customer, [(teapot["id"], 3)]).json()["id"]
    wait_for_status(gateway, customer, first, "confirmed")

    # Past the gateway, straight at the orders service: the catalog holds the line all the same.
    base_url = stack.gateway_url if route == "gateway" else stack.service_url("orders")
    with httpx.Client(base_url=base_url, timeout=15) as client:
        placed = place_order(client, customer, [(teapot["id"], 2)])
    assert placed.status_code == 201, placed.text
    second = placed.json()["id"]

    wait_for_status(gateway, customer, second, "rejected")
    reason = _last_step(gateway, customer, second)["reason"]
    assert "share of the stock" in reason
    assert "at most 20% of a product's units" in reason
    assert f"product {teapot['id']}: 1 of 2 available" in reason
    assert stock(gateway, staff, teapot["id"])["reserved"] == 3
    # Another customer is not held back by the first one's orders.
    neighbour = register(gateway, mail)
    theirs = place_order(gateway, neighbour, [(teapot["id"], 4)]).json()["id"]
    wait_for_status(gateway, neighbour, theirs, "confirmed")
    assert stock(gateway, staff, teapot["id"])["reserved"] == 7


def test_an_order_left_pending_expires_and_gives_its_stock_back_even_when_the_reservation_comes_late(
    gateway, staff, stack, customer, mail
):
    kettle = create_orderable_product(gateway, staff, stack, on_hand=10)
    # The catalog reserves, but its answer waits in orders' queue: no orders worker takes it.
    stack.stop_process("orders-worker")
    try:
        order_id = place_order(gateway, customer, [(kettle["id"], 2)]).json()["id"]
        eventually(lambda: stock(gateway, staff, kettle["id"])["reserved"] == 2)
        assert order_status(gateway, customer, order_id) == "pending"

        with _pending_orders_expiring_after(stack, seconds=2):
            wait_for_status(gateway, customer, order_id, "cancelled")
            eventually(lambda: stock(gateway, staff, kettle["id"])["reserved"] == 0)
    finally:
        stack.start_process("orders-worker")

    step = _last_step(gateway, customer, order_id)
    assert (step["from_status"], step["actor_kind"], step["actor_label"]) == ("pending", "system", "expiry")
    assert step["reason"] == "expired: the stock was not confirmed within 2 seconds of placing the order"
    assert eventually(lambda: mail.to(customer.email, f"#{order_id} is cancelled"))
    # The catalog's late "reserved" reaches orders now: the order stays cancelled, nothing held.
    [reserved] = [p for p in outbox_payloads(stack, "catalog", "stock.reserved") if p["order_id"] == order_id]
    eventually(lambda: _handled(stack, "orders", reserved["event_id"]), timeout=40)
    assert order_status(gateway, customer, order_id) == "cancelled"
    assert _cancellations(stack, order_id) == 1
    assert len(mail.to(customer.email, f"#{order_id} is cancelled")) == 1
    assert stock(gateway, staff, kettle["id"])["reserved"] == 0


def test_a_customer_placing_orders_too_fast_is_refused_with_429_and_another_is_not(
    gateway, staff, stack, mail, customer
):
    kettle = create_orderable_product(gateway, staff, stack, on_hand=1000)

    # 30 at once: the gateway lets one through and 10 more, then one a second.
    with ThreadPoolExecutor(max_workers=30) as pool:
        answers = list(pool.map(lambda _: place_order(gateway, customer, [(kettle["id"], 1)]), range(30)))

    statuses = [answer.status_code for answer in answers]
    assert set(statuses) == {201, 429}
    assert statuses.count(201) >= 11
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert refused.headers["content-type"] == "application/json"
    assert refused.headers["retry-after"] == "1"
    assert refused.json() == {"detail": "Too many requests; slow down.", "status": 429}
    # The refused requests placed nothing; reading is not limited.
    listed = gateway.get("/api/orders/", headers=customer.auth)
    assert listed.status_code == 200
    assert listed.json()["count"] == statuses.count(201)
    # Another customer, at the same moment, from the same address, orders as usual.
    neighbour = register(gateway, mail)
    assert place_order(gateway, neighbour, [(kettle["id"], 1)]).status_code == 201


@contextmanager
def _pending_orders_expiring_after(stack: Stack, *, seconds: int) -> Iterator[None]:
    """orders' relays, which run the expiry sweep, with a short expiry and a sweep each second."""
    stack.restart_with_environment(
        "orders-relay",
        {"ORDERS_PENDING_EXPIRY_SECONDS": str(seconds), "ORDERS_EXPIRY_SWEEP_INTERVAL_SECONDS": "1"},
    )
    try:
        yield
    finally:
        stack.restart_with_environment("orders-relay", {})


def _handled(stack: Stack, service: str, event_id: str) -> bool:
    with psycopg.connect(stack.service_env[service]["DATABASE_URL"]) as connection:
        return bool(
            connection.execute(
                "SELECT 1 FROM messaging_inboxmessage WHERE event_id = %s", [event_id]
            ).fetchone()
        )


def _cancellations(stack: Stack, order_id: int) -> int:
    """How often orders told the catalog (and the customer) that this order is cancelled."""
    return len([p for p in outbox_payloads(stack, "orders", "order.cancelled") if p["order_id"] == order_id])


def test_orders_past_the_gateways_intake_are_refused_at_once_with_503_and_every_accepted_one_is_confirmed(
    gateway, staff, stack, mail
):
    kettle = create_orderable_product(gateway, staff, stack, on_hand=1000)
    customers = [register(gateway, mail) for _ in range(4)]
    # Each customer sends what their own limit lets through at once (1 and a burst of 10), so
    # only the intake over all customers refuses.
    sends = [customers[number % len(customers)] for number in range(11 * len(customers))]

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(sends)) as pool:
        answers = list(pool.map(lambda customer: place_order(gateway, customer, [(kettle["id"], 1)]), sends))
    elapsed = time.monotonic() - started

    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) == {201, 503}
    assert statuses[201] <= 1 + ORDER_INTAKE_BURST + ORDER_INTAKE_PER_S * elapsed
    refused = next(answer for answer in answers if answer.status_code == 503)
    assert refused.headers["content-type"] == "application/json"
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["code"] == "overloaded"
    # Nothing refused was placed, and everything accepted goes through.
    placed = {
        answer.json()["id"]: customers.index(sends[number])
        for number, answer in enumerate(answers)
        if answer.status_code == 201
    }
    assert sum(
        gateway.get("/api/orders/", headers=customer.auth).json()["count"] for customer in customers
    ) == len(placed)
    for order_id, number in placed.items():
        wait_for_status(gateway, customers[number], order_id, "confirmed")
    # Once the burst has passed, orders are taken again.
    time.sleep(1)
    assert place_order(gateway, customers[0], [(kettle["id"], 1)]).status_code == 201
