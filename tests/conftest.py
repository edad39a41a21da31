"""The live stack for the end-to-end tests: started once per test session, reached only
through the gateway (and, where a test says so, a service's own port to prove it checks too).
"""

import shutil
from collections.abc import Iterator

import httpx
import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Page, sync_playwright

from devstack.infra import free_port
from devstack.stack import DEMO_STAFF_EMAIL, ROOT, Stack, StackConfig
from edge.service_table import RELAY, WEB, WORKER
from tests.support import (
    ALLOWED_ORIGIN,
    DEMO_STAFF_PASSWORD,
    LOGIN_FIRST_DELAY_SECONDS,
    LOGIN_FREE_FAILURES_PER_CLIENT,
    ORDER_INTAKE_BURST,
    ORDER_INTAKE_PER_S,
    PORT_OFFSET,
    Account,
    MailSink,
    TraceSink,
    client_at,
    new_client_address,
    register,
)

# The browser tests' Chromium: Debian's, headless, driven by Playwright.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests that need no live stack of the session run before it starts: those that start
    stacks of their own (test_devstack.py) then do not share the two cores with it. Tests marked
    ``runs_last`` (the fuzzing, whose staff writes touch ids other tests made) come after all."""
    items.sort(
        key=lambda item: ("stack" in item.fixturenames, item.get_closest_marker("runs_last") is not None)
    )


@pytest.fixture(scope="session")
def mail() -> Iterator[MailSink]:
    sink = MailSink(free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    yield sink
    controller.stop()


@pytest.fixture(scope="session")
def traces() -> Iterator[TraceSink]:
    sink = TraceSink()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def stack(mail: MailSink, traces: TraceSink) -> Iterator[Stack]:
    state = ROOT / ".stack" / "e2e"
    shutil.rmtree(state, ignore_errors=True)
    config = StackConfig.from_environment(
        state_dir=state,
        port_offset=PORT_OFFSET,
        smtp_port=mail.port,
        database_prefix="e2e_",
        demo_staff_password=DEMO_STAFF_PASSWORD,
        visibility_timeout=10,
        # Two of each process, so every test runs against replicas that compete for the same
        # port, the same queue and the same outbox rows; one gunicorn worker in each web
        # replica keeps the number of web processes what it was.
        replicas={WEB: 2, WORKER: 2, RELAY: 2},
        web_workers=1,
        # Two gateways, each with its own cache and ports: `gateway` is the first.
        gateways=2,
        # The tests' own connections come through a trusted proxy: the X-Forwarded-For they send
        # is each test's client address. From 127.0.0.2, a client nobody trusts.
        trusted_proxies=["127.0.0.1"],
        order_intake=(ORDER_INTAKE_PER_S, ORDER_INTAKE_BURST),
        extra_env={
            "CORS_ALLOWED_ORIGINS": ALLOWED_ORIGIN,
            # A refused email is retried after 1, 2, 2... seconds here, not minutes.
            "NOTIFY_RETRY_BACKOFF_SECONDS": "1",
            "NOTIFY_RETRY_BACKOFF_MAX": "2",
            "NOTIFY_SEND_MAX_RETRIES": "30",
            # The tests order up to 3 units of products of 2 to 5: a customer may always hold 3
            # (the share of larger stocks, 20 %, stays as deployed).
            "CATALOG_CUSTOMER_SHARE_MIN_UNITS": "3",
            # Every event published on this stack is checked against its contract as it leaves.
            "EDGE_VALIDATE_PUBLISHED_EVENTS": "true",
            "LOGIN_FREE_FAILURES_PER_CLIENT": str(LOGIN_FREE_FAILURES_PER_CLIENT),
            "LOGIN_FIRST_DELAY_SECONDS": str(LOGIN_FIRST_DELAY_SECONDS),
            # Every process traces, exporting to the session's receiver (edge.tracing), in
            # batches sent every half second rather than every five.
            "OTEL_EXPORTER_OTLP_ENDPOINT": traces.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "500",
        },
    )
    live = Stack(config).start()
    yield live
    live.stop()


@pytest.fixture
def gateway(stack: Stack) -> Iterator[httpx.Client]:
    """An API client of the gateway (it keeps cookies, as a browser would), at an address of
    its own: the test's registrations and logins count against no other test's."""
    with client_at(stack.gateway_url, new_client_address()) as client:
        yield client


@pytest.fixture
def customer(gateway: httpx.Client, mail: MailSink) -> Account:
    return register(gateway, mail)


@pytest.fixture
def browser(stack: Stack) -> Iterator[httpx.Client]:
    """A cookie-keeping client with no session yet, at an address of its own."""
    with client_at(stack.gateway_url, new_client_address()) as client:
        yield client


@pytest.fixture(scope="session")
def staff_token(stack: Stack) -> str:
    with httpx.Client(base_url=stack.gateway_url, timeout=15) as client:
        answer = client.post(
            "/api/auth/token/", json={"email": DEMO_STAFF_EMAIL, "password": DEMO_STAFF_PASSWORD}
        )
    assert answer.status_code == 200, answer.text
    return answer.json()["access"]


@pytest.fixture
def staff(staff_token: str) -> dict[str, str]:
    """The headers of the demo staff account's API calls."""
    return {"Authorization": f"Bearer {staff_token}"}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


@pytest.fixture
def csp_violations(page: Page) -> list[str]:
    """What the browser refused to load or run under the pages' Content-Security-Policy."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return refused
