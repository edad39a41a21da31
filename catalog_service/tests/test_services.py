"""The catalogue's writes: what they change, what they announce, what they refuse."""

from decimal import Decimal

import pytest
from django.db.models import Sum

from catalog import services
from catalog.errors import (
    CategoryCycle,
    DuplicateSku,
    InactiveCategory,
    PriceDropTooLarge,
    StockBelowReserved,
)
from catalog.models import Category, Product, Stock, StockMovement
from edge.events import ProductChanged
from tests.factories import CategoryFactory, make_product
from tests.helpers import published

pytestmark = pytest.mark.django_db


def ledger_sums(product: Product) -> tuple[int, int]:
    sums = StockMovement.objects.filter(product=product).aggregate(
        on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
    )
    return sums["on_hand"] or 0, sums["reserved"] or 0


def test_a_new_product_gets_its_stock_its_ledger_and_a_created_event():
    product = make_product(sku="TEA-001", name="Green tea", price="4.50", on_hand=12)

    assert (product.stock.on_hand, product.stock.reserved) == (12, 0)
    assert ledger_sums(product) == (12, 0)
    assert product.slug == "green-tea"
    assert product.currency == "EUR"
    [event] = published(ProductChanged, product_id=product.pk)
    assert event["change"] == "created"
    assert (event["sku"], event["price"], event["currency"], event["active"]) == (
        "TEA-001",
        "4.50",
        "EUR",
        True,
    )


def test_a_duplicate_sku_is_refused_whatever_its_case():
    make_product(sku="TEA-001")

    with pytest.raises(DuplicateSku) as refused:
        make_product(sku="tea-001")

    assert refused.value.field == "sku"
    assert Product.objects.count() == 1


def test_two_products_of_one_name_get_distinct_slugs():
    first, second = make_product(name="Green tea"), make_product(name="Green tea")

    assert (first.slug, second.slug) == ("green-tea", "green-tea-2")


def test_a_price_change_is_announced_and_a_description_change_is_not():
    product = make_product(price="4.50")

    services.product_update(product=product, description="Now with more leaves")
    services.product_update(product=product, price=Decimal("5.00"))

    changes = published(ProductChanged, product_id=product.pk)
    assert [(event["change"], event["price"]) for event in changes] == [
        ("created", "4.50"),
        ("updated", "5.00"),
    ]


def test_deactivating_a_product_announces_it_once():
    product = make_product()

    services.product_deactivate(product=product)
    services.product_deactivate(product=product)

    assert [event["change"] for event in published(ProductChanged, product_id=product.pk)] == [
        "created",
        "deactivated",
    ]
    product.refresh_from_db()
    assert not product.active


def test_a_product_cannot_move_into_an_inactive_category():
    product = make_product()
    closed = CategoryFactory(active=False)

    with pytest.raises(InactiveCategory) as refused:
        services.product_update(product=product, category=closed)

    assert refused.value.field == "category"


def test_prices_change_by_a_percentage_rounded_to_the_cent():
    cheap, dear = make_product(price="9.99"), make_product(price="100.00")

    services.product_change_price_by_percentage(products=[cheap, dear], percentage=Decimal("-12.5"))

    cheap.refresh_from_db()
    dear.refresh_from_db()
    assert (cheap.price, dear.price) == (Decimal("8.74"), Decimal("87.50"))
    assert published(ProductChanged, product_id=dear.pk, price="87.50")


def test_a_price_cannot_fall_by_a_hundred_percent():
    product = make_product(price="10.00")

    with pytest.raises(PriceDropTooLarge):
        services.product_change_price_by_percentage(products=[product], percentage=Decimal("-100"))


def test_a_stock_adjustment_is_written_to_the_ledger_with_its_reason():
    product = make_product(on_hand=10)

    services.stock_adjust(product=product, on_hand=7, note="Two broken in transit", actor_id=1)

    stock = Stock.objects.get(product=product)
    assert stock.on_hand == 7
    movement = StockMovement.objects.filter(product=product).first()
    assert (movement.reason, movement.on_hand_delta, movement.note, movement.actor_id) == (
        "adjustment",
        -3,
        "Two broken in transit",
        1,
    )
    assert ledger_sums(product) == (7, 0)


def test_stock_on_hand_cannot_go_below_what_is_reserved():
    product = make_product(on_hand=5)
    services.stock_reserve_for_order(
        order_id=1, customer_id=5, items=[{"product_id": product.pk, "quantity": 4}]
    )

    with pytest.raises(StockBelowReserved) as refused:
        services.stock_adjust(product=product, on_hand=3, note="Count")

    assert refused.value.detail == StockBelowReserved.message.format(reserved=4)
    assert Stock.objects.get(product=product).on_hand == 5


def test_a_category_cannot_move_under_its_own_descendant():
    root = services.category_create(name="Drinks")
    child = services.category_create(name="Tea", parent=root)

    with pytest.raises(CategoryCycle):
        services.category_update(category=root, parent=child)

    root.refresh_from_db()
    assert root.parent is None


def test_deactivating_a_category_deactivates_everything_below_it():
    root = services.category_create(name="Drinks")
    child = services.category_create(name="Tea", parent=root)
    services.category_create(name="Green", parent=child)
    other = services.category_create(name="Food")

    services.category_deactivate(category=root)

    assert set(Category.objects.filter(active=True)) == {other}
