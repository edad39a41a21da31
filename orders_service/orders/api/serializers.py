"""Validation and representation of the orders API."""

from typing import Any

from django.conf import settings
from rest_framework import serializers

from edge import json_fields
from orders.models import Order, OrderTransition
from orders.selectors import HISTORY, ITEMS, price_list_for, sees_every_order

UNKNOWN_PRODUCT = "Unknown product."
INACTIVE_PRODUCT = "This product is no longer sold."
DUPLICATE_PRODUCT = "Each product may appear once; add up the quantities."
MIXED_CURRENCIES = "All products of one order must share a currency."
# Who moved an order, in its customer's eyes when it was a staff member.
STAFF_ACTOR_LABEL = "staff"


class OrderItemInputSerializer(serializers.Serializer):
    product_id = json_fields.IntegerField(min_value=1)
    quantity = json_fields.IntegerField(min_value=1, max_value=settings.ORDERS_MAX_QUANTITY)


class OrderCreateSerializer(serializers.Serializer):
    """The items to order; ``validated_data["prices"]`` holds their price list entries."""

    items = OrderItemInputSerializer(many=True, allow_empty=False, max_length=settings.ORDERS_MAX_ITEMS)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        items = attrs["items"]
        prices = price_list_for(product_ids=[item["product_id"] for item in items])
        seen: set[int] = set()
        # Keyed by the item's position, as DRF reports the items' own field errors.
        errors: dict[int, dict[str, list[str]]] = {}
        for index, item in enumerate(items):
            product = prices.get(item["product_id"])
            if product is None:
                errors[index] = {"product_id": [UNKNOWN_PRODUCT]}
            elif not product.active:
                errors[index] = {"product_id": [INACTIVE_PRODUCT]}
            elif item["product_id"] in seen:
                errors[index] = {"product_id": [DUPLICATE_PRODUCT]}
            seen.add(item["product_id"])
        if errors:
            raise serializers.ValidationError({"items": errors})
        if len({prices[item["product_id"]].currency for item in items}) > 1:
            raise serializers.ValidationError({"items": [MIXED_CURRENCIES]})
        # The service prices the order from these: the price list is read once per request.
        return {**attrs, "prices": prices}


# The representations declare their fields one by one, where a ModelSerializer would build them
# from the models again for every order it shows: that was a tenth of the CPU of placing one.
class OrderItemSerializer(serializers.Serializer):
    product_id = serializers.IntegerField(read_only=True)
    sku = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    quantity = serializers.IntegerField(read_only=True)
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)


class OrderTransitionSerializer(serializers.Serializer):
    """A step of the history as staff see it: who moved the order, by id and email."""

    from_status = serializers.ChoiceField(choices=Order.Status.choices, allow_blank=True, read_only=True)
    to_status = serializers.ChoiceField(choices=Order.Status.choices, read_only=True)
    at = serializers.DateTimeField(read_only=True)
    actor_kind = serializers.ChoiceField(choices=OrderTransition.ActorKind.choices, read_only=True)
    actor_id = serializers.IntegerField(allow_null=True, read_only=True)
    actor_label = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True)


class CustomerOrderTransitionSerializer(OrderTransitionSerializer):
    """A step of the history as its customer sees it: that staff moved the order, not who."""

    def to_representation(self, instance: OrderTransition) -> dict[str, Any]:
        step = super().to_representation(instance)
        if instance.actor_kind == OrderTransition.ActorKind.STAFF:
            step.update(actor_id=None, actor_label=STAFF_ACTOR_LABEL)
        return step


# The items and history shown are the ones the selectors read with the order (ITEMS, HISTORY),
# or that order_place just wrote.
class OrderSerializer(serializers.Serializer):
    """An order as staff see it."""

    id = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(choices=Order.Status.choices, read_only=True)
    customer_id = serializers.IntegerField(read_only=True)
    customer_email = serializers.EmailField(read_only=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    currency = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    items = OrderItemSerializer(source=ITEMS, many=True, read_only=True)
    history = OrderTransitionSerializer(source=HISTORY, many=True, read_only=True)


class CancelSerializer(serializers.Serializer):
    reason = json_fields.CharField(max_length=500, required=False, allow_blank=True, default="")


class CustomerOrderSerializer(OrderSerializer):
    """An order as its customer sees it: the same fields, no staff member named in the history."""

    history = CustomerOrderTransitionSerializer(source=HISTORY, many=True, read_only=True)


def order_serializer_class_for(*, user: Any) -> type[OrderSerializer]:
    return OrderSerializer if sees_every_order(user) else CustomerOrderSerializer


def order_representation(order: Order, *, user: Any) -> dict[str, Any]:
    """The order as the API shows it to ``user``: the order in hand, with the items and history
    read or written with it."""
    return order_serializer_class_for(user=user)(order).data
