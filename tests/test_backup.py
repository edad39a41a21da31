"""`make backup` and `make restore` end to end: the session's stack is backed up while an order
is on its way, the backup is restored into a new stack (its own state folder, ports, Postgres,
Redis and mail sink), and the new stack holds the same shop and sends each event once."""

import mailbox
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from devstack.backup import RESTORE_WHILE_RUNNING, backup, restore
from devstack.infra import remove_runtime_dirs_under
from devstack.stack import DEMO_STAFF_EMAIL, ROOT, Stack, StackConfig
from edge.service_table import SERVICES
from tests.support import (
    DEMO_STAFF_PASSWORD,
    PORT_OFFSET,
    Account,
    create_orderable_product,
    eventually,
    outbox_payloads,
    place_order,
    stock,
    wait_for_status,
)

# Beside the session's stack (and test_devstack.py's, at 300): the same ports moved on by 200.
RESTORED_OFFSET = PORT_OFFSET + 200


@pytest.fixture
def restored_config(tmp_path: Path) -> Iterator[StackConfig]:
    """A new stack without demo data, with a mail sink of its own: what it sends, it sent."""
    yield StackConfig(
        state_dir=tmp_path / "restored",
        port_offset=RESTORED_OFFSET,
        database_prefix="restored_",
        demo_data=False,
        visibility_timeout=10,
        web_workers=1,
    )
    remove_runtime_dirs_under(tmp_path)


def _log_in(client: httpx.Client, email: str, password: str) -> dict[str, str]:
    tokens = client.post("/api/auth/token/", json={"email": email, "password": password})
    assert tokens.status_code == 200, tokens.text
    return {"Authorization": f"Bearer {tokens.json()['access']}"}


def _orders(client: httpx.Client, auth: dict[str, str]) -> list[dict[str, Any]]:
    """The customer's orders as the API lists them, but the times of their latest change."""
    answer = client.get("/api/orders/", headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return [
        {key: order[key] for key in ("id", "status", "total", "currency", "created_at", "items")}
        for order in (body["results"] if isinstance(body, dict) else body)
    ]


def _counts(stock_level: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in stock_level.items() if key != "updated_at"}


def _outbox_attempts(stack: Stack) -> dict[str, int]:
    """How many times each event of every service's outbox was sent; None while unsent."""
    attempts = {}
    for service in SERVICES:
        with psycopg.connect(stack.service_env[service.name]["DATABASE_URL"]) as connection:
            rows = connection.execute(
                "SELECT event_id::text, CASE WHEN sent_at IS NULL THEN NULL ELSE attempts END "
                "FROM messaging_outboxmessage"
            ).fetchall()
        attempts.update(rows)
    return attempts


def _sent(stack: Stack, event_id: str) -> bool:
    return _outbox_attempts(stack).get(event_id) is not None


def _emails_to(stack: Stack, address: str) -> list[str]:
    return sorted(
        str(message["Subject"]) for message in mailbox.Maildir(stack.mail_dir) if address in message["To"]
    )


def test_a_restored_backup_holds_the_same_shop_and_sends_each_event_once(
    stack, gateway, staff, customer: Account, mail, restored_config
):
    teapot = create_orderable_product(gateway, staff, stack, on_hand=10, price="4.00")
    confirmed_id = place_order(gateway, customer, [(teapot["id"], 3)]).json()["id"]
    wait_for_status(gateway, customer, confirmed_id, "confirmed")
    eventually(lambda: mail.to(customer.email, f"#{confirmed_id} is confirmed"))
    eventually(lambda: mail.to(customer.email, "Welcome"))
    # An order on its way at the backup: its order.placed is sent and waits in catalog's queue.
    stack.stop_process("catalog-worker")
    try:
        on_its_way_id = place_order(gateway, customer, [(teapot["id"], 2)]).json()["id"]
        (placed,) = [
            event["event_id"]
            for event in outbox_payloads(stack, "orders", "order.placed")
            if event["order_id"] == on_its_way_id
        ]
        eventually(lambda: _sent(stack, placed))
        folder = backup(stack.config)
    finally:
        stack.start_process("catalog-worker")
    wait_for_status(gateway, customer, on_its_way_id, "confirmed")

    restored = restore(restored_config, folder)
    assert placed in restored.sent_again["orders"]
    new = Stack(restored_config).start()
    try:
        with httpx.Client(base_url=new.gateway_url, timeout=15) as client:
            # Tokens of the old stack are void; passwords are as they were.
            assert client.get("/api/auth/me/", headers=customer.auth).status_code == 401
            customer_auth = _log_in(client, customer.email, customer.password)
            staff_auth = _log_in(client, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)

            eventually(
                lambda: (
                    client.get(f"/api/orders/{on_its_way_id}/", headers=customer_auth).json()["status"]
                    == "confirmed"
                ),
                timeout=60,
            )
            assert (
                client.get("/api/auth/me/", headers=customer_auth).json()
                == gateway.get("/api/auth/me/", headers=customer.auth).json()
            )
            assert (
                client.get(f"/api/catalog/products/{teapot['id']}/").json()
                == gateway.get(f"/api/catalog/products/{teapot['id']}/").json()
            )
            # The reservation of the order on its way was made by each stack at its own time.
            assert _counts(stock(client, staff_auth, teapot["id"])) == _counts(
                stock(gateway, staff, teapot["id"])
            )
            assert stock(client, staff_auth, teapot["id"])["reserved"] == 5
            assert _orders(client, customer_auth) == _orders(gateway, customer.auth)

        # Every event the new stack sent: those on their way at the backup, once more, and none
        # of the others again. Its own mail sink got one email for the customer: the
        # confirmation of the order that was on its way, not a second welcome or confirmation.
        eventually(lambda: None not in _outbox_attempts(new).values(), timeout=30)
        before, after = _outbox_attempts(stack), _outbox_attempts(new)
        sent_again = {event_id for events in restored.sent_again.values() for event_id in events}
        assert {
            event_id: (before[event_id], attempts)
            for event_id, attempts in after.items()
            if event_id in before and attempts != before[event_id] + (event_id in sent_again)
        } == {}
        assert eventually(lambda: _emails_to(new, customer.email)) == [
            f"Your order #{on_its_way_id} is confirmed"
        ]
    finally:
        new.stop()


def test_restoring_while_the_stack_runs_is_refused_in_one_line(stack, gateway):
    result = subprocess.run(
        [sys.executable, "-m", "devstack", "restore"],
        cwd=ROOT,
        env={**os.environ, "DEVSTACK_STATE_DIR": str(stack.state)},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 1
    assert (
        result.stderr
        == "devstack: "
        + RESTORE_WHILE_RUNNING.format(state=stack.state, config=stack.supervisor.config_path)
        + "\n"
    )
    assert gateway.get("/healthz").status_code == 200
