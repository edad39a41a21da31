"""Two gateways, each with its own cache of public catalog answers, and no answer older than a
write that has answered read through either of them (nginx/catalog_version.lua, catalog.gateways)."""

import os
import signal
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from devstack.gateway import CATALOG_VERSION_LEASE_SECONDS
from devstack.stack import Stack
from tests.support import create_product

PRODUCTS = "/api/catalog/products/"
# Writes, each followed by reads through both gateways.
ROUNDS = 200


@pytest.fixture
def gateways(stack: Stack) -> Iterator[list[httpx.Client]]:
    """An anonymous client of each gateway."""
    assert len(stack.gateway_urls) >= 2, "the end-to-end stack runs two gateways"
    with ExitStack() as clients:
        yield [clients.enter_context(httpx.Client(base_url=url, timeout=15)) for url in stack.gateway_urls]


def _read(gateway: httpx.Client, detail: str, listing: dict[str, str]) -> list[tuple[str, str]]:
    """Where the gateway took each answer from (X-Gateway-Cache) and the product's name in it:
    the product's own page, and a list that holds it."""
    page = gateway.get(detail)
    found = gateway.get(PRODUCTS, params=listing)
    return [
        (page.headers["X-Gateway-Cache"], page.json()["name"]),
        (found.headers["X-Gateway-Cache"], found.json()["results"][0]["name"]),
    ]


def test_no_gateway_serves_an_answer_older_than_the_last_write(gateways, staff):
    product = create_product(gateways[0], staff, on_hand=5)
    detail, listing = f"{PRODUCTS}{product['id']}/", {"search": product["sku"]}
    stale, from_cache = [], 0

    for round_number in range(ROUNDS):
        name = f"Round {round_number} {product['sku']}"
        writer = gateways[round_number % len(gateways)]
        written = writer.patch(detail, json={"name": name}, headers=staff)
        assert written.status_code == 200, written.text
        # Twice through each gateway: the first read fills its cache under the new version, the
        # second is answered from it. Either would show an older name had the gateway kept the
        # version before the write.
        for number, gateway in enumerate(gateways, start=1):
            for source, seen in _read(gateway, detail, listing) + _read(gateway, detail, listing):
                from_cache += source == "HIT"
                if seen != name:
                    stale.append(f"round {round_number}, gateway {number} ({source}): {seen!r}")

    assert stale == []
    # The reads were the caches' to get wrong: half of them at least came from a cache.
    assert from_cache >= ROUNDS * len(gateways) * 2


@contextmanager
def _frozen(stack: Stack, gateway: str) -> Iterator[None]:
    """The gateway's processes stopped dead (SIGSTOP): it takes no push and serves nothing,
    and when thawed it still holds what it held."""
    (master,) = stack.supervisor.pids_of(gateway)
    os.killpg(master, signal.SIGSTOP)
    try:
        yield
    finally:
        os.killpg(master, signal.SIGCONT)


def test_a_write_that_a_gateway_missed_answers_only_once_that_gateway_cannot_serve_it_old(
    stack, gateways, staff
):
    product = create_product(gateways[0], staff, on_hand=5)
    detail = f"{PRODUCTS}{product['id']}/"
    late = gateways[1]
    late.get(detail)
    assert late.get(detail).headers["X-Gateway-Cache"] == "HIT"

    with _frozen(stack, stack.config.gateway_names[1]):
        started = time.monotonic()
        written = gateways[0].patch(detail, json={"name": "Renamed while a gateway slept"}, headers=staff)
        waited = time.monotonic() - started
    answer = late.get(detail)

    assert written.status_code == 200, written.text
    # catalog held the answer until the frozen gateway's lease on the old version had run out.
    assert waited >= CATALOG_VERSION_LEASE_SECONDS
    assert answer.json()["name"] == "Renamed while a gateway slept"


def test_neither_the_push_nor_catalogs_version_is_reachable_through_a_public_port(gateways):
    pushed = gateways[0].put("/catalog-cache-version", content=b"999999")
    polled = gateways[1].get("/internal/cache-version")

    assert (pushed.status_code, polled.status_code) == (404, 404)
    assert pushed.json()["status"] == 404


def test_a_push_of_an_older_version_does_not_take_a_gateway_back(stack, gateways, staff):
    gateway, internal = gateways[0], _internal_url(stack, 0)
    product = create_product(gateway, staff, on_hand=5)
    detail = f"{PRODUCTS}{product['id']}/"
    gateway.get(detail)
    assert gateway.get(detail).headers["X-Gateway-Cache"] == "HIT"
    old_version = httpx.get(f"{stack.service_url('catalog')}/internal/cache-version").text
    renamed = gateway.patch(detail, json={"name": "Renamed after the old version"}, headers=staff)
    assert renamed.status_code == 200, renamed.text

    # A push delayed past the next one: the page cached under it holds the old name.
    pushed = httpx.put(internal, content=old_version.encode())
    answers = [gateway.get(detail) for _ in range(2)]

    assert pushed.status_code == 204
    assert [answer.json()["name"] for answer in answers] == ["Renamed after the old version"] * 2


@pytest.mark.parametrize(
    ("method", "body", "status"),
    [("PUT", b"not a number", 400), ("PUT", b"-3", 400), ("GET", b"", 405)],
)
def test_a_gateway_refuses_a_push_it_cannot_read_with_json(stack, method, body, status):
    answer = httpx.request(method, _internal_url(stack, 0), content=body)

    assert answer.status_code == status
    assert answer.json()["status"] == status


def _internal_url(stack: Stack, number: int) -> str:
    """Where catalog pushes its cache version to the gateway ``number`` (from 0)."""
    return f"http://{stack.config.local_address}:{stack.config.gateway_internal_ports[number]}/catalog-cache-version"
