"""The catalog admin's dashboard: the active products running low, and the stock's latest moves."""

import pytest

from catalog import services
from catalog.models import StockMovement
from edge.testing import chart_values, dashboard_figures, dashboard_panel
from tests.factories import make_product

pytestmark = pytest.mark.django_db

INDEX = "/admin/catalog/"


def test_the_dashboard_counts_active_products_out_of_stock_and_below_their_own_threshold(
    superuser_admin_client, settings
):
    settings.CATALOG_LOW_STOCK_THRESHOLD = 5
    make_product(sku="PLENTY", on_hand=50)
    make_product(sku="FEW", on_hand=3)
    make_product(sku="NONE", on_hand=0)
    watched = make_product(sku="WATCHED", on_hand=20)
    services.stock_set_low_threshold(product=watched, threshold=25)
    make_product(sku="GONE", on_hand=0, active=False)

    stock = dashboard_panel(superuser_admin_client.get(INDEX), "stock")

    assert dashboard_figures(stock) == {"out-of-stock": 1, "running-low": 3, "active-products": 4}
    (table,) = stock.tables
    # SKU, available, threshold: the fewest units first.
    assert [(row.cells[0], row.cells[2], row.cells[3]) for row in table.rows] == [
        ("NONE", 0, 5),
        ("FEW", 3, 5),
        ("WATCHED", 20, 25),
    ]
    assert chart_values(stock.charts[0], "products") == {
        "Out of stock": "1",
        "Low, not out": "2",
        "Above their threshold": "1",
    }
    assert superuser_admin_client.get(stock.figures[0].url).status_code == 200


def test_the_dashboard_says_so_when_nothing_runs_low(superuser_admin_client):
    make_product(sku="PLENTY", on_hand=50)

    page = superuser_admin_client.get(INDEX).content.decode()

    assert "every active product has more units than its threshold" in page
    assert 'data-figure="out-of-stock">' in page


def test_the_dashboard_shows_the_latest_stock_movements_with_links_to_their_product(superuser_admin_client):
    tea = make_product(sku="TEA", on_hand=10)
    services.stock_adjust(product=tea, on_hand=4, note="Counted", actor_id=1)

    movements = dashboard_panel(superuser_admin_client.get(INDEX), "movements")

    (latest,) = movements.tables
    assert [row.cells[:4] for row in latest.rows] == [
        ["TEA", "Adjustment", "-6", "+0"],
        ["TEA", "Adjustment", "+10", "+0"],
    ]
    assert latest.rows[0].url == f"/admin/catalog/catalog/product/{tea.pk}/change/"
    adjustments = chart_values(movements.charts[0], "Adjustment")
    assert len(adjustments) == 30
    assert sum(int(value) for value in adjustments.values()) == StockMovement.objects.count() == 2
