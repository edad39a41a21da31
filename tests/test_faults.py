"""Faults injected into the live stack; each ends with every order in its right state and
every email sent exactly once, or twice with one Message-ID where its sender died between the
mail server taking it and answering."""

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.message import Message

import psycopg
import pytest

from edge.service_table import service_named
from tests.support import (
    CONFIRMATION_SUBJECT,
    confirm_email,
    create_orderable_product,
    deliver_again,
    eventually,
    order_status,
    outbox_payloads,
    place_order,
    sign_up,
    stock,
    wait_for_status,
)


@pytest.fixture
def kettle(gateway, staff, stack):
    return create_orderable_product(gateway, staff, stack, on_hand=100, price="20.00")


def _confirmed_once(gateway, mail, customer, order_ids: list[int]) -> None:
    for order_id in order_ids:
        wait_for_status(gateway, customer, order_id, "confirmed", timeout=60)
        eventually(lambda order_id=order_id: mail.to(customer.email, f"#{order_id} is confirmed"), timeout=60)
    for order_id in order_ids:
        assert len(mail.to(customer.email, f"#{order_id} is confirmed")) == 1


def test_orders_are_taken_while_the_catalog_is_down_and_confirmed_when_it_is_back(
    gateway, staff, stack, customer, mail, kettle
):
    with _stopped(stack, "catalog"):
        answers = [place_order(gateway, customer, [(kettle["id"], 1)]) for _ in range(3)]
        assert [answer.status_code for answer in answers] == [201, 201, 201]
        assert {answer.json()["status"] for answer in answers} == {"pending"}
        # A read no cache holds reaches the stopped catalog: the gateway says so in JSON.
        unreachable = gateway.get(f"/api/catalog/products/?search=kettle-{time.monotonic_ns()}")
        assert unreachable.status_code == 502
        assert unreachable.headers["content-type"] == "application/json"
        assert unreachable.json()["detail"]

    _confirmed_once(gateway, mail, customer, [answer.json()["id"] for answer in answers])
    assert stock(gateway, staff, kettle["id"])["reserved"] == 3


def test_requests_succeed_while_redis_is_down_and_every_event_arrives_after(
    gateway, staff, stack, customer, mail, kettle
):
    stack.stop_process("redis")
    try:
        # Registering answers (its per-address email cap pauses without Redis), and so does ordering.
        newcomer = sign_up(gateway)
        order = place_order(gateway, customer, [(kettle["id"], 2)])
        assert order.status_code == 201
    finally:
        stack.start_process("redis")

    # The confirmation email went out once Redis was back, and confirming sends the welcome.
    confirm_email(gateway, mail, newcomer, timeout=60)
    assert eventually(lambda: mail.to(newcomer, "Welcome"), timeout=60)
    _confirmed_once(gateway, mail, customer, [order.json()["id"]])
    assert len(mail.to(newcomer, "Welcome")) == 1
    assert len(mail.to(newcomer, CONFIRMATION_SUBJECT)) == 1


def test_a_worker_killed_mid_event_is_restarted_and_handles_the_event_again(
    gateway, staff, stack, customer, mail, kettle
):
    with _stock_row_locked(stack, kettle["id"]) as catalog_waiting:
        order_ids = [place_order(gateway, customer, [(kettle["id"], 1)]).json()["id"] for _ in range(6)]
        # A catalog worker has taken an order's event and waits on the stock row: mid-event.
        assert eventually(catalog_waiting, timeout=30), "no catalog worker took an order's event"
        # SIGKILL: no warm shutdown, no acknowledgement of what the workers were holding.
        # Nothing here starts them again: supervisord does.
        killed = _kill(stack, "catalog-worker")

    assert [order_status(gateway, customer, order_id) for order_id in order_ids] == ["pending"] * 6
    assert eventually(lambda: _restarted(stack, "catalog-worker", killed))
    _confirmed_once(gateway, mail, customer, order_ids)
    assert stock(gateway, staff, kettle["id"])["reserved"] == 6


