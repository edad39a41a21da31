"""`make backup` and `make restore` end to end: the session's stack is backed up while orders
flow and events are on their way, the backup is restored into a new stack (its own state folder, ports, Postgres,
Redis and mail sink), and the new stack holds the same shop and sends each event once."""

import mailbox
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from devstack.backup import NO_BACKUP, NOTHING_TO_BACK_UP, RESTORE_WHILE_RUNNING, backup, restore
from devstack.infra import remove_runtime_dirs_under
from devstack.stack import DEMO_STAFF_EMAIL, ROOT, Stack, StackConfig
from edge.service_table import SERVICES
from tests.support import (
    DEMO_STAFF_PASSWORD,
    PORT_OFFSET,
    Account,
    create_orderable_product,
    eventually,
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


def _get(client: httpx.Client, path: str, auth: dict[str, str] | None = None) -> Any:
    answer = client.get(path, headers=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()


def _status(client: httpx.Client, customer: Account, order_id: int) -> str:
    return _get(client, f"/api/orders/{order_id}/", customer.auth)["status"]


def _orders(client: httpx.Client, auth: dict[str, str]) -> list[dict[str, Any]]:
    """The customer's orders as the API lists them, every page, but the times of their latest
    change (each stack confirms an order on its way at its own time)."""
    orders, url = [], "/api/orders/"
    while url:
        page = _get(client, url, auth)
        orders += [
            {key: order[key] for key in ("id", "status", "total", "currency", "created_at", "items")}
            for order in page["results"]
        ]
        url = page["next"]
    return sorted(orders, key=lambda order: order["id"])


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


def _confirmation_sent(stack: Stack, order_id: int) -> bool:
    with psycopg.connect(stack.service_env["orders"]["DATABASE_URL"]) as connection:
        return bool(
            connection.execute(
                "SELECT 1 FROM messaging_outboxmessage WHERE event_type = 'order.confirmed' "
                "AND payload ->> 'order_id' = %s AND sent_at IS NOT NULL",
                [str(order_id)],
            ).fetchone()
        )


def _emails_to(stack: Stack, address: str) -> list[str]:
    return sorted(
        str(message["Subject"]) for message in mailbox.Maildir(stack.mail_dir) if address in message["To"]
    )


class Shopping(threading.Thread):
    """A customer placing one-item orders, one after the other, until told to stop."""

    def __init__(self, gateway_url: str, customer: Account, product_id: int) -> None:
        super().__init__(daemon=True)
        self.gateway_url, self.customer, self.product_id = gateway_url, customer, product_id
        self.placed: list[int] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.gateway_url, timeout=30) as client:
            while not self.stopping.is_set():
                answer = place_order(client, self.customer, [(self.product_id, 1)])
                if answer.status_code == 429:
                    # Faster than the gateway lets one customer place orders: as asked, wait.
                    self.stopping.wait(float(answer.headers["Retry-After"]))
                    continue
                assert answer.status_code == 201, answer.text
                self.placed.append(answer.json()["id"])

    def stop(self) -> list[int]:
        self.stopping.set()
        self.join(60)
        return self.placed


def test_a_backup_taken_while_orders_flow_restores_the_same_shop_and_sends_each_event_once(
    stack, gateway, staff, customer: Account, mail, restored_config
):
    teapot = create_orderable_product(gateway, staff, stack, on_hand=1000, price="4.00")
    first_id = place_order(gateway, customer, [(teapot["id"], 3)]).json()["id"]
    wait_for_status(gateway, customer, first_id, "confirmed")
    eventually(lambda: mail.to(customer.email, f"#{first_id} is confirmed"))
    eventually(lambda: mail.to(customer.email, "Welcome"))
    # From here the confirmations wait in notify's queue: sent, not handled, at the backup. And
    # orders keep coming while it is taken, their sagas half-way through in catalog and orders.
    stack.stop_process("notify-worker")
    shopping = Shopping(stack.gateway_url, customer, teapot["id"])
    shopping.start()
    try:
        eventually(lambda: len(shopping.placed) > 1 and _confirmation_sent(stack, shopping.placed[0]))
        folder = backup(stack.config)
    finally:
        placed = shopping.stop()
        stack.start_process("notify-worker")
    for order_id in placed:
        wait_for_status(gateway, customer, order_id, "confirmed")

    restored = restore(restored_config, folder)
    assert restored.sent_again["orders"], "no confirmation was on its way to notify at the backup"
    new = Stack(restored_config).start()
    try:
        with httpx.Client(base_url=new.gateway_url, timeout=15) as client:
            # Tokens of the old stack are void; passwords are as they were.
            assert client.get("/api/auth/me/", headers=customer.auth).status_code == 401
            customer_auth = _log_in(client, customer.email, customer.password)
            staff_auth = _log_in(client, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
            assert _get(client, "/api/auth/me/", customer_auth) == _get(
                gateway, "/api/auth/me/", customer.auth
            )
            product = f"/api/catalog/products/{teapot['id']}/"
            assert _get(client, product) == _get(gateway, product)

            # Every order the backup holds ends confirmed, as it did on the first stack, and the
            # stock reserved is theirs: no reservation without its order, none made twice.
            eventually(
                lambda: {order["status"] for order in _orders(client, customer_auth)} == {"confirmed"},
                timeout=60,
            )
            restored_orders = _orders(client, customer_auth)
            original_orders = {order["id"]: order for order in _orders(gateway, customer.auth)}
            assert first_id in {order["id"] for order in restored_orders}
            assert [original_orders[order["id"]] for order in restored_orders] == restored_orders
            reserved = sum(item["quantity"] for order in restored_orders for item in order["items"])
            assert stock(client, staff_auth, teapot["id"])["reserved"] == reserved

        # The new stack sent again the events on their way at the backup, once each, and none
        # of the others. Its own mail sink got the confirmations notify had not sent at the
        # backup, one each: no second welcome, no second confirmation of the first order.
        eventually(lambda: None not in _outbox_attempts(new).values(), timeout=30)
        before, after = _outbox_attempts(stack), _outbox_attempts(new)
        sent_again = {event_id for events in restored.sent_again.values() for event_id in events}
        assert {
            event_id: (before[event_id], attempts)
            for event_id, attempts in after.items()
            if event_id in before and attempts != before[event_id] + (event_id in sent_again)
        } == {}
        expected = sorted(
            f"Your order #{order['id']} is confirmed" for order in restored_orders if order["id"] != first_id
        )
        eventually(lambda: len(_emails_to(new, customer.email)) >= len(expected), timeout=30)
        assert _emails_to(new, customer.email) == expected
    finally:
        new.stop()


def _devstack(command: str, state: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "devstack", command],
        cwd=ROOT,
        env={**os.environ, "DEVSTACK_STATE_DIR": str(state)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_backing_up_a_stack_that_never_ran_or_restoring_without_a_backup_is_one_line(tmp_path):
    state = tmp_path / "never-ran"

    backed_up = _devstack("backup", state)
    restored = _devstack("restore", state)

    assert (backed_up.returncode, backed_up.stderr) == (
        1,
        f"devstack: {NOTHING_TO_BACK_UP.format(state=state)}\n",
    )
    assert (restored.returncode, restored.stderr) == (
        1,
        f"devstack: {NO_BACKUP.format(folder=state / 'backups')}\n",
    )


def test_clean_removes_the_stack_data_but_keeps_its_backups(tmp_path):
    state = tmp_path / "stack"
    for kept_or_not in ("backups/20261129T135607Z/auth.dump", "postgres/port", "logs/nginx.log", "smtp-port"):
        (state / kept_or_not).parent.mkdir(parents=True, exist_ok=True)
        (state / kept_or_not).write_text("1")

    assert _devstack("clean", state).returncode == 0
    assert [path.relative_to(state).as_posix() for path in sorted(state.rglob("*"))] == [
        "backups",
        "backups/20261129T135607Z",
        "backups/20261129T135607Z/auth.dump",
    ]


def test_restoring_while_the_stack_runs_is_refused_in_one_line(stack, gateway):
    result = _devstack("restore", stack.state)

    assert result.returncode == 1
    assert (
        result.stderr
        == "devstack: "
        + RESTORE_WHILE_RUNNING.format(state=stack.state, config=stack.supervisor.config_path)
        + "\n"
    )
    assert gateway.get("/healthz").status_code == 200
