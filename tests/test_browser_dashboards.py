"""Each admin site opens on its dashboard (Debian's Chromium, headless, driven by Playwright): the
SVG charts are drawn, and the figures shown are those of the service's own database.

The stack holds the demo data and what the test adds: a customer who ordered a product now running
low. Each dashboard's screenshot lands in ``tests/artifacts/`` (docs/screenshots/ keeps copies).
"""

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Page

from devstack.stack import DEMO_STAFF_EMAIL, Stack
from tests.support import (
    DEMO_STAFF_PASSWORD,
    create_orderable_product,
    eventually,
    place_order,
    register,
    wait_for_status,
)

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
DAYS = 30
# The stack's CATALOG_LOW_STOCK_THRESHOLD (the setting's default).
LOW_STOCK_THRESHOLD = 5
# orders' statuses, in the order of its Order.Status (and of the chart's bars).
ORDER_STATUSES = ["pending", "confirmed", "rejected", "shipped", "delivered", "cancelled"]


def _since() -> datetime:
    """Midnight (UTC, the services' time zone) of the first day the per-day charts show."""
    return datetime.combine(datetime.now(UTC).date() - timedelta(days=DAYS - 1), time.min, tzinfo=UTC)


def _query(stack: Stack, service: str, sql: str, params: list | None = None) -> list[tuple]:
    with psycopg.connect(stack.service_env[service]["DATABASE_URL"]) as connection:
        return connection.execute(sql, params or []).fetchall()


def _count(stack: Stack, service: str, sql: str, params: list | None = None) -> int:
    return _query(stack, service, sql, params)[0][0]


def _figure(page: Page, key: str) -> str:
    return page.locator(f'[data-figure="{key}"]').inner_text()


def _chart(page: Page, key: str, series: str) -> list[str]:
    """The values of one series of the chart ``key``, as its bars or points carry them."""
    return page.eval_on_selector_all(
        f'svg[data-chart="{key}"] [data-series="{series}"][data-value]',
        "marks => marks.map(mark => mark.dataset.value)",
    )


def _agrees(page: Page, url: str, shown: Callable[[], dict], stored: Callable[[], dict]) -> None:
    """The figures ``shown`` on the page are those ``stored`` in the database. Events of earlier
    tests may still land between the page and the query: the page is loaded again until both
    say the same (each a few milliseconds)."""

    def same() -> bool:
        page.goto(url)
        return shown() == stored()

    try:
        eventually(same, timeout=10, interval=0.5)
    except AssertionError:
        assert shown() == stored()


def _event_health_agrees(stack: Stack, page: Page, service: str) -> None:
    assert page.locator('[data-panel="event-health"]').is_visible()
    waiting = _count(stack, service, "SELECT count(*) FROM messaging_deadletter WHERE replayed_at IS NULL")
    assert _figure(page, "dead-letters-waiting") == str(waiting)
    assert _figure(page, "outbox-unsent").isdigit()


