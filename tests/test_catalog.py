"""The catalogue through the gateway: demo data, staff writes seen at once, and no overselling."""

import random
import subprocess
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import redis
from celery import Celery

from devstack.processes import stop_group
from devstack.stack import ROOT, Stack
from edge.events import OrderPlaced
from edge.service_table import service_named
from tests.support import (
    create_orderable_product,
    create_product,
    eventually,
    outbox_payloads,
    place_order,
    signed_as_producer,
    stock,
    wait_for_status,
)

PRODUCTS = "/api/catalog/products/"
CATEGORIES = "/api/catalog/categories/"


def test_the_stack_serves_the_demo_catalogue(gateway):
    products = gateway.get(PRODUCTS, params={"page_size": 1})
    tree = gateway.get(CATEGORIES)

    assert products.status_code == 200
    assert products.json()["count"] >= 300
    assert any(child["children"] for root in tree.json() for child in root["children"])


def test_search_finds_demo_products_by_word_and_by_sku(gateway):
    by_word = gateway.get(PRODUCTS, params={"search": "headphones"}).json()
    sku = by_word["results"][0]["sku"]
    by_sku = gateway.get(PRODUCTS, params={"search": sku.lower()}).json()

    assert by_word["count"] >= 1
    assert all("headphones" in product["name"].lower() for product in by_word["results"])
    assert by_sku["results"][0]["sku"] == sku


def test_a_price_change_is_read_at_once_through_the_gateway(gateway, staff):
    product = create_product(gateway, staff, on_hand=5, price="19.90")
    detail, listing = f"{PRODUCTS}{product['id']}/", {"search": product["sku"]}
    gateway.get(detail), gateway.get(PRODUCTS, params=listing)
    assert gateway.get(detail).headers["X-Gateway-Cache"] == "HIT"
    assert gateway.get(PRODUCTS, params=listing).headers["X-Gateway-Cache"] == "HIT"

    changed = gateway.patch(detail, json={"price": "24.50"}, headers=staff)

    assert changed.status_code == 200, changed.text
    assert gateway.get(detail).json()["price"] == "24.50"
    listed = gateway.get(PRODUCTS, params=listing).json()["results"]
    assert [row["price"] for row in listed] == ["24.50"]


def test_staff_reads_skip_both_caches(gateway, staff):
    product = create_product(gateway, staff, on_hand=5)
    detail = f"{PRODUCTS}{product['id']}/"
    gateway.get(detail, headers=staff)

    answer = gateway.get(detail, headers=staff)

    assert (answer.headers["X-Gateway-Cache"], answer.headers["X-Cache"]) == ("BYPASS", "BYPASS")
    assert answer.json()["stock"]["on_hand"] == 5


def test_a_stock_change_is_read_at_once_through_the_gateway(gateway, staff):
    product = create_product(gateway, staff, on_hand=3)
    detail = f"{PRODUCTS}{product['id']}/"
    assert gateway.get(detail).json()["in_stock"] is True

    adjusted = gateway.post(
        f"{detail}stock/", json={"on_hand": 0, "reason": "Sold at the fair"}, headers=staff
    )

    assert adjusted.status_code == 200, adjusted.text
    assert gateway.get(detail).json()["in_stock"] is False


def test_a_customer_cannot_write_to_the_catalogue(gateway, customer):
    body = {"sku": "E2E-NOPE", "name": "Nope", "price": "1.00", "category": 1}

    assert gateway.post(PRODUCTS, json=body, headers=customer.auth).status_code == 403
    assert gateway.post(PRODUCTS, json=body).status_code == 401


def test_bad_input_is_400_and_an_unknown_product_is_a_json_404(gateway, staff):
    negative = gateway.post(
        PRODUCTS, json={"sku": "E2E-NEG", "name": "Neg", "price": "-1", "category": 1}, headers=staff
    )
    too_big = gateway.get(PRODUCTS, params={"page_size": 1000})
    unknown = gateway.get(f"{PRODUCTS}999999999/")

    assert negative.status_code == 400
    assert "price" in negative.json()
    assert too_big.status_code == 400
    assert "page_size" in too_big.json()
    assert unknown.status_code == 404
    assert unknown.json()["detail"]


def test_fifty_concurrent_orders_for_ten_units_reserve_exactly_ten(gateway, staff, stack):
    product = create_product(gateway, staff, on_hand=10)
    base = random.randrange(10**8, 10**9)
    # Each of another customer: one customer may hold only a share of the ten.
    orders = [
        OrderPlaced(
            order_id=base + number,
            customer_id=base + number,
            customer_email=f"race-{number}@example.com",
            items=[{"product_id": product["id"], "quantity": 1}],
        )
        for number in range(50)
    ]
    broker = Celery("e2e", broker=stack.redis.url)
    # More worker processes than the stack's two, so that reservations really run side by side.
    try:
        with _extra_catalog_worker(stack) as log:
            eventually(lambda: "ready" in log.read_text(errors="replace"), timeout=30)
            with ThreadPoolExecutor(max_workers=10) as pool:
                list(
                    pool.map(
                        lambda signed: broker.send_task(
                            "edge.handle_event",
                            args=[signed.message],
                            kwargs=signed.task_kwargs,
                            queue="catalog",
                        ),
                        [signed_as_producer(stack, event.to_message()) for event in orders],
                    )
                )
            answers = eventually(lambda: _answers(stack, {event.order_id for event in orders}), timeout=60)
    finally:
        broker.close()

    units = stock(gateway, staff, product["id"])
    ledger = gateway.get(
        f"{PRODUCTS}{product['id']}/movements/", params={"page_size": 100}, headers=staff
    ).json()
    assert answers == {"stock.reserved": 10, "stock.rejected": 40}
    assert (units["on_hand"], units["reserved"], units["available"]) == (10, 10, 0)
    assert ledger["count"] == 11
    assert sum(row["on_hand_delta"] for row in ledger["results"]) == units["on_hand"]
    assert sum(row["reserved_delta"] for row in ledger["results"]) == units["reserved"]
    assert gateway.get(f"{PRODUCTS}{product['id']}/").json()["in_stock"] is False


