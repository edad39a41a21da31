"""The order pipeline under a steady load: 1,000 orders at 50 a second, timed from the POST
to the confirmation and to the confirmation email, with every order accounted for."""

import http.client
import json
import mailbox
import re
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg

from bench.cpu import cpu_per_unit, cpu_seconds_by_part
from devstack.stack import Stack

ORDERS = 1000
RATE_PER_S = 50
# The gateway lets one customer place an order a second (and 10 more at once): 100 customers take
# turns, each ordering every 2 s, half of what they may.
CUSTOMERS = 100
# The link of a registration's confirmation email: /register/confirm/<uid>/<token>/.
CONFIRMATION_LINK = re.compile(r"/register/confirm/(?P<uid>[\w-]+)/(?P<token>[\w-]+)/")
SETTLE_TIMEOUT_S = 180
# Enough that a slow answer never holds the next POST back.
CLIENT_THREADS = 128


class OrderClient:
    """POSTs orders over one kept-alive connection per thread. http.client rather than httpx:
    the load generator shares the two cores with the stack, and costs it a quarter as much."""

    def __init__(self, gateway_url: str, product_id: int) -> None:
        self.address = httpx.URL(gateway_url)
        self.body = json.dumps({"items": [{"product_id": product_id, "quantity": 1}]})
        self.local = threading.local()

    def post(self, token: str) -> tuple[int, bytes]:
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": str(uuid.uuid4()),
            "Content-Type": "application/json",
        }
        try:
            return self._post(headers)
        except (http.client.RemoteDisconnected, ConnectionResetError):
            # The gateway closed an idle kept-alive connection: the key makes the retry safe.
            self.local.connection = None
            return self._post(headers)

    def _post(self, headers: dict[str, str]) -> tuple[int, bytes]:
        if getattr(self.local, "connection", None) is None:
            self.local.connection = http.client.HTTPConnection(
                self.address.host, self.address.port, timeout=30
            )
        self.local.connection.request("POST", "/api/orders/", self.body, headers)
        answer = self.local.connection.getresponse()
        return answer.status, answer.read()


def order_pipeline(
    stack: Stack, staff_token: str, *, orders: int = ORDERS, rate: int = RATE_PER_S
) -> dict[str, Any]:
    staff = {"Authorization": f"Bearer {staff_token}"}
    with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
        product_id = _stocked_product(client, staff, on_hand=orders * 10)
        _wait(lambda: _price_known(stack, product_id), "orders to learn the product's price")
        tokens = [_customer_token(client, stack.mail_dir) for _ in range(CUSTOMERS)]
    posted_at: dict[int, float] = {}
    post_ms: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()

    def post(index: int, due: float) -> None:
        status, body = client.post(tokens[index % CUSTOMERS])
        with lock:
            post_ms.append((time.time() - due) * 1000)
            if status == 201:
                posted_at[json.loads(body)["id"]] = due
            else:
                failures.append(f"{status} {body[:200].decode(errors='replace')}")

    client = OrderClient(stack.gateway_url, product_id)
    cpu_before = _cpu_seconds(stack)
    start, start_wall = time.monotonic(), time.time()
    with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
        for index in range(orders):
            # A steady rate: each POST leaves at its own time, whatever the previous ones took,
            # and is timed from then: a stack that falls behind cannot slow the load down.
            time.sleep(max(0.0, start + index / rate - time.monotonic()))
            pool.submit(post, index, start_wall + index / rate)
    answered_in_s = time.monotonic() - start
    order_ids = sorted(posted_at)
    _wait(
        lambda: _confirmed_count(stack, order_ids) + _rejected_count(stack, order_ids) == len(order_ids),
        "every order to be confirmed or rejected",
    )
    _wait(lambda: _emails_sent(stack, order_ids) >= len(order_ids), "every confirmation email to be sent")
    cpu_after = _cpu_seconds(stack)

    confirmed_at = _confirmed_at(stack, order_ids)
    sent_at = _email_sent_at(stack, order_ids)
    return {
        "orders": orders,
        "rate_per_s": rate,
        "accepted": len(order_ids),
        # The rate the stack took the orders at: below rate_per_s, it could not keep up.
        "answered_per_s": round(orders / answered_in_s, 1),
        "post_failures": failures[:5],
        "post_ms": _percentiles(post_ms),
        "post_to_confirmed_ms": _percentiles([(confirmed_at[i] - posted_at[i]) * 1000 for i in confirmed_at]),
        "post_to_email_sent_ms": _percentiles([(sent_at[i] - posted_at[i]) * 1000 for i in sent_at]),
        "lost": len(order_ids) - len(confirmed_at) - _rejected_count(stack, order_ids) + len(failures),
        "duplicated": _duplicates(stack, order_ids),
        "oversold": _oversold(stack, product_id, len(confirmed_at)),
        "emails_received": _emails_received(stack),
        # What one order costs, from POST to email: at 50 a second, 2 cores give 40 ms.
        "cpu_ms_per_order": cpu_per_unit(cpu_before, cpu_after, len(order_ids)),
    }


def _cpu_seconds(stack: Stack) -> dict[str, float]:
    # The load generator shares the cores with the stack: its CPU is part of what is measured.
    return {**cpu_seconds_by_part(stack), "load-generator": time.process_time()}


def _stocked_product(client: httpx.Client, staff: dict[str, str], *, on_hand: int) -> int:
    category = client.post(
        "/api/catalog/categories/", json={"name": f"Bench {uuid.uuid4().hex[:6]}"}, headers=staff
    )
    category.raise_for_status()
    product = client.post(
        "/api/catalog/products/",
        json={
            "sku": f"BENCH-{uuid.uuid4().hex[:8]}",
            "name": "Benchmark widget",
            "price": "9.99",
            "currency": "EUR",
            "category": category.json()["id"],
            "on_hand": on_hand,
        },
        headers=staff,
    )
    product.raise_for_status()
    return product.json()["id"]


