"""The catalog admin's dashboard: the active products running out, and how the stock moved lately."""

from collections import defaultdict

from django.http import HttpRequest

from catalog import selectors
from catalog.models import Product, StockMovement
from edge.charts import Series, bar_chart
from edge.dashboard import (
    Figure,
    Panel,
    Row,
    Table,
    change_url,
    changelist_url,
    day_labels,
    last_days,
    panel,
    per_day,
    since,
    when,
)

LOW_SHOWN = 10
MOVEMENTS_SHOWN = 10


@panel(permission="catalog.view_product")
def stock(request: HttpRequest) -> Panel:
    active = selectors.product_list()
    counts = selectors.stock_levels(active)
    return Panel(
        key="stock",
        title="Stock of the active products",
        figures=[
            Figure(
                key="out-of-stock",
                label="Out of stock",
                value=counts.out_of_stock,
                url=changelist_url(Product, active__exact=1, stock="out"),
                alarming=True,
            ),
            Figure(
                key="running-low",
                label="At or below their threshold",
                value=counts.running_low,
                url=changelist_url(Product, active__exact=1, stock="low"),
            ),
            Figure(key="active-products", label="Active products", value=counts.products),
        ],
        charts=[
            bar_chart(
                key="stock-levels",
                title="Active products by stock",
                labels=["Out of stock", "Low, not out", "Above their threshold"],
                series=[
                    Series(
                        "products",
                        [
                            counts.out_of_stock,
                            counts.running_low - counts.out_of_stock,
                            counts.products - counts.running_low,
                        ],
                    )
                ],
            )
        ],
        tables=[
            Table(
                key="running-low",
                title="Lowest in stock",
                columns=["SKU", "Product", "Available", "Threshold"],
                rows=[
                    Row(
                        cells=[
                            product.sku,
                            product.name,
                            product.stock.available,
                            selectors.low_stock_threshold_of(product.stock),
                        ],
                        url=change_url(product),
                        pk=product.pk,
                    )
                    for product in selectors.products_lowest_stock_first(active)[:LOW_SHOWN]
                ],
                empty="None: every active product has more units than its threshold.",
                more_url=changelist_url(Product, active__exact=1, stock="low"),
                more_label="All running low",
            )
        ],
    )


@panel(permission="catalog.view_product")
def movements(request: HttpRequest) -> Panel:
    days = last_days()
    by_reason: dict[str, dict] = defaultdict(dict)
    for row in selectors.stock_movements_per_day(since=since(days)):
        by_reason[row["reason"]][row["day"]] = row["movements"]
    return Panel(
        key="movements",
        title="Stock movements",
        charts=[
            bar_chart(
                key="movements-per-day",
                title=f"Stock movements per day, last {len(days)} days",
                labels=day_labels(days),
                series=[
                    Series(reason.label, per_day(days, by_reason[reason].items()))
                    for reason in StockMovement.Reason
                ],
            )
        ],
        tables=[
            Table(
                key="latest-movements",
                title="Latest",
                columns=["Product", "Reason", "On hand", "Reserved", "Order", "When"],
                rows=[
                    Row(
                        cells=[
                            movement.product.sku,
                            movement.get_reason_display(),
                            f"{movement.on_hand_delta:+}",
                            f"{movement.reserved_delta:+}",
                            movement.order_id or "",
                            when(movement.created_at),
                        ],
                        url=change_url(movement.product),
                        pk=movement.pk,
                    )
                    for movement in selectors.stock_movements_latest()[:MOVEMENTS_SHOWN]
                ],
                empty="No stock has moved yet.",
            )
        ],
    )
