"""The cache version: one bump per write, and one for several writes made as one."""

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

    services.stock_adjust(product=product, on_hand=3, note="Count")

    assert cache_version() == before + 1


def test_writes_made_as_one_bump_the_version_once():
    product = make_product()
    before = cache_version()

    with transaction.atomic(), deferred_invalidation():
        services.product_update(product=product, name="Renamed")
        services.stock_adjust(product=product, on_hand=3, note="Count")

    assert cache_version() == before + 1


@pytest.mark.django_db(transaction=True)
def test_deferring_outside_a_transaction_is_refused():
    with pytest.raises(RuntimeError, match=re.escape(NOT_IN_TRANSACTION)), deferred_invalidation():
        pass
