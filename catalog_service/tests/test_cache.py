"""The cache version: one bump per write, one for several writes made as one."""

import re

import pytest
from django.db import transaction

from catalog import services
from catalog.cache import NOT_IN_TRANSACTION, cache_version, deferred_invalidation
from tests.factories import make_product

pytestmark = pytest.mark.django_db


def test_every_write_bumps_the_version():
    product = make_product()
    before = cache_version()

    services.product_update(product=product, name="Renamed")

    assert cache_version() == before + 1


def test_stock_moves_bump_the_version_only_when_a_product_goes_in_or_out_of_stock():
    product = make_product(on_hand=3)
    before = cache_version()

    services.stock_reserve_for_order(
        order_id=1, customer_id=5, items=[{"product_id": product.pk, "quantity": 1}]
    )
    unchanged = cache_version()
    services.stock_reserve_for_order(
        order_id=2, customer_id=5, items=[{"product_id": product.pk, "quantity": 2}]
    )
    sold_out = cache_version()
    services.stock_release_for_order(order_id=2)
    back_in_stock = cache_version()
    services.stock_adjust(product=product, on_hand=10, note="Delivery")

    assert (unchanged, sold_out, back_in_stock, cache_version()) == (
        before,
        before + 1,
        before + 2,
        before + 2,
    )


def test_writes_made_as_one_bump_the_version_once():
    product = make_product()
    before = cache_version()

    with transaction.atomic(), deferred_invalidation():
        services.product_update(product=product, name="Renamed")
        services.product_update(product=product, price="2.00")

    assert cache_version() == before + 1


@pytest.mark.django_db(transaction=True)
def test_deferring_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match=re.escape(NOT_IN_TRANSACTION)), deferred_invalidation():
        pass
