"""What the end-to-end tests share besides fixtures: a mail sink, accounts, waiting, shopping."""

import gzip
import mailbox
import os
import re
import secrets
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import httpx
import psycopg
from celery import Celery
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from devstack.stack import Stack
from edge.events import EVENT_TYPES
from edge.messaging.signing import SignedMessage, message_sign

# The test stack runs on the service table's ports moved by this much. E2E_PORT_BASE moves them
# further, so two checkouts can run their tests at once: with 20000 the gateway is on 20080.
PORT_OFFSET = int(os.environ.get("E2E_PORT_BASE", "18000")) - 8000
ALLOWED_ORIGIN = "http://shop.example"
# The test stack's demo staff account logs in with this; `make run` makes a password of its own.
DEMO_STAFF_PASSWORD = "test-staff-password"
# Failed logins one client address may have over every account before each next one waits
# (auth's LOGIN_FREE_FAILURES_PER_CLIENT, fewer than its default so that a test reaches it soon),
# and the first wait: long enough that a test's next request comes within it on a busy machine.
LOGIN_FREE_FAILURES_PER_CLIENT = 20
LOGIN_FIRST_DELAY_SECONDS = 5
# The orders each gateway of the end-to-end stack takes in a second over all customers, and how
# many more at once: lower than deployed, so that a test reaches it with a few customers.
ORDER_INTAKE_PER_S = 10
ORDER_INTAKE_BURST = 20


class MailSink:
    """A real SMTP server that keeps what it receives, for the tests to read."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Message] = []
        # While set, every message is refused with a temporary failure, as a busy server does.
        self.refusing = False
        self.refused = 0
        # Called with each message once it is stored, before the server answers 250: a test can
        # kill the sender there, when the server has the message and the sender has no answer.
        self.on_stored: Callable[[Message], None] = lambda message: None
        self._arrived = threading.Condition()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self._arrived:
            if self.refusing:
                self.refused += 1
                return "451 4.3.0 Mail server busy, try again later"
            message = message_from_bytes(envelope.content)
            self.messages.append(message)
            self._arrived.notify_all()
        self.on_stored(message)
        return "250 Message accepted for delivery"

    def to(self, address: str, subject: str = "") -> list[Message]:
        with self._arrived:
            return _addressed(self.messages, address, subject)

    def wait_for(self, address: str, subject: str = "", *, timeout: float = 30) -> Message:
        """The latest message to ``address`` whose subject holds ``subject``, once one has come:
        woken by its arrival, not by polling."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: _addressed(self.messages, address, subject), timeout):
                raise AssertionError(f"no email to {address} about {subject!r} within {timeout}s")
            return _addressed(self.messages, address, subject)[-1]


class MaildirInbox:
    """The mail a stack's own SMTP sink (``devstack.mail_sink``) stored, read as a MailSink reads."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def to(self, address: str, subject: str = "") -> list[Message]:
        return _addressed(list(mailbox.Maildir(self.path, create=False)), address, subject)

    def wait_for(self, address: str, subject: str = "", *, timeout: float = 30) -> Message:
        return eventually(lambda: self.to(address, subject), timeout=timeout, interval=0.05)[-1]


class Inbox(Protocol):
    def wait_for(self, address: str, subject: str = "", *, timeout: float = 30) -> Message: ...


def _addressed(messages: list[Message], address: str, subject: str) -> list[Message]:
    return [
        message for message in messages if address in message["To"] and subject in str(message["Subject"])
    ]


@dataclass(frozen=True)
class ReceivedSpan:
    # The process that sent it (its resource's service.name: orders-web, catalog-worker...).
    service: str
    name: str
    trace_id: str
    span_id: str
    # Empty for a span that starts its trace.
    parent_span_id: str


class TraceSink:
    """A real OTLP/HTTP receiver on a free local port, as a collector would be: the services'
    exporters post their spans to ``endpoint``/v1/traces, protobuf as OTLP says, and the tests
    read them by trace id."""

    def __init__(self) -> None:
        self._traces: dict[str, list[ReceivedSpan]] = defaultdict(list)
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                sink.receive(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self._http.server_port}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def receive(self, request: ExportTraceServiceRequest) -> None:
        for resource_spans in request.resource_spans:
            service = next(
                (
                    attribute.value.string_value
                    for attribute in resource_spans.resource.attributes
                    if attribute.key == "service.name"
                ),
                "",
            )
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    received = ReceivedSpan(
                        service, span.name, span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex()
                    )
                    with self._lock:
                        self._traces[received.trace_id].append(received)

    def spans_of(self, trace_id: str) -> list[ReceivedSpan]:
        with self._lock:
            return list(self._traces.get(trace_id, ()))

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()


def new_client_address() -> str:
    """A client address of its own (198.18.0.0/15, kept for tests), sent as X-Forwarded-For
    through the stack's trusted proxy: the gateway's per-address limits and auth's count one
    test's clients apart from every other's."""
    return f"198.{18 + secrets.randbelow(2)}.{secrets.randbelow(256)}.{1 + secrets.randbelow(254)}"


def client_at(base_url: str, address: str | None = None, local_address: str | None = None) -> httpx.Client:
    """A cookie-keeping client whose requests say they come from ``address`` (X-Forwarded-For),
    connecting from ``local_address`` when given (127.0.0.2: a client nobody trusts)."""
    headers = {"X-Forwarded-For": address} if address else {}
    transport = httpx.HTTPTransport(local_address=local_address) if local_address else None
    return httpx.Client(base_url=base_url, headers=headers, transport=transport, timeout=15)


def text_of(message: Message) -> str:
    """The plain text part of an email, decoded."""
    plain = next(part for part in message.walk() if part.get_content_type() == "text/plain")
    return plain.get_payload(decode=True).decode()


def eventually(check: Callable[[], object], *, timeout: float = 20, interval: float = 0.25) -> object:
    """The first truthy result of ``check`` within ``timeout`` seconds (events take a moment)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout}s: {check}")
        time.sleep(interval)


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    password: str
    access: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}


