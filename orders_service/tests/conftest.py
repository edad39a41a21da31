import uuid

import pytest
from rest_framework.test import APIClient

from tests.factories import PriceListEntryFactory


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def customer_client(api_client, make_token) -> APIClient:
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(5)}")
    return api_client


@pytest.fixture
def staff_client(staff_api_client) -> APIClient:
    return staff_api_client("fulfilment", user_id=1)


@pytest.fixture
def tea(db):
    return PriceListEntryFactory(product_id=1, sku="TEA-1", name="Green tea", price="4.50")


@pytest.fixture
def cups(db):
    return PriceListEntryFactory(product_id=2, sku="CUP-1", name="Cup", price="7.25")


@pytest.fixture
def key() -> str:
    return str(uuid.uuid4())
