"""Operating the system: Celery in view for staff (Flower behind the gateway), and the metrics of
every service and of the gateway, scraped where Prometheus scrapes them and never public."""

from collections.abc import Callable

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devstack.stack import DEMO_STAFF_EMAIL, Stack
from edge.service_table import SERVICE_NAMES, SERVICES
from tests.support import (
    DEMO_STAFF_PASSWORD,
    create_orderable_product,
    eventually,
    log_in,
    place_order,
    wait_for_status,
)

FLOWER = "/admin/flower/"
CONSUMERS = sorted(service.name for service in SERVICES if service.queue)

Samples = dict[tuple[str, frozenset], float]


def scrape(url: str) -> Samples:
    answer = httpx.get(url, timeout=15)
    assert answer.status_code == 200, answer.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the series of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(value for (sample, series), value in samples.items() if sample == name and wanted <= series)


def service_metrics(stack: Stack) -> Callable[[str], Samples]:
    return lambda service: scrape(f"{stack.service_url(service)}/metrics")


def gateway_metrics(stack: Stack) -> Samples:
    """The first gateway's, on its internal port (the `gateway` fixture's)."""
    return scrape(f"http://{stack.config.gateway_internal_addresses[0]}/metrics")


def test_staff_see_the_celery_workers_in_flower(browser):
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)

    page = browser.get(FLOWER)

    assert page.status_code == 200
    assert "Flower" in page.text

    def workers() -> set[str]:
        answer = browser.get(f"{FLOWER}api/workers", params={"refresh": 1})
        assert answer.status_code == 200, answer.text
        # Each worker replica is a node "<service>-<n>@<host>".
        return {name.split("@")[0].rsplit("-", 1)[0] for name in answer.json()}

    assert eventually(lambda: set(CONSUMERS) <= workers(), timeout=30)


def test_flower_is_for_staff_alone(gateway, customer):
    anonymous = gateway.get(FLOWER)
    as_customer = gateway.get(f"{FLOWER}api/workers", headers=customer.auth)

    assert anonymous.status_code == 302
    assert anonymous.headers["location"].startswith("/login/refresh?next=")
    assert as_customer.status_code == 403
    assert as_customer.json()["status"] == 403


def test_an_order_moves_the_metrics_of_every_service_and_of_the_gateway(stack, gateway, staff, customer):
    product = create_orderable_product(gateway, staff, stack, on_hand=5)
    scrape_service = service_metrics(stack)
    before = {service: scrape_service(service) for service in SERVICE_NAMES}
    gateway_before = gateway_metrics(stack)

    placed = place_order(gateway, customer, [(product["id"], 1)])
    assert placed.status_code == 201, placed.text
    wait_for_status(gateway, customer, placed.json()["id"], "confirmed")
    for _ in range(2):
        assert gateway.get(f"/api/catalog/products/{product['id']}/").status_code == 200
    # notify emails the confirmation: its notifications move last.
    eventually(
        lambda: (
            total(scrape_service("notify"), "notifications", status="sent")
            > total(before["notify"], "notifications", status="sent")
        ),
        timeout=30,
    )
    after = {service: scrape_service(service) for service in SERVICE_NAMES}
    gateway_after = gateway_metrics(stack)

    def moved(service: str, name: str, **labels: str) -> float:
        return total(after[service], name, **labels) - total(before[service], name, **labels)

    placed_orders = dict(view="order-list", method="POST", status="201")
    assert moved("orders", "django_http_responses_total_by_status_view_method_total", **placed_orders) >= 1
    assert (
        moved("orders", "django_http_requests_latency_seconds_by_view_method_count", view="order-list") >= 1
    )
    for service in CONSUMERS:
        assert moved(service, "celery_tasks_total", outcome="success") >= 1, service
        assert moved(service, "celery_task_duration_seconds_count", outcome="success") >= 1, service
    for service in SERVICE_NAMES:
        for gauge in (
            "events_outbox_unsent",
            "events_outbox_oldest_unsent_age_seconds",
            "events_dead_letters_waiting",
        ):
            assert (gauge, frozenset()) in after[service], (service, gauge)

    def gateway_moved(name: str, **labels: str) -> float:
        return total(gateway_after, name, **labels) - total(gateway_before, name, **labels)

    assert gateway_moved("gateway_requests_total", service="orders", status="201") >= 1
    assert gateway_moved("gateway_upstream_response_seconds_count", service="orders") >= 1
    assert gateway_moved("gateway_token_checks_total", result="valid") >= 1
    assert gateway_moved("gateway_cache_requests_total", service="catalog") >= 2


@pytest.mark.parametrize("path", ["/metrics", *(f"/api/{name}/metrics" for name in SERVICE_NAMES)])
def test_the_public_gateway_routes_expose_no_metrics(gateway, staff, path):
    answer = gateway.get(path, headers=staff, follow_redirects=True)

    assert answer.status_code == 404
    assert answer.json()["detail"] == "Not found."
