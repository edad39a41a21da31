"""The live stack for the end-to-end tests: started once per test session, reached only
through the gateway (and, where a test says so, a service's own port to prove it checks too).
"""

import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message

import httpx
import pytest
from aiosmtpd.controller import Controller

from devstack.infra import free_port
from devstack.stack import ROOT, Stack, StackConfig

# E2E_PORT_BASE moves the test stack's ports, so two checkouts can run their tests at once.
PORT_BASE = int(os.environ.get("E2E_PORT_BASE", "18000"))
GATEWAY_PORT = PORT_BASE + 80
E2E_PORTS = {
    "auth": PORT_BASE + 1,
    "catalog": PORT_BASE + 2,
    "orders": PORT_BASE + 3,
    "notify": PORT_BASE + 4,
}
ALLOWED_ORIGIN = "http://shop.example"


class MailSink:
    """A real SMTP server that keeps what it receives, for the tests to read."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        with self._lock:
            self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        with self._lock:
            return [message for message in self.messages if address in message["To"]]


@pytest.fixture(scope="session")
def mail() -> Iterator[MailSink]:
    sink = MailSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture(scope="session")
def stack(mail: MailSink) -> Iterator[Stack]:
    state = ROOT / ".stack" / "e2e"
    shutil.rmtree(state, ignore_errors=True)
    config = StackConfig.from_environment(
        state_dir=state,
        gateway_port=GATEWAY_PORT,
        service_ports=E2E_PORTS,
        smtp_port=mail.port,
        database_prefix="e2e_",
        visibility_timeout=10,
        extra_env={"CORS_ALLOWED_ORIGINS": ALLOWED_ORIGIN},
    )
    live = Stack(config).start()
    yield live
    live.stop()


@pytest.fixture
def gateway(stack: Stack) -> Iterator[httpx.Client]:
    """An API client of the gateway (it keeps cookies, as a browser would)."""
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        yield client


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


def register(gateway: httpx.Client, *, full_name: str = "Test Customer") -> Account:
    email = f"customer-{uuid.uuid4().hex[:10]}@example.com"
    password = "a-long-and-unusual-passphrase"
    created = gateway.post(
        "/api/auth/register/", json={"email": email, "password": password, "full_name": full_name}
    )
    assert created.status_code == 201, created.text
    tokens = gateway.post("/api/auth/token/", json={"email": email, "password": password})
    assert tokens.status_code == 200, tokens.text
    return Account(created.json()["id"], email, password, tokens.json()["access"])


@pytest.fixture
def customer(gateway: httpx.Client) -> Account:
    return register(gateway)


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


@pytest.fixture
def browser(stack: Stack) -> Iterator[httpx.Client]:
    """A cookie-keeping client with no session yet."""
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        yield client
