"""The order pipeline through the gateway, every order accounted for: a steady load (1,000 orders
at 50 a second) and what each order costs in CPU; the floor under that cost, what the machinery
alone costs; the capacity, the highest rate the stack keeps up with; and an overload at twice
that rate, which the gateway must shed without losing an order.
"""

import http.client
import json
import mailbox
import re
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg
import redis

from bench.cpu import LOAD_GENERATOR, cpu_per_unit, cpu_seconds_by_part, stack_cpu
from devstack.gateway import ORDER_INTAKE_BURST
from devstack.stack import Stack
from edge.service_table import SERVICES

STEADY_ORDERS = 1000
STEADY_RATE_PER_S = 50
# The capacity: from this rate, up (or down) by a step while each rate, held for its seconds, is
# sustained: p99 from POST to confirmed under the limit, nothing lost, duplicated or oversold.
CAPACITY_FIRST_RATE_PER_S = 50
CAPACITY_STEP_PER_S = 10
CAPACITY_STEP_SECONDS = 20
CAPACITY_HIGHEST_RATE_PER_S = 300
CONFIRMED_P99_LIMIT_MS = 1000
# The overload: twice the capacity for its seconds, with the gateway's intake set to the capacity.
OVERLOAD_FACTOR = 2
OVERLOAD_SECONDS = 20
REFUSAL_P99_LIMIT_MS = 50
# A trickle of orders before the overload (the normal latency) and from its end (the recovery).
PROBE_RATE_PER_S = 5
BASELINE_SECONDS = 10
RECOVERY_PROBE_SECONDS = 20
RECOVERY_LIMIT_S = 10
# Back to normal: a probe confirmed within this many times the baseline's p99.
RECOVERED_WITHIN_BASELINE_P99_TIMES = 2
# The gateway lets one customer place an order a second (and 10 more at once): customers take
# turns, so that up to this many orders a second stay within every customer's own limit. Not
# more: at 50 a second each orders every 3 s, within the 5 s the gateway keeps a token's check,
# as a shop's customers placing orders one after another would.
CUSTOMERS = 150
# The machinery's floor: order POSTs answered again from the idempotency store, at the steady
# rate (so that the gateway's token check is cached as often), and events sent again.
FLOOR_REQUESTS = 500
FLOOR_EVENTS = 500
# An order is one POST and three events: order.placed, stock.reserved and order.confirmed.
EVENTS_PER_ORDER = 3
# The link of a registration's confirmation email: /register/confirm/<uid>/<token>/.
CONFIRMATION_LINK = re.compile(r"/register/confirm/(?P<uid>[\w-]+)/(?P<token>[\w-]+)/")
SETTLE_TIMEOUT_S = 180
# Enough that a slow answer never holds the next POST back.
CLIENT_THREADS = 128


@dataclass(frozen=True)
class Answer:
    """One POST: what it was sent for, when it was due, and what came back how fast."""

    tag: str
    due: float
    status: int
    ms: float
    order_id: int | None
    retry_after: str | None


class OrderClient:
    """POSTs orders over one kept-alive connection per thread. http.client rather than httpx:
    the load generator shares the two cores with the stack, and costs it a quarter as much."""

    def __init__(self, gateway_url: str) -> None:
        self.address = httpx.URL(gateway_url)
        self.local = threading.local()

    def post(self, token: str, product_id: int, *, key: str | None = None) -> tuple[int, bytes, str | None]:
        """One order of one unit, under a new Idempotency-Key unless ``key`` is one used before."""
        body = json.dumps({"items": [{"product_id": product_id, "quantity": 1}]})
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": key or str(uuid.uuid4()),
            "Content-Type": "application/json",
        }
        try:
            return self._post(body, headers)
        except (http.client.RemoteDisconnected, ConnectionResetError):
            # The gateway closed an idle kept-alive connection: the key makes the retry safe.
            self.local.connection = None
            return self._post(body, headers)

    def _post(self, body: str, headers: dict[str, str]) -> tuple[int, bytes, str | None]:
        if getattr(self.local, "connection", None) is None:
            self.local.connection = http.client.HTTPConnection(
                self.address.host, self.address.port, timeout=30
            )
        self.local.connection.request("POST", "/api/orders/", body, headers)
        answer = self.local.connection.getresponse()
        return answer.status, answer.read(), answer.getheader("Retry-After")


