from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # Each test's database starts again at cache version 0: answers of the last test must go.
    # Its own keys only: catalog's Redis user may not flush a database (devstack/infra.py).
    cache.delete_pattern("*")


@pytest.fixture(autouse=True)
def _no_gateways(settings) -> None:
    # No gateway runs beside the unit tests: a write pushing to one would wait out its lease.
    settings.CATALOG_GATEWAYS = []


@pytest.fixture(autouse=True)
def _whole_stock_per_customer(settings) -> None:
    # The tests of other rules order whatever they need; the share's own tests set it back.
    settings.CATALOG_CUSTOMER_SHARE_PERCENT = 100


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_client(staff_api_client: Callable[..., APIClient]) -> APIClient:
    return staff_api_client("catalog_editor", user_id=1)


@pytest.fixture
def customer_client(make_token: Callable[..., str]) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(5)}")
    return client
