"""What the staff roles of a token give in the catalog's admin (catalog.roles)."""

import pytest

from catalog.models import Product
from tests.factories import make_product
from tests.test_admin import CHANGELIST, product_form

pytestmark = pytest.mark.django_db


def test_a_catalog_editor_changes_a_product(staff_admin_client):
    product = make_product(price="4.50", on_hand=7)

    response = staff_admin_client("catalog_editor").post(
        f"{CHANGELIST}{product.pk}/change/", product_form(product, price="5.00")
    )

    assert response.status_code == 302
    assert str(Product.objects.get(pk=product.pk).price) == "5.00"


def test_fulfilment_sees_products_but_cannot_change_them(staff_admin_client):
    product = make_product(price="4.50", on_hand=7)
    fulfilment = staff_admin_client("fulfilment")

    listed = fulfilment.get(CHANGELIST)
    changed = fulfilment.post(f"{CHANGELIST}{product.pk}/change/", product_form(product, price="5.00"))

    assert listed.status_code == 200
    assert changed.status_code == 403
    assert str(Product.objects.get(pk=product.pk).price) == "4.50"


def test_staff_without_a_role_for_the_catalog_get_403(staff_admin_client):
    staff = staff_admin_client("user_admin")

    assert staff.get("/admin/catalog/").status_code == 403
    assert staff.get(CHANGELIST).status_code == 403


def test_the_api_gives_a_catalog_editor_what_the_admin_gives(staff_api_client):
    product = make_product(price="4.50", on_hand=7)
    editor = staff_api_client("catalog_editor")

    changed = editor.patch(f"/api/catalog/products/{product.pk}/", {"price": "5.00"}, format="json")
    stocked = editor.post(
        f"/api/catalog/products/{product.pk}/stock/", {"on_hand": 9, "reason": "counted"}, format="json"
    )

    assert changed.status_code == 200, changed.json()
    assert stocked.status_code == 200, stocked.json()
    assert stocked.json()["on_hand"] == 9


@pytest.mark.parametrize(
    "roles", [(), ("support",), ("fulfilment",)], ids=["no-role", "support", "fulfilment"]
)
def test_staff_whose_roles_give_no_catalog_change_are_refused_by_the_api(staff_api_client, roles):
    product = make_product(price="4.50", on_hand=7)
    staff = staff_api_client(*roles)

    changed = staff.patch(f"/api/catalog/products/{product.pk}/", {"price": "0.01"}, format="json")
    stocked = staff.post(
        f"/api/catalog/products/{product.pk}/stock/", {"on_hand": 0, "reason": "gone"}, format="json"
    )
    created = staff.post("/api/catalog/categories/", {"name": "Stolen"}, format="json")

    assert (changed.status_code, stocked.status_code, created.status_code) == (403, 403, 403)
    assert changed.json()["detail"] == "You do not have permission to perform this action."
    product.refresh_from_db()
    assert (str(product.price), product.stock.on_hand) == ("4.50", 7)