class OrderLoad:
    """Customers who may order, a product to order, and POSTs sent on a schedule."""

    def __init__(self, stack: Stack, staff_token: str) -> None:
        self.stack = stack
        self.staff = {"Authorization": f"Bearer {staff_token}"}
        self.client = OrderClient(stack.gateway_url)
        with httpx.Client(base_url=stack.gateway_url, timeout=30) as client:
            self.tokens = _customer_tokens(client, stack, CUSTOMERS)

    def product(self, *, on_hand: int) -> int:
        """A new product with that many units, whose price orders has learnt."""
        with httpx.Client(base_url=self.stack.gateway_url, timeout=30) as client:
            product_id = _stocked_product(client, self.staff, on_hand=on_hand)
        _wait(lambda: _price_known(self.stack, product_id), "orders to learn the product's price")
        return product_id

    def send(self, product_id: int, schedule: list[tuple[float, str]]) -> list[Answer]:
        """POST one order at each (seconds from now, tag) of the schedule, each at its own time
        whatever the previous ones took, and timed from then: a stack that falls behind cannot
        slow the load down. Returns once every POST has its answer."""
        answers: list[Answer] = []
        lock = threading.Lock()

        def post(number: int, due: float, tag: str) -> None:
            status, body, retry_after = self.client.post(self.tokens[number % len(self.tokens)], product_id)
            answer = Answer(
                tag=tag,
                due=due,
                status=status,
                ms=(time.time() - due) * 1000,
                order_id=json.loads(body)["id"] if status == 201 else None,
                retry_after=retry_after,
            )
            with lock:
                answers.append(answer)

        start, start_wall = time.monotonic(), time.time()
        with ThreadPoolExecutor(max_workers=CLIENT_THREADS) as pool:
            for number, (offset, tag) in enumerate(schedule):
                time.sleep(max(0.0, start + offset - time.monotonic()))
                pool.submit(post, number, start_wall + offset, tag)
        return answers

    def settle(self, answers: Iterable[Answer]) -> list[int]:
        """Wait until every accepted order is confirmed or rejected and its email sent."""
        order_ids = sorted(answer.order_id for answer in answers if answer.order_id is not None)
        self.settle_orders(order_ids)
        return order_ids

    def settle_orders(self, order_ids: list[int]) -> None:
        _wait(
            lambda: (
                _confirmed_count(self.stack, order_ids) + _rejected_count(self.stack, order_ids)
                == len(order_ids)
            ),
            "every order to be confirmed or rejected",
        )
        _wait(
            lambda: _emails_sent(self.stack, order_ids) >= _confirmed_count(self.stack, order_ids),
            "every confirmation email to be sent",
        )

    def account(self, product_id: int, answers: list[Answer]) -> dict[str, Any]:
        """What happened to the orders accepted among ``answers`` (settled), and how fast."""
        accepted = [answer for answer in answers if answer.order_id is not None]
        order_ids = [answer.order_id for answer in accepted]
        due = {answer.order_id: answer.due for answer in accepted}
        confirmed_at = _confirmed_at(self.stack, order_ids)
        sent_at = _email_sent_at(self.stack, order_ids)
        rejected = _rejected_count(self.stack, order_ids)
        return {
            "accepted": len(accepted),
            "post_ms": _percentiles([answer.ms for answer in accepted]),
            "post_to_confirmed_ms": _percentiles([(confirmed_at[i] - due[i]) * 1000 for i in confirmed_at]),
            "post_to_email_sent_ms": _percentiles([(sent_at[i] - due[i]) * 1000 for i in sent_at]),
            "lost": len(order_ids) - len(confirmed_at) - rejected,
            "duplicated": _duplicates(self.stack, order_ids),
            "oversold": _oversold(self.stack, product_id, len(confirmed_at)),
            "rejected": rejected,
        }


