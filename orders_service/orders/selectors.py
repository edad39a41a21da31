"""Reads of orders."""

from typing import Any

from django.db.models import Prefetch, QuerySet

from orders.models import Order, OrderItem, OrderTransition, PriceListEntry


def order_list_for(*, user: Any) -> QuerySet[Order]:
    """Staff see every order; a customer only their own (another's is simply not found)."""
    orders = Order.objects.prefetch_related(
        Prefetch("items", queryset=OrderItem.objects.order_by("id")),
        Prefetch("history", queryset=OrderTransition.objects.order_by("at", "id")),
    )
    return orders if user.is_staff else orders.filter(customer_id=user.id)


def price_list_for(*, product_ids: list[int]) -> dict[int, PriceListEntry]:
    return PriceListEntry.objects.in_bulk(product_ids)
