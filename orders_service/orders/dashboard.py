"""The orders admin's dashboard: what was ordered and sold lately, and the orders that wait."""

from collections import defaultdict
from decimal import Decimal

from django.http import HttpRequest

from edge.charts import Series, bar_chart, line_chart
from edge.dashboard import (
    Figure,
    Panel,
    Row,
    Table,
    age,
    change_url,
    changelist_url,
    day_labels,
    last_days,
    panel,
    per_day,
    since,
)
from orders import selectors
from orders.models import Order

WAITING_SHOWN = 5


@panel(permission="orders.view_order")
def sales(request: HttpRequest) -> Panel:
    days = last_days()
    rows = list(selectors.orders_per_day(since=since(days)))
    orders: dict = defaultdict(int)
    revenue: dict[str, dict] = defaultdict(dict)
    for row in rows:
        orders[row["day"]] += row["orders"]
        revenue[row["currency"]][row["day"]] = row["revenue"]
    labels = day_labels(days)
    return Panel(
        key="sales",
        title=f"Orders and revenue, last {len(days)} days",
        wide=True,
        figures=[
            Figure(key="orders-last-days", label="Orders placed", value=sum(orders.values())),
            *(
                Figure(
                    key=f"revenue-last-days-{currency}",
                    label=f"Revenue ({currency}, orders confirmed since)",
                    value=sum(by_day.values(), Decimal(0)),
                )
                for currency, by_day in sorted(revenue.items())
            ),
        ],
        charts=[
            bar_chart(
                key="orders-per-day",
                title="Orders placed per day",
                labels=labels,
                series=[Series("orders", per_day(days, orders.items()))],
            ),
            line_chart(
                key="revenue-per-day",
                title="Revenue per day",
                labels=labels,
                series=[
                    Series(currency, per_day(days, by_day.items(), zero=Decimal(0)))
                    for currency, by_day in sorted(revenue.items())
                ]
                or [Series("revenue", [0] * len(days))],
            ),
        ],
    )


@panel(permission="orders.view_order")
def statuses(request: HttpRequest) -> Panel:
    counts = selectors.order_counts_by_status()
    return Panel(
        key="statuses",
        title="Orders by status",
        figures=[
            Figure(
                key=f"status-{status}",
                label=Order.Status(status).label,
                value=count,
                url=changelist_url(Order, status__exact=status),
            )
            for status, count in counts.items()
        ],
        charts=[
            bar_chart(
                key="orders-by-status",
                title="Orders by status",
                labels=[Order.Status(status).label for status in counts],
                series=[Series("orders", list(counts.values()))],
            )
        ],
    )


@panel(permission="orders.view_order")
def waiting(request: HttpRequest) -> Panel:
    return Panel(
        key="waiting",
        title="Orders waiting longest",
        tables=[
            _oldest(
                Order.Status.PENDING,
                title="Pending: the catalog has not answered",
                empty="None: the catalog has answered every order.",
            ),
            _oldest(
                Order.Status.CONFIRMED,
                title="Confirmed, not shipped yet",
                empty="None: every confirmed order has shipped.",
            ),
        ],
    )


def _oldest(status: str, *, title: str, empty: str) -> Table:
    return Table(
        key=f"oldest-{status}",
        title=title,
        columns=["Order", "Customer", "Total", "Waiting"],
        rows=[
            Row(
                cells=[
                    f"#{order.pk}",
                    order.customer_email,
                    f"{order.total} {order.currency}",
                    age(order.created_at),
                ],
                url=change_url(order),
                pk=order.pk,
            )
            for order in selectors.orders_oldest_in(status=status)[:WAITING_SHOWN]
        ],
        empty=empty,
        more_url=changelist_url(Order, oldest_first="created_at", status__exact=status),
        more_label=f"All {Order.Status(status).label.lower()}, oldest first",
    )
