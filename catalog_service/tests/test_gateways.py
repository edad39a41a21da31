"""The cache version reaches every gateway before a write answers, or the write waits until no
gateway that missed it can serve an older answer (catalog.gateways)."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction

from catalog import gateways, services
from catalog.cache import cache_version
from tests.factories import make_product

pytestmark = pytest.mark.django_db
LEASE = 0.3


class FakeGateway(ThreadingHTTPServer):
    """A gateway's internal server: keeps every version pushed to it, answers ``status``."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, status: int = 204) -> None:
        self.pushed: list[int] = []
        self.status = status
        super().__init__((host, port), _PushHandler)

    @property
    def address(self) -> str:
        host, port = self.server_address[:2]
        return f"{host}:{port}"


class _PushHandler(BaseHTTPRequestHandler):
    server: FakeGateway

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == gateways.PUSH_PATH:
            self.server.pushed.append(int(body))
        self.send_response(self.server.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def serve() -> Iterator[Callable[..., FakeGateway]]:
    """Starts fake gateways; stops them after the test."""
    started: list[FakeGateway] = []

    def start(**options: object) -> FakeGateway:
        gateway = FakeGateway(**options)
        threading.Thread(target=gateway.serve_forever, daemon=True).start()
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.shutdown()
        gateway.server_close()


@pytest.fixture
def short_lease(settings):
    settings.CATALOG_GATEWAY_LEASE_SECONDS = LEASE
    settings.CATALOG_GATEWAY_PUSH_TIMEOUT = 0.5


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_every_gateway_holds_the_new_version_when_the_write_answers(
    settings, serve, django_capture_on_commit_callbacks
):
    first, second = serve(), serve()
    settings.CATALOG_GATEWAYS = [first.address, second.address]
    product = make_product()

    with django_capture_on_commit_callbacks(execute=True):
        services.product_update(product=product, name="Renamed")
        assert (first.pushed, second.pushed) == ([], [])

    assert (first.pushed, second.pushed) == ([cache_version()], [cache_version()])


class Abandoned(Exception):
    pass


def _update_then_abandon(product: object) -> None:
    with transaction.atomic():
        services.product_update(product=product, name="Renamed")
        raise Abandoned


def test_a_write_rolled_back_tells_the_gateways_nothing(settings, serve, django_capture_on_commit_callbacks):
    gateway = serve()
    settings.CATALOG_GATEWAYS = [gateway.address]
    product = make_product()

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Abandoned):
        _update_then_abandon(product)

    assert callbacks == []
    assert gateway.pushed == []


def test_each_write_pushes_its_own_version_in_commit_order(
    settings, serve, django_capture_on_commit_callbacks
):
    gateway = serve()
    settings.CATALOG_GATEWAYS = [gateway.address]
    product = make_product()

    for name in ("First", "Second", "Third"):
        with django_capture_on_commit_callbacks(execute=True):
            services.product_update(product=product, name=name)

    assert gateway.pushed == [cache_version() - 2, cache_version() - 1, cache_version()]


def test_a_name_is_pushed_to_every_address_it_resolves_to(settings, serve, monkeypatch):
    first = serve()
    port = first.server_address[1]
    second = serve(host="127.0.0.2", port=port)
    resolve = socket.getaddrinfo

    def one_name_two_gateways(host: str, port: int, *args: object, **kwargs: object) -> list:
        if host != "gateways.internal":
            return resolve(host, port, *args, **kwargs)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port)) for ip in ("127.0.0.1", "127.0.0.2")]

    monkeypatch.setattr(socket, "getaddrinfo", one_name_two_gateways)
    settings.CATALOG_GATEWAYS = [f"gateways.internal:{port}"]

    missed = gateways.gateway_version_push(8, committed_at=time.monotonic())

    assert missed == []
    assert (first.pushed, second.pushed) == ([8], [8])


@pytest.mark.parametrize(
    "unreachable",
    [
        pytest.param(lambda serve: f"127.0.0.1:{_closed_port()}", id="nothing listens"),
        pytest.param(lambda serve: serve(status=500).address, id="answers an error"),
        pytest.param(lambda serve: "no-such-gateway.invalid:9", id="name does not resolve"),
    ],
)
def test_a_gateway_that_misses_the_push_holds_the_write_until_its_lease_has_run_out(
    settings, serve, short_lease, unreachable, caplog
):
    reachable = serve()
    missing = unreachable(serve)
    settings.CATALOG_GATEWAYS = [reachable.address, missing]
    committed_at = time.monotonic()

    missed = gateways.gateway_version_push(9, committed_at=committed_at)

    assert time.monotonic() - committed_at >= LEASE + gateways.LEASE_MARGIN_SECONDS
    assert len(missed) == 1
    assert missing.split(":")[0] in missed[0]
    assert reachable.pushed == [9]
    assert "did not reach every gateway" in caplog.text


def test_when_every_gateway_takes_the_push_the_write_does_not_wait(settings, serve, short_lease):
    settings.CATALOG_GATEWAYS = [serve().address, serve().address]
    started = time.monotonic()

    assert gateways.gateway_version_push(3, committed_at=started) == []
    assert time.monotonic() - started < LEASE


def test_without_gateways_nothing_is_pushed_and_nothing_waits(settings):
    settings.CATALOG_GATEWAYS = []
    started = time.monotonic()

    assert gateways.gateway_version_push(3, committed_at=started - 100) == []
    assert time.monotonic() - started < 0.1


def test_the_gateways_poll_the_committed_version(client):
    product = make_product()
    services.product_update(product=product, name="Renamed")

    answer = client.get("/internal/cache-version")

    assert answer.status_code == 200
    assert answer.content.decode() == str(cache_version())
    assert client.post("/internal/cache-version").status_code == 405