def _shot(page: Page, site: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#dashboard").screenshot(path=str(ARTIFACTS / f"dashboard-{site}.png"))


@pytest.fixture
def staff_page(stack: Stack, page: Page) -> Page:
    page.goto(f"{stack.gateway_url}/login/")
    page.fill("#id_username", DEMO_STAFF_EMAIL)
    page.fill("#id_password", DEMO_STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{stack.gateway_url}/admin/auth/")
    return page


def test_each_admin_site_opens_on_a_dashboard_whose_charts_and_figures_are_its_databases(
    stack, gateway, mail, staff, staff_page, csp_violations
):
    customer = register(gateway, mail, full_name="Dashboard Customer")
    product = create_orderable_product(gateway, staff, stack, on_hand=LOW_STOCK_THRESHOLD - 2)
    order = place_order(gateway, customer, [(product["id"], 1)])
    assert order.status_code == 201, order.text
    wait_for_status(gateway, customer, order.json()["id"], "confirmed")
    mail.wait_for(customer.email, "confirmed")
    base, since = stack.gateway_url, _since()
    page = staff_page

    # orders: orders and revenue per day, orders by status, the oldest waiting orders.
    def orders_shown() -> dict:
        return {
            "orders": _figure(page, "orders-last-days"),
            "orders per day": sum(int(value) for value in _chart(page, "orders-per-day", "orders")),
            "revenue": Decimal(_figure(page, "revenue-last-days-EUR")),
            "revenue per day": sum(Decimal(value) for value in _chart(page, "revenue-per-day", "EUR")),
            "by status": {status: _figure(page, f"status-{status}") for status in ORDER_STATUSES},
            "by status charted": _chart(page, "orders-by-status", "orders"),
        }

    def orders_stored() -> dict:
        placed, revenue = _query(
            stack,
            "orders",
            "SELECT count(*), coalesce(sum(total) FILTER (WHERE status IN ('confirmed', 'shipped', 'delivered')), 0)"
            " FROM orders_order WHERE created_at >= %s",
            [since],
        )[0]
        by_status = dict(_query(stack, "orders", "SELECT status, count(*) FROM orders_order GROUP BY status"))
        return {
            "orders": str(placed),
            "orders per day": placed,
            "revenue": revenue,
            "revenue per day": revenue,
            "by status": {status: str(by_status.get(status, 0)) for status in ORDER_STATUSES},
            "by status charted": [str(by_status.get(status, 0)) for status in ORDER_STATUSES],
        }

    _agrees(page, f"{base}/admin/orders/", orders_shown, orders_stored)
    assert len(_chart(page, "orders-per-day", "orders")) == DAYS
    assert page.locator('[data-table="oldest-confirmed"] a').count() >= 1
    _event_health_agrees(stack, page, "orders")
    _shot(page, "orders")

    # catalog: the active products out of stock or at their threshold, the latest stock movements.
    def catalog_shown() -> dict:
        return {
            "out": _figure(page, "out-of-stock"),
            "low": _figure(page, "running-low"),
            "active": _figure(page, "active-products"),
            "charted": _chart(page, "stock-levels", "products"),
            # SKU and units available of each row.
            "lowest": [[row[0], row[2]] for row in _rows(page, "running-low")],
        }

    def catalog_stored() -> dict:
        stock = (
            " FROM catalog_product p JOIN catalog_stock s ON s.product_id = p.id WHERE p.active"
            " AND s.on_hand - s.reserved <= coalesce(s.low_stock_threshold, %s)"
        )
        (active,) = _query(stack, "catalog", "SELECT count(*) FROM catalog_product WHERE active")[0]
        low, out = _query(
            stack,
            "catalog",
            f"SELECT count(*), count(*) FILTER (WHERE s.on_hand - s.reserved <= 0) {stock}",
            [LOW_STOCK_THRESHOLD],
        )[0]
        lowest = _query(
            stack,
            "catalog",
            f"SELECT p.sku, (s.on_hand - s.reserved)::text {stock} ORDER BY s.on_hand - s.reserved, p.sku LIMIT 10",
            [LOW_STOCK_THRESHOLD],
        )
        return {
            "out": str(out),
            "low": str(low),
            "active": str(active),
            "charted": [str(out), str(low - out), str(active - low)],
            "lowest": [list(row) for row in lowest],
        }

    _agrees(page, f"{base}/admin/catalog/", catalog_shown, catalog_stored)
    assert page.locator('[data-table="latest-movements"] a').count() >= 1
    _event_health_agrees(stack, page, "catalog")
    _shot(page, "catalog")

    # notify: emails sent and failed per day, the failed ones, the staff alerts.
    def notify_shown() -> dict:
        return {
            "sent": _figure(page, "emails-sent"),
            "sent per day": sum(int(value) for value in _chart(page, "emails-per-day", "sent")),
            "failed": _figure(page, "emails-failed"),
            "failed waiting": _figure(page, "emails-failed-waiting"),
        }

    def notify_stored() -> dict:
        sent, failed, waiting = _query(
            stack,
            "notify",
            "SELECT count(*) FILTER (WHERE status = 'sent' AND created_at >= %s),"
            " count(*) FILTER (WHERE status = 'failed' AND created_at >= %s),"
            " count(*) FILTER (WHERE status = 'failed')"
            " FROM notify_notification WHERE channel = 'email'",
            [since, since],
        )[0]
        return {
            "sent": str(sent),
            "sent per day": sent,
            "failed": str(failed),
            "failed waiting": str(waiting),
        }

    _agrees(page, f"{base}/admin/notify/", notify_shown, notify_stored)
    assert page.locator('[data-table="staff-alerts"]').count() == 1
    _event_health_agrees(stack, page, "notify")
    _shot(page, "notify")

    # auth: sign-ups per day, accounts that cannot log in yet or any more, the staff.
    def auth_shown() -> dict:
        return {
            "sign-ups": _figure(page, "sign-ups"),
            "sign-ups per day": sum(int(value) for value in _chart(page, "sign-ups-per-day", "sign-ups")),
            "waiting": _figure(page, "waiting-for-confirmation"),
            "inactive": _figure(page, "inactive"),
        }

    def auth_stored() -> dict:
        joined, waiting, inactive = _query(
            stack,
            "auth",
            "SELECT count(*) FILTER (WHERE date_joined >= %s),"
            " count(*) FILTER (WHERE is_active AND email_confirmed_at IS NULL),"
            " count(*) FILTER (WHERE NOT is_active)"
            " FROM accounts_user",
            [since],
        )[0]
        return {
            "sign-ups": str(joined),
            "sign-ups per day": joined,
            "waiting": str(waiting),
            "inactive": str(inactive),
        }

    _agrees(page, f"{base}/admin/auth/", auth_shown, auth_stored)
    assert DEMO_STAFF_EMAIL in page.locator('[data-table="staff"]').inner_text()
    _event_health_agrees(stack, page, "auth")
    _shot(page, "auth")

    assert csp_violations == []


def _rows(page: Page, table: str) -> list[list[str]]:
    """The text of each cell of each row of a dashboard's table."""
    return page.eval_on_selector_all(
        f'table[data-table="{table}"] tbody tr',
        "rows => rows.map(row => Array.from(row.cells, cell => cell.innerText.trim()))",
    )