def _answers(stack: Stack, order_ids: set[int]) -> dict[str, int] | None:
    """How many of these orders catalog answered each way, once it answered all of them."""
    answers = {
        event_type: sum(
            payload["order_id"] in order_ids for payload in outbox_payloads(stack, "catalog", event_type)
        )
        for event_type in ("stock.reserved", "stock.rejected")
    }
    return answers if sum(answers.values()) == len(order_ids) else None


@contextmanager
def _extra_catalog_worker(stack: Stack) -> Iterator[Path]:
    """A second catalog worker of four processes while the block runs; yields its log."""
    argv = stack.service_argv("catalog", "worker")
    argv[argv.index("--concurrency") + 1] = "4"
    argv[argv.index("-n") + 1] = "catalog-race@%h"
    log_path = stack.logs / "catalog-race-worker.log"
    with log_path.open("wb") as log:
        worker = subprocess.Popen(
            argv,
            cwd=ROOT / service_named("catalog").directory,
            env=stack.service_env["catalog"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield log_path
    finally:
        stop_group(worker)


def test_an_order_reserves_stock_and_its_cancellation_gives_it_back(gateway, staff, stack, customer):
    product = create_orderable_product(gateway, staff, stack, on_hand=5)

    placed = place_order(gateway, customer, [(product["id"], 3)])
    assert placed.status_code == 201, placed.text
    order_id = placed.json()["id"]
    wait_for_status(gateway, customer, order_id, "confirmed")
    reserved = stock(gateway, staff, product["id"])
    cancelled = gateway.post(f"/api/orders/{order_id}/cancel/", headers=customer.auth)

    assert (reserved["on_hand"], reserved["reserved"]) == (5, 3)
    assert cancelled.status_code == 200, cancelled.text
    assert eventually(lambda: stock(gateway, staff, product["id"])["reserved"] == 0)


def test_staff_cannot_count_fewer_units_than_orders_have_reserved(gateway, staff, stack, customer):
    product = create_orderable_product(gateway, staff, stack, on_hand=5)
    order_id = place_order(gateway, customer, [(product["id"], 3)]).json()["id"]
    wait_for_status(gateway, customer, order_id, "confirmed")

    counted = gateway.post(
        f"{PRODUCTS}{product['id']}/stock/", json={"on_hand": 2, "reason": "Stocktake"}, headers=staff
    )

    assert counted.status_code == 409, counted.text
    assert (counted.json()["code"], counted.json()["field"]) == ("stock_below_reserved", "on_hand")
    assert stock(gateway, staff, product["id"])["on_hand"] == 5


def test_a_reservation_made_by_catalogs_worker_is_read_at_once_through_the_gateway(
    gateway, staff, stack, customer
):
    product = create_orderable_product(gateway, staff, stack, on_hand=2)
    detail = f"{PRODUCTS}{product['id']}/"
    gateway.get(detail)
    assert gateway.get(detail).headers["X-Gateway-Cache"] == "HIT"

    placed = place_order(gateway, customer, [(product["id"], 2)])
    assert placed.status_code == 201, placed.text
    wait_for_status(gateway, customer, placed.json()["id"], "confirmed")

    assert gateway.get(detail).json()["in_stock"] is False


def test_a_shipped_order_leaves_the_stock_on_hand(gateway, staff, stack, customer):
    product = create_orderable_product(gateway, staff, stack, on_hand=5)
    order_id = place_order(gateway, customer, [(product["id"], 2)]).json()["id"]
    wait_for_status(gateway, customer, order_id, "confirmed")

    shipped = gateway.post(f"/api/orders/{order_id}/ship/", headers=staff)

    assert shipped.status_code == 200, shipped.text
    assert eventually(
        lambda: (
            stock(gateway, staff, product["id"]) | {"updated_at": None}
            == {"on_hand": 3, "reserved": 0, "available": 3, "updated_at": None}
        )
    )


def _catalog_cache_keys(stack: Stack) -> set[bytes]:
    client = redis.Redis.from_url(stack.redis_cache.url)
    try:
        return set(client.scan_iter("catalog:*"))
    finally:
        client.close()


def _gateway_cache_files(stack: Stack) -> set[Path]:
    """The answers the first gateway keeps, one file each."""
    folder = stack.runtime / stack.config.gateway_names[0] / "temp" / "cache" / "catalog"
    return {path for path in folder.rglob("*") if path.is_file()}


def test_query_parameters_the_catalog_does_not_read_make_no_cache_entries(gateway, stack):
    def held_by_the_gateway() -> httpx.Response | None:
        answer = gateway.get(f"{PRODUCTS}?page_size=3")
        return answer if answer.headers["X-Gateway-Cache"] == "HIT" else None

    cached = eventually(held_by_the_gateway)
    keys, files = _catalog_cache_keys(stack), _gateway_cache_files(stack)

    for _ in range(20):
        junk = gateway.get(f"{PRODUCTS}?utm_source={uuid.uuid4().hex}&page_size=3")
        assert junk.status_code == 200
        assert junk.headers["X-Cache"] == "HIT"
        assert "X-Catalog-Query-Rewritten" not in junk.headers
        assert junk.json() == cached.json()

    assert _catalog_cache_keys(stack) == keys
    assert _gateway_cache_files(stack) == files
