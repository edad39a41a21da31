"""Reads of orders."""

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet, Sum, prefetch_related_objects
from django.db.models.functions import TruncDate

from orders.models import Order, OrderItem, OrderTransition, PriceListEntry

# The attributes that hold an order's items and history, in order, once read with it (or, for
# an order just placed, once written with it): what the API shows of an order.
ITEMS = "item_list"
HISTORY = "history_list"


def _lines() -> tuple[Prefetch, Prefetch]:
    return (
        Prefetch("items", queryset=OrderItem.objects.order_by("id"), to_attr=ITEMS),
        Prefetch("history", queryset=OrderTransition.objects.order_by("at", "id"), to_attr=HISTORY),
    )


def sees_every_order(user: Any) -> bool:
    """Staff whose roles let them view orders (as in the admin); anyone else sees their own."""
    return user.has_perm("orders.view_order")


def orders_visible_to(*, user: Any) -> QuerySet[Order]:
    """Every order for staff who may view them; anyone else's own (another's is simply not found)."""
    return Order.objects.all() if sees_every_order(user) else Order.objects.filter(customer_id=user.id)


def order_list_for(*, user: Any) -> QuerySet[Order]:
    """The orders ``user`` may see, with their items and history."""
    return orders_visible_to(user=user).prefetch_related(*_lines())


def order_lines_read(order: Order) -> Order:
    """The order in hand with its items and history read now (after a move, its new step too)."""
    prefetch_related_objects([order], *_lines())
    return order


def price_list_for(*, product_ids: list[int]) -> dict[int, PriceListEntry]:
    return PriceListEntry.objects.in_bulk(product_ids)


# What the shop has sold: orders the catalog confirmed, whether shipped or delivered since.
SOLD = [Order.Status.CONFIRMED, Order.Status.SHIPPED, Order.Status.DELIVERED]


def orders_per_day(*, since: datetime) -> QuerySet[Order, dict[str, Any]]:
    """Per day and currency since ``since``: the orders placed, and the revenue of those sold."""
    return (
        Order.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "currency")
        .annotate(orders=Count("pk"), revenue=Sum("total", filter=Q(status__in=SOLD), default=Decimal(0)))
        .order_by("day", "currency")
    )


def order_counts_by_status() -> dict[str, int]:
    """How many orders are in each status, every status named (0 when none is)."""
    counts = dict(Order.objects.order_by().values_list("status").annotate(Count("pk")))
    return {status: counts.get(status, 0) for status in Order.Status.values}


def orders_oldest_in(*, status: str) -> QuerySet[Order]:
    """Orders in ``status``, the longest waiting first."""
    return Order.objects.filter(status=status).order_by("created_at", "id")