def steady_load(
    load: OrderLoad, *, orders: int = STEADY_ORDERS, rate: int = STEADY_RATE_PER_S
) -> dict[str, Any]:
    """``orders`` at ``rate`` a second, and the CPU each part of the stack spent per order."""
    product_id = load.product(on_hand=orders * 10)
    cpu_before = _cpu_seconds(load.stack)
    started = time.monotonic()
    answers = load.send(product_id, [(number / rate, "steady") for number in range(orders)])
    answered_in_s = time.monotonic() - started
    order_ids = load.settle(answers)
    cpu_after = _cpu_seconds(load.stack)
    failures = [answer for answer in answers if answer.status != 201]
    return {
        "orders": orders,
        "rate_per_s": rate,
        # The rate the stack took the orders at: below rate_per_s, it could not keep up.
        "answered_per_s": round(orders / answered_in_s, 1),
        "post_failures": [answer.status for answer in failures[:5]],
        **load.account(product_id, answers),
        "emails_received": _emails_received(load.stack),
        # What one order costs, from POST to email: at 50 a second, 2 cores give 40 ms.
        "cpu_ms_per_order": cpu_per_unit(cpu_before, cpu_after, len(order_ids)),
    }


def machinery_floor(
    load: OrderLoad, *, requests: int = FLOOR_REQUESTS, events: int = FLOOR_EVENTS
) -> dict[str, Any]:
    """The CPU an order costs before any work of its own: its POST answered from the idempotency
    store, as a retry is (the gateway, the token check, DRF, the key's lookup), and
    EVENTS_PER_ORDER times an event sent again by its relay and found handled by its consumer's
    inbox (the signing, the broker, Celery, the signature check and the inbox's INSERT)."""
    product_id = load.product(on_hand=len(load.tokens) * 10)
    keyed = [(token, str(uuid.uuid4())) for token in load.tokens]
    placed = [load.client.post(token, product_id, key=key) for token, key in keyed]
    load.settle_orders(sorted(json.loads(body)["id"] for status, body, _ in placed if status == 201))
    before = _cpu_seconds(load.stack)
    start = time.monotonic()
    statuses = []
    for number in range(requests):
        time.sleep(max(0.0, start + number / STEADY_RATE_PER_S - time.monotonic()))
        token, key = keyed[number % len(keyed)]
        statuses.append(load.client.post(token, product_id, key=key)[0])
    post = cpu_per_unit(before, _cpu_seconds(load.stack), requests)
    before = _cpu_seconds(load.stack)
    resent = _send_again(load.stack, "orders", "order.placed", events)
    event = cpu_per_unit(before, _cpu_seconds(load.stack), resent)
    return {
        "post_replays": requests,
        "post_replays_answered_201": statuses.count(201),
        "post_cpu_ms": post,
        "events_sent_again": resent,
        "event_cpu_ms": event,
        "events_per_order": EVENTS_PER_ORDER,
        "floor_ms_per_order": round(stack_cpu(post) + EVENTS_PER_ORDER * stack_cpu(event), 1),
    }


def _send_again(stack: Stack, service: str, event_type: str, count: int) -> int:
    """Have ``service``'s relay send its latest ``count`` sent events of a type once more (as
    after a broker outage), and wait until their consumers have taken them; how many."""
    # Dated back past the relay's grace period, which it waits before sending a row again.
    resent = _query(
        stack,
        service,
        "UPDATE messaging_outboxmessage SET sent_at = NULL, created_at = created_at - interval '1 hour' "
        "WHERE event_id IN (SELECT event_id FROM messaging_outboxmessage WHERE event_type = %s "
        "AND sent_at IS NOT NULL ORDER BY created_at DESC LIMIT %s) RETURNING event_id",
        [event_type, count],
    )
    _wait(
        lambda: not _query(stack, service, "SELECT 1 FROM messaging_outboxmessage WHERE sent_at IS NULL", []),
        "the relay to send the events again",
    )
    with redis.Redis.from_url(stack.redis.url) as broker:
        _wait(
            # Celery's queues are Redis lists; kombu keeps the messages taken but not acknowledged
            # in one hash.
            lambda: (
                not any(broker.llen(consumer.queue) for consumer in SERVICES if consumer.queue)
                and not broker.hlen("unacked")
            ),
            "the consumers to take the events sent again",
        )
    return len(resent)


