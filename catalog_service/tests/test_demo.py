"""The demo catalogue that ``make run`` loads."""

import pytest
from django.core.management import call_command

from catalog.models import Category, Product, Stock, StockMovement
from edge.events import ProductChanged
from tests.helpers import published

pytestmark = pytest.mark.django_db


def test_the_demo_catalogue_has_a_few_hundred_products_in_a_tree_with_stock():
    call_command("load_demo_catalog")

    assert Product.objects.count() >= 300
    assert Category.objects.filter(parent__parent__isnull=False).exists()
    assert not Product.objects.filter(category__children__isnull=False).exists()
    assert Stock.objects.count() == Product.objects.count()
    assert Stock.objects.filter(on_hand=0).exists()
    assert len(published(ProductChanged, change="created")) == Product.objects.count()


def test_loading_the_demo_catalogue_twice_changes_nothing():
    call_command("load_demo_catalog")
    first = list(Product.objects.order_by("sku").values_list("sku", "name", "price", "stock__on_hand"))
    movements = StockMovement.objects.count()

    call_command("load_demo_catalog")

    assert (
        list(Product.objects.order_by("sku").values_list("sku", "name", "price", "stock__on_hand")) == first
    )
    assert StockMovement.objects.count() == movements
    assert len(published(ProductChanged)) == len(first)