CUSTOMER_PASSWORD = "a-long-and-unusual-passphrase"
CONFIRMATION_SUBJECT = "Confirm your email address"
# The link of the confirmation email: /register/confirm/<uid>/<token>/ on the gateway.
CONFIRMATION_LINK = re.compile(r"/register/confirm/(?P<uid>[\w-]+)/(?P<token>[\w-]+)/")


def sign_up(gateway: httpx.Client, *, full_name: str = "Test Customer") -> str:
    """A new address registered (its confirmation not followed yet): the address."""
    email = f"customer-{uuid.uuid4().hex[:10]}@example.com"
    answer = gateway.post(
        "/api/auth/register/", json={"email": email, "password": CUSTOMER_PASSWORD, "full_name": full_name}
    )
    assert answer.status_code == 202, answer.text
    return email


def confirm_email(gateway: httpx.Client, inbox: Inbox, email: str, *, timeout: float = 30) -> None:
    """Follow the link of the confirmation email that reached ``inbox`` (through the API, as a
    client app that opens the link itself would)."""
    link = CONFIRMATION_LINK.search(text_of(inbox.wait_for(email, CONFIRMATION_SUBJECT, timeout=timeout)))
    assert link, f"no confirmation link in the email to {email}"
    confirmed = gateway.post("/api/auth/register/confirm/", json=link.groupdict())
    assert confirmed.status_code == 204, confirmed.text


def log_in_api(gateway: httpx.Client, email: str, password: str = CUSTOMER_PASSWORD) -> Account:
    tokens = gateway.post("/api/auth/token/", json={"email": email, "password": password})
    assert tokens.status_code == 200, tokens.text
    access = tokens.json()["access"]
    me = gateway.get("/api/auth/me/", headers={"Authorization": f"Bearer {access}"})
    assert me.status_code == 200, me.text
    return Account(me.json()["id"], email, password, access)


def register(gateway: httpx.Client, inbox: Inbox, *, full_name: str = "Test Customer") -> Account:
    """A customer who may place orders: registered, confirmed through the email that reached
    ``inbox``, and logged in."""
    email = sign_up(gateway, full_name=full_name)
    confirm_email(gateway, inbox, email)
    return log_in_api(gateway, email)


def log_in(client: httpx.Client, email: str, password: str, next_page: str = "") -> httpx.Response:
    """Logs in at /login/ the way a browser does: GET the form for its CSRF cookie, then POST."""
    form = client.get("/login/", params={"next": next_page} if next_page else None)
    assert form.status_code == 200
    csrf = client.cookies["auth_csrftoken"]
    return client.post(
        str(form.url),
        data={"csrfmiddlewaretoken": csrf, "username": email, "password": password, "next": next_page},
        headers={
            "Referer": str(form.url),
            "Origin": str(form.url.copy_with(path="/", query=None)).rstrip("/"),
        },
    )


