from decimal import Decimal

import factory

from catalog import services
from catalog.models import Category, Product


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


def make_product(
    *,
    category: Category | None = None,
    on_hand: int = 10,
    price: str = "9.99",
    name: str | None = None,
    sku: str | None = None,
    **fields: object,
) -> Product:
    """A product made the way staff make one (stock row, ledger, event), through the service."""
    number = next(_numbers)
    return services.product_create(
        sku=sku or f"SKU-{number:05d}",
        name=name or f"Product {number}",
        category=category or CategoryFactory(),
        price=Decimal(price),
        on_hand=on_hand,
        **fields,
    )


_numbers = iter(range(1, 10**9))
