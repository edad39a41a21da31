from decimal import Decimal

import factory
from django.utils import timezone

from orders.models import Order, OrderItem, PriceListEntry


class PriceListEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PriceListEntry

    product_id = factory.Sequence(lambda n: n + 1)
    sku = factory.LazyAttribute(lambda entry: f"SKU-{entry.product_id:04d}")
    name = factory.LazyAttribute(lambda entry: f"Product {entry.product_id}")
    price = Decimal("10.00")
    currency = "EUR"
    active = True
    changed_at = factory.LazyFunction(timezone.now)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    customer_id = 5
    customer_email = "user5@example.com"
    currency = "EUR"
    total = Decimal("20.00")


class OrderItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderItem

    order = factory.SubFactory(OrderFactory)
    product_id = factory.Sequence(lambda n: n + 1)
    sku = factory.LazyAttribute(lambda item: f"SKU-{item.product_id:04d}")
    name = "Product"
    unit_price = Decimal("10.00")
    quantity = 2