def capacity(load: OrderLoad) -> dict[str, Any]:
    """The highest rate, in steps of CAPACITY_STEP_PER_S each held CAPACITY_STEP_SECONDS, that
    the stack sustains: up from the first rate while each step is sustained, or down until one is."""
    steps: list[dict[str, Any]] = []

    def sustained_at(rate: int) -> bool:
        step = _rate_step(load, rate)
        steps.append(step)
        return step["sustained"]

    rate = CAPACITY_FIRST_RATE_PER_S
    if sustained_at(rate):
        while rate < CAPACITY_HIGHEST_RATE_PER_S and sustained_at(rate + CAPACITY_STEP_PER_S):
            rate += CAPACITY_STEP_PER_S
    else:
        rate -= CAPACITY_STEP_PER_S
        while rate > 0 and not sustained_at(rate):
            rate -= CAPACITY_STEP_PER_S
    return {
        "orders_per_s": rate,
        "above_50_orders_per_s_by": rate - CAPACITY_FIRST_RATE_PER_S,
        "criteria": {
            "step_seconds": CAPACITY_STEP_SECONDS,
            "post_to_confirmed_p99_under_ms": CONFIRMED_P99_LIMIT_MS,
            "lost_duplicated_oversold": 0,
        },
        "steps": steps,
    }


def _rate_step(load: OrderLoad, rate: int) -> dict[str, Any]:
    orders = rate * CAPACITY_STEP_SECONDS
    product_id = load.product(on_hand=orders * 10)
    answers = load.send(product_id, [(number / rate, "step") for number in range(orders)])
    load.settle(answers)
    step = {"rate_per_s": rate, **load.account(product_id, answers)}
    step["post_failures"] = sum(1 for answer in answers if answer.status != 201)
    step["sustained"] = (
        step["post_to_confirmed_ms"]["p99"] < CONFIRMED_P99_LIMIT_MS
        and step["post_failures"] == step["lost"] == step["duplicated"] == step["oversold"] == 0
    )
    return step


def overload(load: OrderLoad, capacity_per_s: int) -> dict[str, Any]:
    """Twice the capacity for OVERLOAD_SECONDS, with the gateway's intake at the capacity: each
    POST is accepted and confirmed, or refused at once with 503 and Retry-After. A trickle of
    orders before it gives the normal latency, and one from its end tells when that is back."""
    rate = capacity_per_s * OVERLOAD_FACTOR
    load.stack.restart_gateway(order_intake=(capacity_per_s, ORDER_INTAKE_BURST))
    try:
        baseline_product_id = load.product(on_hand=PROBE_RATE_PER_S * BASELINE_SECONDS * 10)
        baseline = load.send(baseline_product_id, _probes(0.0, BASELINE_SECONDS))
        load.settle(baseline)
        baseline_p99 = load.account(baseline_product_id, baseline)["post_to_confirmed_ms"]["p99"]
        product_id = load.product(on_hand=rate * OVERLOAD_SECONDS * 10)
        schedule = [(number / rate, "overload") for number in range(rate * OVERLOAD_SECONDS)]
        schedule += _probes(OVERLOAD_SECONDS, RECOVERY_PROBE_SECONDS)
        answers = load.send(product_id, sorted(schedule))
        load.settle(answers)
    finally:
        load.stack.restart_gateway()
    overloading = [answer for answer in answers if answer.tag == "overload"]
    refused = [answer for answer in overloading if answer.status == 503]
    accounted = load.account(product_id, answers)
    accepted_latency = load.account(product_id, overloading)["post_to_confirmed_ms"]
    recovered_after_s = _recovered_after(
        load, [answer for answer in answers if answer.tag == "probe"], overloading, baseline_p99
    )
    return {
        "rate_per_s": rate,
        "seconds": OVERLOAD_SECONDS,
        "gateway_intake_per_s": capacity_per_s,
        "sent": len(overloading),
        "accepted": sum(1 for answer in overloading if answer.status == 201),
        "refused_503": len(refused),
        "refused_with_retry_after": sum(1 for answer in refused if answer.retry_after),
        "other_answers": sorted({answer.status for answer in overloading} - {201, 503}),
        "accepted_post_to_confirmed_ms": accepted_latency,
        "refusal_ms": _percentiles([answer.ms for answer in refused]),
        "lost": accounted["lost"],
        "duplicated": accounted["duplicated"],
        "oversold": accounted["oversold"],
        "baseline_post_to_confirmed_p99_ms": baseline_p99,
        "recovered_after_s": recovered_after_s,
        "met": {
            "accepted_p99_under_1s": accepted_latency["p99"] < CONFIRMED_P99_LIMIT_MS,
            "refusals_p99_under_50ms": _percentiles([answer.ms for answer in refused])["p99"]
            < REFUSAL_P99_LIMIT_MS,
            "nothing_lost_duplicated_oversold": accounted["lost"]
            == accounted["duplicated"]
            == accounted["oversold"]
            == 0,
            "recovered_within_10s": recovered_after_s is not None and recovered_after_s <= RECOVERY_LIMIT_S,
        },
    }


