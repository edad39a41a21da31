"""The orders admin's dashboard: its figures, charts and tables are the orders' own numbers."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from edge.dashboard import day_labels, last_days
from edge.testing import chart_values, dashboard_figures, dashboard_panel
from orders.models import Order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

INDEX = "/admin/orders/"


def placed(days_ago: int, **fields) -> Order:
    order = OrderFactory(**fields)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    order.refresh_from_db()
    return order


def test_the_dashboard_counts_orders_and_revenue_of_the_last_30_days(superuser_admin_client):
    placed(0, status=Order.Status.CONFIRMED, total=Decimal("12.50"))
    placed(0, status=Order.Status.DELIVERED, total=Decimal("7.50"))
    placed(2, status=Order.Status.REJECTED, total=Decimal("99.00"))
    placed(40, status=Order.Status.CONFIRMED, total=Decimal("1000.00"))

    sales = dashboard_panel(superuser_admin_client.get(INDEX), "sales")

    # A rejected order sold nothing; one older than 30 days is off the chart.
    assert dashboard_figures(sales) == {"orders-last-days": 3, "revenue-last-days-EUR": Decimal("20.00")}
    orders_chart, revenue_chart = sales.charts
    *_, two_days_ago, _, today = day_labels(last_days())
    orders = chart_values(orders_chart, "orders")
    assert len(orders) == 30
    assert (orders[today], orders[two_days_ago]) == ("2", "1")
    assert sum(int(value) for value in orders.values()) == 3
    revenue = chart_values(revenue_chart, "EUR")
    assert (revenue[today], revenue[two_days_ago]) == ("20.00", "0")


def test_the_dashboard_counts_orders_by_status_and_links_each_to_its_list(superuser_admin_client):
    placed(0, status=Order.Status.PENDING)
    placed(0, status=Order.Status.PENDING)
    placed(0, status=Order.Status.SHIPPED)

    statuses = dashboard_panel(superuser_admin_client.get(INDEX), "statuses")

    figures = {figure.key: (figure.value, figure.url) for figure in statuses.figures}
    assert figures["status-pending"] == (2, "/admin/orders/orders/order/?status__exact=pending")
    assert figures["status-shipped"][0] == 1
    assert figures["status-cancelled"][0] == 0
    assert chart_values(statuses.charts[0], "orders") == {
        "Pending": "2",
        "Confirmed": "0",
        "Rejected": "0",
        "Shipped": "1",
        "Delivered": "0",
        "Cancelled": "0",
    }


def test_the_dashboard_lists_the_oldest_pending_and_unshipped_orders_first(superuser_admin_client):
    newer = placed(1, status=Order.Status.PENDING)
    older = placed(3, status=Order.Status.PENDING)
    unshipped = placed(2, status=Order.Status.CONFIRMED)
    placed(5, status=Order.Status.SHIPPED)

    response = superuser_admin_client.get(INDEX)

    pending, confirmed = dashboard_panel(response, "waiting").tables
    assert [row.pk for row in pending.rows] == [older.pk, newer.pk]
    assert [row.pk for row in confirmed.rows] == [unshipped.pk]
    assert pending.rows[0].cells[-1] == "3 d"
    assert f'href="/admin/orders/orders/order/{older.pk}/change/"' in response.content.decode()
    # The whole list, sorted by the time of placing, ascending.
    assert pending.more_url == "/admin/orders/orders/order/?status__exact=pending&o=6"
    listed = superuser_admin_client.get(pending.more_url).context["cl"].result_list
    assert [order.pk for order in listed] == [older.pk, newer.pk]


def test_the_dashboard_sits_above_the_list_of_models_and_shows_the_event_health(superuser_admin_client):
    page = superuser_admin_client.get(INDEX).content.decode()

    assert page.index('id="dashboard"') < page.index('id="content-main"')
    assert 'data-panel="event-health"' in page
    assert 'data-figure="dead-letters-waiting"' in page


def test_staff_whose_roles_give_nothing_in_orders_see_no_dashboard(staff_admin_client):
    client = staff_admin_client("catalog_editor")
    placed(0, status=Order.Status.PENDING)

    response = client.get(INDEX)

    assert response.status_code == 403
    assert 'id="dashboard"' not in response.content.decode()


def test_the_dashboard_takes_a_handful_of_queries_however_many_orders_there_are(
    superuser_admin_client, django_assert_max_num_queries
):
    for days_ago in range(20):
        placed(days_ago, status=Order.Status.PENDING)
        placed(days_ago, status=Order.Status.CONFIRMED)
    superuser_admin_client.get(INDEX)

    with django_assert_max_num_queries(12):
        superuser_admin_client.get(INDEX)