def create_product(
    gateway: httpx.Client, staff: dict[str, str], *, on_hand: int, price: str = "12.50"
) -> dict:
    """A new product with stock, created by staff through the gateway."""
    suffix = uuid.uuid4().hex[:8]
    category = gateway.post("/api/catalog/categories/", json={"name": f"Test {suffix}"}, headers=staff)
    assert category.status_code == 201, category.text
    product = gateway.post(
        "/api/catalog/products/",
        json={
            "sku": f"T-{suffix}",
            "name": f"Test product {suffix}",
            "price": price,
            "currency": "EUR",
            "category": category.json()["id"],
            "on_hand": on_hand,
        },
        headers=staff,
    )
    assert product.status_code == 201, product.text
    return product.json()


def create_orderable_product(
    gateway: httpx.Client, staff: dict[str, str], stack: Stack, *, on_hand: int, price: str = "12.50"
) -> dict:
    """A new product that orders can already price: its product.changed reached orders' price list."""
    product = create_product(gateway, staff, on_hand=on_hand, price=price)

    def priced() -> bool:
        with psycopg.connect(stack.service_env["orders"]["DATABASE_URL"]) as connection:
            return bool(
                connection.execute(
                    "SELECT 1 FROM orders_pricelistentry WHERE product_id = %s", [product["id"]]
                ).fetchone()
            )

    eventually(priced, timeout=30)
    return product


def place_order(gateway: httpx.Client, customer: Account, items: list[tuple[int, int]]) -> httpx.Response:
    return gateway.post(
        "/api/orders/",
        json={"items": [{"product_id": product_id, "quantity": quantity} for product_id, quantity in items]},
        headers={**customer.auth, "Idempotency-Key": str(uuid.uuid4())},
    )


def order_status(gateway: httpx.Client, customer: Account, order_id: int) -> str:
    return gateway.get(f"/api/orders/{order_id}/", headers=customer.auth).json()["status"]


def wait_for_status(
    gateway: httpx.Client, customer: Account, order_id: int, status: str, timeout: float = 40
) -> None:
    eventually(lambda: order_status(gateway, customer, order_id) == status, timeout=timeout)


def stock(gateway: httpx.Client, staff: dict[str, str], product_id: int) -> dict[str, int]:
    answer = gateway.get(f"/api/catalog/products/{product_id}/stock/", headers=staff)
    assert answer.status_code == 200, answer.text
    return answer.json()


def outbox_payloads(stack: Stack, service: str, event_type: str) -> list[dict[str, Any]]:
    with psycopg.connect(stack.service_env[service]["DATABASE_URL"]) as connection:
        rows = connection.execute(
            "SELECT payload FROM messaging_outboxmessage WHERE event_type = %s ORDER BY created_at",
            [event_type],
        ).fetchall()
    return [row[0] for row in rows]


def signed_as_producer(stack: Stack, payload: dict[str, Any], producer: str | None = None) -> SignedMessage:
    """The event signed with the key of ``producer`` on the stack, by default its contract's."""
    producer = producer or EVENT_TYPES[payload["type"]].producers[0]
    return message_sign(payload, producer=producer, key=stack.service_env[producer]["EVENT_SIGNING_KEY"])


def deliver_again(stack: Stack, payload: dict[str, Any], queue: str, *, producer: str | None = None) -> None:
    """Put an event on a service's queue once more, as a redelivering broker would: signed as
    its producer signed it (``producer``, for a message of a type no contract names)."""
    signed = signed_as_producer(stack, payload, producer)
    _send(stack, signed.message, queue, signed.task_kwargs)


def send_as_outsider(
    stack: Stack, payload: dict[str, Any], queue: str, *, signed_by: str | None = None
) -> None:
    """Put a message on a service's queue as someone who reached the broker but holds no
    producer's key would (unsigned), or as the service ``signed_by`` would, with its own key."""
    signature = signed_as_producer(stack, payload, signed_by).task_kwargs if signed_by else {}
    _send(stack, payload, queue, signature)


def _send(stack: Stack, payload: object, queue: str, kwargs: dict[str, str]) -> None:
    app = Celery(broker=stack.redis.url)
    try:
        app.send_task("edge.handle_event", args=[payload], kwargs=kwargs, queue=queue)
    finally:
        app.close()