def _probes(start: float, seconds: int) -> list[tuple[float, str]]:
    return [(start + number / PROBE_RATE_PER_S, "probe") for number in range(seconds * PROBE_RATE_PER_S)]


def _recovered_after(
    load: OrderLoad, probes: list[Answer], overloading: list[Answer], baseline_p99: float
) -> float | None:
    """Seconds from the overload's end to the first probe after which every probe was accepted
    and confirmed within RECOVERED_WITHIN_BASELINE_P99_TIMES the baseline's p99; None if never."""
    ended = max(answer.due for answer in overloading) if overloading else 0.0
    confirmed_at = _confirmed_at(load.stack, [answer.order_id for answer in probes if answer.order_id])
    limit_s = RECOVERED_WITHIN_BASELINE_P99_TIMES * baseline_p99 / 1000
    recovered: float | None = None
    for answer in sorted(probes, key=lambda probe: probe.due, reverse=True):
        normal = answer.order_id in confirmed_at and confirmed_at[answer.order_id] - answer.due <= limit_s
        if not normal:
            break
        recovered = max(0.0, round(answer.due - ended, 2))
    return recovered


def _customer_tokens(client: httpx.Client, stack: Stack, count: int) -> list[str]:
    """Customers who may order: registered, confirmed by the link their email brought to the
    stack's mail sink, and logged in. Each from an address of its own (the bench trusts its own
    X-Forwarded-For): registrations and logins are limited per address."""
    accounts = [
        (f"bench-{uuid.uuid4().hex[:10]}@example.com", f"198.18.{number // 250}.{number % 250 + 1}")
        for number in range(count)
    ]
    password = "a-long-benchmark-passphrase"

    def call(path: str, address: str, body: dict[str, str]) -> httpx.Response:
        answer = client.post(path, json=body, headers={"X-Forwarded-For": address})
        answer.raise_for_status()
        return answer

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(
            pool.map(
                lambda a: call("/api/auth/register/", a[1], {"email": a[0], "password": password}), accounts
            )
        )
        links = {email: {} for email, _ in accounts}
        _wait(lambda: all(_confirmation_links(stack, links).values()), "every confirmation email")
        list(pool.map(lambda a: call("/api/auth/register/confirm/", a[1], links[a[0]]), accounts))
        answers = pool.map(
            lambda a: call("/api/auth/token/", a[1], {"email": a[0], "password": password}), accounts
        )
        return [answer.json()["access"] for answer in answers]


def _confirmation_links(stack: Stack, links: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """``links`` (by address) with the confirmation link of each address still without one that
    the mail sink holds an email for."""
    for message in mailbox.Maildir(stack.mail_dir, create=False):
        if links.get(message["To"]) != {} or not message["Subject"].startswith("Confirm"):
            continue
        plain = next(part for part in message.walk() if part.get_content_type() == "text/plain")
        found = CONFIRMATION_LINK.search(plain.get_payload(decode=True).decode())
        if found:
            links[message["To"]] = found.groupdict()
    return links


def _cpu_seconds(stack: Stack) -> dict[str, float]:
    # The load generator shares the cores with the stack: its CPU is measured too, apart.
    return {**cpu_seconds_by_part(stack), LOAD_GENERATOR: time.process_time()}


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


def _wait(check: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {SETTLE_TIMEOUT_S}s for {what}")
        time.sleep(0.5)
