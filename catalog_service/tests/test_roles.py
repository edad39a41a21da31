"""What the staff roles of a token give in the catalog's admin (catalog.roles)."""

import pytest
from django.test import Client

from catalog.models import Product
from tests.factories import make_product
from tests.test_admin import CHANGELIST, product_form

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_roles(make_token):
    def client_for(*roles: str) -> Client:
        client = Client()
        client.cookies["access_token"] = make_token(12, is_staff=True, roles=list(roles))
        return client

    return client_for


def test_a_catalog_editor_changes_a_product(with_roles):
    product = make_product(price="4.50", on_hand=7)

    response = with_roles("catalog_editor").post(
        f"{CHANGELIST}{product.pk}/change/", product_form(product, price="5.00")
    )

    assert response.status_code == 302
    assert str(Product.objects.get(pk=product.pk).price) == "5.00"


def test_fulfilment_sees_products_but_cannot_change_them(with_roles):
    product = make_product(price="4.50", on_hand=7)
    fulfilment = with_roles("fulfilment")

    listed = fulfilment.get(CHANGELIST)
    changed = fulfilment.post(f"{CHANGELIST}{product.pk}/change/", product_form(product, price="5.00"))

    assert listed.status_code == 200
    assert changed.status_code == 403
    assert str(Product.objects.get(pk=product.pk).price) == "4.50"


def test_staff_without_a_role_for_the_catalog_get_403(with_roles):
    staff = with_roles("user_admin")

    assert staff.get("/admin/catalog/").status_code == 403
    assert staff.get(CHANGELIST).status_code == 403