def _customer_token(client: httpx.Client, mail_dir: Path) -> str:
    """A customer who may order: registered, confirmed by the link its email brought to the
    stack's mail sink, and logged in."""
    email, password = f"bench-{uuid.uuid4().hex[:10]}@example.com", "a-long-benchmark-passphrase"
    client.post("/api/auth/register/", json={"email": email, "password": password}).raise_for_status()
    links: list[dict[str, str]] = []

    def confirmation_link() -> bool:
        for message in mailbox.Maildir(mail_dir, create=False):
            if email in message["To"]:
                plain = next(part for part in message.walk() if part.get_content_type() == "text/plain")
                links.extend(
                    link.groupdict()
                    for link in CONFIRMATION_LINK.finditer(plain.get_payload(decode=True).decode())
                )
        return bool(links)

    _wait(confirmation_link, f"the confirmation email to {email}")
    client.post("/api/auth/register/confirm/", json=links[0]).raise_for_status()
    answer = client.post("/api/auth/token/", json={"email": email, "password": password})
    answer.raise_for_status()
    return answer.json()["access"]


def _query(stack: Stack, service: str, sql: str, params: list[Any]) -> list[tuple]:
    with psycopg.connect(stack.service_env[service]["DATABASE_URL"]) as connection:
        return connection.execute(sql, params).fetchall()


def _price_known(stack: Stack, product_id: int) -> bool:
    return bool(
        _query(stack, "orders", "SELECT 1 FROM orders_pricelistentry WHERE product_id = %s", [product_id])
    )


def _confirmed_count(stack: Stack, order_ids: list[int]) -> int:
    return _query(
        stack,
        "orders",
        "SELECT count(*) FROM orders_order WHERE id = ANY(%s) AND status = 'confirmed'",
        [order_ids],
    )[0][0]


def _rejected_count(stack: Stack, order_ids: list[int]) -> int:
    return _query(
        stack,
        "orders",
        "SELECT count(*) FROM orders_order WHERE id = ANY(%s) AND status = 'rejected'",
        [order_ids],
    )[0][0]


def _confirmed_at(stack: Stack, order_ids: list[int]) -> dict[int, float]:
    rows = _query(
        stack,
        "orders",
        "SELECT order_id, min(at) FROM orders_ordertransition "
        "WHERE order_id = ANY(%s) AND to_status = 'confirmed' GROUP BY order_id",
        [order_ids],
    )
    return {order_id: at.timestamp() for order_id, at in rows}


def _confirmation_events(stack: Stack, order_ids: list[int]) -> dict[str, int]:
    rows = _query(
        stack,
        "orders",
        "SELECT event_id::text, (payload->>'order_id')::bigint FROM messaging_outboxmessage "
        "WHERE event_type = 'order.confirmed' AND (payload->>'order_id')::bigint = ANY(%s)",
        [order_ids],
    )
    return dict(rows)


def _email_sent_at(stack: Stack, order_ids: list[int]) -> dict[int, float]:
    events = _confirmation_events(stack, order_ids)
    rows = _query(
        stack,
        "notify",
        "SELECT event_id::text, sent_at FROM notify_notification "
        "WHERE event_id::text = ANY(%s) AND status = 'sent'",
        [list(events)],
    )
    return {events[event_id]: sent_at.timestamp() for event_id, sent_at in rows}


def _emails_sent(stack: Stack, order_ids: list[int]) -> int:
    return len(_email_sent_at(stack, order_ids))


def _duplicates(stack: Stack, order_ids: list[int]) -> int:
    """Anything done twice: a second confirmation, a second reservation, a second email."""
    confirmations = _query(
        stack,
        "orders",
        "SELECT count(*) - count(DISTINCT order_id) FROM orders_ordertransition "
        "WHERE order_id = ANY(%s) AND to_status = 'confirmed'",
        [order_ids],
    )[0][0]
    events = list(_confirmation_events(stack, order_ids))
    emails = _query(
        stack, "notify", "SELECT count(*) FROM notify_notification WHERE event_id::text = ANY(%s)", [events]
    )[0][0] - len(events)
    placed_twice = _query(
        stack,
        "orders",
        "SELECT count(*) - count(DISTINCT payload->>'order_id') "
        "FROM messaging_outboxmessage WHERE event_type = 'order.placed'",
        [],
    )[0][0]
    return confirmations + emails + placed_twice


def _oversold(stack: Stack, product_id: int, confirmed: int) -> int:
    """Units reserved beyond what the confirmed orders hold, or beyond what is on hand."""
    on_hand, reserved = _query(
        stack, "catalog", "SELECT on_hand, reserved FROM catalog_stock WHERE product_id = %s", [product_id]
    )[0]
    return max(0, reserved - confirmed) + max(0, reserved - on_hand)


def _emails_received(stack: Stack) -> int:
    return sum(
        1 for message in mailbox.Maildir(stack.mail_dir, create=False) if "is confirmed" in message["Subject"]
    )


def _percentiles(values: list[float]) -> dict[str, float]:
    if len(values) < 2:
        return {"p50": float("nan"), "p95": float("nan"), "p99": float("nan")}
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(cuts[49], 1), "p95": round(cuts[94], 1), "p99": round(cuts[98], 1)}


def _wait(check: Any, what: str) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {SETTLE_TIMEOUT_S}s for {what}")
        time.sleep(0.5)
