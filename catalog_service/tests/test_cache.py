"""The cache version: one bump per write, one for several writes made as one, and the
gateway's copy of it, which only ever moves forward."""

import re

import pytest
from django.db import transaction

from catalog import services
from catalog.cache import (
    NOT_IN_TRANSACTION,
    cache_version,
    deferred_invalidation,
    gateway_version_publish,
)
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

    services.stock_reserve_for_order(order_id=1, items=[{"product_id": product.pk, "quantity": 1}])
    unchanged = cache_version()
    services.stock_reserve_for_order(order_id=2, items=[{"product_id": product.pk, "quantity": 2}])
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


@pytest.fixture
def gateway_version_file(settings, tmp_path):
    settings.CATALOG_CACHE_VERSION_FILE = str(tmp_path / "catalog-cache-version")
    return tmp_path / "catalog-cache-version"


def test_the_gateway_learns_the_new_version_when_the_write_commits(
    gateway_version_file, django_capture_on_commit_callbacks
):
    product = make_product()

    with django_capture_on_commit_callbacks(execute=True):
        services.product_update(product=product, name="Renamed")
        assert not gateway_version_file.exists() or int(gateway_version_file.read_text()) < cache_version()

    assert int(gateway_version_file.read_text()) == cache_version()


def test_the_gateway_version_never_moves_back(gateway_version_file):
    gateway_version_publish(7)
    gateway_version_publish(5)

    assert gateway_version_file.read_text() == "7"


def test_a_read_tells_a_gateway_without_the_version(gateway_version_file, client):
    make_product()

    assert client.get("/api/catalog/products/").status_code == 200

    assert int(gateway_version_file.read_text()) == cache_version()