def test_a_worker_killed_once_the_mail_server_has_an_email_sends_it_once_more_with_the_same_message_id(
    gateway, stack, customer, mail, kettle
):
    killed = threading.Event()

    def kill_the_sender(message: Message) -> None:
        # Before the server answers 250: the worker dies not knowing the email arrived.
        if customer.email in message["To"] and "is confirmed" in message["Subject"] and not killed.is_set():
            _kill(stack, "notify-worker")
            killed.set()

    mail.on_stored = kill_the_sender
    try:
        order_id = place_order(gateway, customer, [(kettle["id"], 1)]).json()["id"]
        assert killed.wait(60), "the confirmation never reached the mail server"
    finally:
        mail.on_stored = lambda message: None

    # The killed worker's event comes back after the visibility timeout and finds the email unsent.
    def confirmations() -> list[dict]:
        answer = gateway.get(
            "/api/notify/notifications/", params={"kind": "order_confirmed"}, headers=customer.auth
        )
        return answer.json()["results"]

    # One notification, ending sent.
    eventually(lambda: [n["status"] for n in confirmations()] == ["sent"], timeout=60)
    copies = mail.to(customer.email, f"#{order_id} is confirmed")
    assert len(copies) == 2
    message_ids = {copy["Message-ID"].strip() for copy in copies}
    assert len(message_ids) == 1
    assert message_ids.pop().startswith("<notification.")


def test_an_event_delivered_twice_reserves_once_and_emails_once(
    gateway, staff, stack, customer, mail, kettle
):
    order_id = place_order(gateway, customer, [(kettle["id"], 4)]).json()["id"]
    _confirmed_once(gateway, mail, customer, [order_id])
    placed = next(p for p in outbox_payloads(stack, "orders", "order.placed") if p["order_id"] == order_id)
    confirmed = next(
        p for p in outbox_payloads(stack, "orders", "order.confirmed") if p["order_id"] == order_id
    )

    deliver_again(stack, placed, queue="catalog")
    deliver_again(stack, confirmed, queue="notify")
    # A third event behind the duplicates shows when the workers have got past them.
    marker = place_order(gateway, customer, [(kettle["id"], 1)]).json()["id"]
    _confirmed_once(gateway, mail, customer, [marker])

    assert stock(gateway, staff, kettle["id"])["reserved"] == 5
    assert len(mail.to(customer.email, f"#{order_id} is confirmed")) == 1


def test_emails_refused_for_a_while_go_out_once_the_server_accepts(gateway, stack, customer, mail, kettle):
    mail.refusing = True
    try:
        order_id = place_order(gateway, customer, [(kettle["id"], 1)]).json()["id"]
        wait_for_status(gateway, customer, order_id, "confirmed")
        eventually(lambda: mail.refused >= 2, timeout=30)
        assert mail.to(customer.email, f"#{order_id}") == []
    finally:
        mail.refusing = False

    _confirmed_once(gateway, mail, customer, [order_id])


def _kill(stack, name: str) -> list[int]:
    """SIGKILL every replica of one program, each with its whole process group (a Celery
    worker's pool and all); their pids. Every replica: the one holding the event dies for sure.

    supervisord sees them exit and starts them again, as it would after a crash.
    """
    pids = stack.supervisor.pids_of(name)
    assert pids, f"{name} is not running"
    for pid in pids:
        os.killpg(pid, signal.SIGKILL)
    return pids


@contextmanager
def _stock_row_locked(stack, product_id: int) -> Iterator[Callable[[], bool]]:
    """Holds a product's stock row locked in catalog's database, so that a worker reserving it
    waits mid-event; yields a check of whether one is waiting. The lock goes on leaving."""
    with psycopg.connect(stack.service_env["catalog"]["DATABASE_URL"]) as connection:
        connection.execute("SELECT 1 FROM catalog_stock WHERE product_id = %s FOR UPDATE", [product_id])
        holder = connection.info.backend_pid

        def catalog_waiting() -> bool:
            with psycopg.connect(stack.service_env["catalog"]["DATABASE_URL"], autocommit=True) as probe:
                return bool(
                    probe.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", [holder]
                    ).fetchall()
                )

        try:
            yield catalog_waiting
        finally:
            connection.rollback()


def _restarted(stack, name: str, killed: list[int]) -> bool:
    """Every replica runs again, none with a pid that was killed."""
    pids = stack.supervisor.pids_of(name)
    return len(pids) == len(killed) and not set(pids) & set(killed)


class _stopped:
    """Stops every process of a service (supervisorctl stop), and starts them again on leaving."""

    def __init__(self, stack, service: str) -> None:
        self.stack, self.names = stack, [f"{service}-{role}" for role in service_named(service).processes]

    def __enter__(self) -> None:
        for name in self.names:
            self.stack.stop_process(name)

    def __exit__(self, *exc_info: object) -> None:
        for name in self.names:
            self.stack.start_process(name)
        self.stack.wait_healthy()
