"""The catalogue admin: filters, the ledger inline, bulk actions and CSV import/export."""

from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from catalog import services
from catalog.errors import CategoryCycle, InactiveCategory, StockBelowReserved
from catalog.models import Category, Product, Stock
from edge.events import ProductChanged
from tests.factories import CategoryFactory, make_product
from tests.helpers import published

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/catalog/catalog/product/"


def shown(response) -> set[str]:
    assert response.status_code == 200
    return {product.sku for product in response.context["cl"].result_list}


def test_the_low_stock_filter_shows_products_with_few_units_available(superuser_admin_client):
    make_product(sku="PLENTY", on_hand=50)
    make_product(sku="FEW", on_hand=3)
    make_product(sku="NONE", on_hand=0)

    assert shown(superuser_admin_client.get(CHANGELIST, {"stock": "low"})) == {"FEW", "NONE"}
    assert shown(superuser_admin_client.get(CHANGELIST, {"stock": "out"})) == {"NONE"}


def test_products_are_found_by_sku_or_name_and_filtered_by_category(superuser_admin_client):
    tea = CategoryFactory()
    make_product(sku="TEA-1", name="Sencha", category=tea)
    make_product(sku="BREAD-1", name="Rye bread")

    assert shown(superuser_admin_client.get(CHANGELIST, {"q": "sencha"})) == {"TEA-1"}
    assert shown(superuser_admin_client.get(CHANGELIST, {"q": "bread-1"})) == {"BREAD-1"}
    assert shown(superuser_admin_client.get(CHANGELIST, {"category__id__exact": tea.pk})) == {"TEA-1"}


def test_the_product_page_shows_the_stock_ledger(superuser_admin_client):
    product = make_product(on_hand=7)

    page = superuser_admin_client.get(f"{CHANGELIST}{product.pk}/change/")

    assert page.status_code == 200
    assert "Initial stock" in page.text


def product_form(product: Product, **changes: str) -> dict[str, str]:
    """The product's change form as the admin would post it, with ``changes``."""
    return {
        "sku": product.sku,
        "name": product.name,
        "slug": product.slug,
        "category": str(product.category.pk),
        "description": product.description,
        "price": str(product.price),
        "currency": product.currency,
        "active": "on" if product.active else "",
        "on_hand": str(product.stock.on_hand),
        "stock_reason": "",
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
        **changes,
    }


def form_errors(response) -> dict[str, list[str]]:
    assert response.status_code == 200, "the form was saved"
    return response.context["adminform"].form.errors


def test_changing_stock_in_the_form_needs_a_reason_and_writes_the_ledger(superuser_admin_client):
    product = make_product(sku="TEA-1", name="Sencha", price="4.50", on_hand=7)
    form = product_form(product, price="5.00", on_hand="9")

    refused = superuser_admin_client.post(f"{CHANGELIST}{product.pk}/change/", form)
    saved = superuser_admin_client.post(
        f"{CHANGELIST}{product.pk}/change/", {**form, "stock_reason": "Delivery"}
    )

    assert refused.status_code == 200
    assert saved.status_code == 302
    assert Stock.objects.get(product=product).on_hand == 9
    assert product.movements.first().note == "Delivery"
    assert published(ProductChanged, product_id=product.pk, price="5.00")


def test_bulk_deactivate_and_activate(superuser_admin_client):
    products = [make_product(), make_product()]
    ids = [str(product.pk) for product in products]

    superuser_admin_client.post(CHANGELIST, {"action": "deactivate", ACTION_CHECKBOX_NAME: ids})
    assert not Product.objects.filter(active=True).exists()
    superuser_admin_client.post(CHANGELIST, {"action": "activate", ACTION_CHECKBOX_NAME: ids})

    assert Product.objects.filter(active=True).count() == 2
    assert len(published(ProductChanged, change="deactivated")) == 2


def test_bulk_price_change_asks_for_the_percentage_first(superuser_admin_client):
    product = make_product(price="10.00")
    selection = {"action": "change_price", ACTION_CHECKBOX_NAME: [str(product.pk)]}

    asked = superuser_admin_client.post(CHANGELIST, selection)
    applied = superuser_admin_client.post(CHANGELIST, {**selection, "apply": "1", "percentage": "15"})

    assert asked.status_code == 200
    assert "percentage" in asked.text
    assert applied.status_code == 302
    product.refresh_from_db()
    assert product.price == Decimal("11.50")


def test_products_export_to_csv(superuser_admin_client):
    make_product(sku="TEA-1", name="Sencha", price="4.50", on_hand=7)

    response = superuser_admin_client.post(
        "/admin/catalog/catalog/product/export/", {"format": "0", "resource": "0", **_all_export_fields()}
    )

    assert response.status_code == 200
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("id,sku,name")
    assert "TEA-1,Sencha" in lines[1]
    assert "4.50" in lines[1]


def test_a_csv_import_creates_and_updates_products_through_the_services(superuser_admin_client):
    tea = CategoryFactory(slug="tea")
    make_product(sku="TEA-1", name="Sencha", price="4.50", category=tea)
    csv = (
        "sku,name,category,price,currency,active\nTEA-1,Sencha,tea,5.00,EUR,1\nTEA-2,Matcha,tea,12.00,EUR,1\n"
    )

    _import(superuser_admin_client, csv)

    assert dict(Product.objects.values_list("sku", "price")) == {
        "TEA-1": Decimal("5.00"),
        "TEA-2": Decimal("12.00"),
    }
    assert published(ProductChanged, change="created", sku="TEA-2")
    assert Stock.objects.filter(product__sku="TEA-2").exists()


def test_a_csv_with_bad_rows_reports_them_by_line_and_saves_nothing(superuser_admin_client):
    CategoryFactory(slug="tea")
    csv = (
        "sku,name,category,price,currency,active\n"
        "TEA-1,Sencha,tea,5.00,EUR,1\n"
        "TEA-2,Matcha,tea,-3.00,EUR,1\n"
        "TEA-3,Genmaicha,coffee,4.00,EUR,1\n"
    )

    response = _import(superuser_admin_client, csv)

    assert not Product.objects.exists()
    invalid = response.context["result"].invalid_rows
    assert {(row.number, *row.field_specific_errors) for row in invalid} == {(2, "price"), (3, "category")}
    assert "Unknown category: &#x27;coffee&#x27;." in response.content.decode()


def _all_export_fields() -> dict[str, str]:
    names = (
        "id",
        "sku",
        "name",
        "slug",
        "description",
        "category",
        "price",
        "currency",
        "active",
        "on_hand",
        "reserved",
    )
    return {f"productresource_{name}": "on" for name in names}


def _import(client: Client, csv: str):
    upload = SimpleUploadedFile("products.csv", csv.encode(), content_type="text/csv")
    preview = client.post(
        "/admin/catalog/catalog/product/import/", {"resource": "0", "format": "0", "import_file": upload}
    )
    assert preview.status_code == 200
    result = preview.context["result"]
    if result.has_errors() or result.has_validation_errors():
        return preview
    confirm = preview.context["confirm_form"].initial
    return client.post("/admin/catalog/catalog/product/process_import/", confirm)


def test_a_product_added_in_the_admin_gets_its_stock_and_is_announced(superuser_admin_client):
    category = CategoryFactory()
    form = {
        "sku": "TEA-9",
        "name": "Hojicha",
        "slug": "",
        "category": category.pk,
        "description": "",
        "price": "7.00",
        "currency": "EUR",
        "active": "on",
        "on_hand": "4",
        "stock_reason": "",
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
    }

    assert superuser_admin_client.get(f"{CHANGELIST}add/").status_code == 200
    response = superuser_admin_client.post(f"{CHANGELIST}add/", form)

    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    product = Product.objects.get(sku="TEA-9")
    assert (product.slug, product.stock.on_hand) == ("hojicha", 4)
    assert published(ProductChanged, product_id=product.pk, change="created")


def test_a_category_added_in_the_admin(superuser_admin_client):
    response = superuser_admin_client.post(
        "/admin/catalog/catalog/category/add/", {"name": "Tea", "slug": "tea"}
    )

    assert response.status_code == 302
    assert Category.objects.get().slug == "tea"


def test_a_category_cannot_be_moved_under_its_own_child_in_the_admin(superuser_admin_client):
    root = CategoryFactory()
    child = CategoryFactory(parent=root)

    response = superuser_admin_client.post(
        f"/admin/catalog/catalog/category/{root.pk}/change/",
        {"name": root.name, "slug": root.slug, "parent": child.pk, "active": "on"},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parent"] == [CategoryCycle.message]
    root.refresh_from_db()
    assert root.parent is None


def test_a_product_cannot_move_into_an_inactive_category_in_the_admin(superuser_admin_client):
    product = make_product(price="4.50")
    closed = CategoryFactory(active=False)

    response = superuser_admin_client.post(
        f"{CHANGELIST}{product.pk}/change/", product_form(product, category=str(closed.pk), price="9.00")
    )

    assert form_errors(response)["category"] == [InactiveCategory.message]
    product.refresh_from_db()
    assert product.category != closed
    assert product.price == Decimal("4.50")


def test_a_category_cannot_be_added_under_an_inactive_one_in_the_admin(superuser_admin_client):
    closed = CategoryFactory(active=False)

    response = superuser_admin_client.post(
        "/admin/catalog/catalog/category/add/", {"name": "Tea", "slug": "tea", "parent": closed.pk}
    )

    assert form_errors(response)["parent"] == [InactiveCategory.message]
    assert not Category.objects.filter(slug="tea").exists()


def test_stock_below_what_is_reserved_is_refused_on_the_form_and_nothing_is_saved(superuser_admin_client):
    product = make_product(price="4.50", on_hand=5)
    services.stock_reserve_for_order(
        order_id=1, customer_id=5, items=[{"product_id": product.pk, "quantity": 4}]
    )

    response = superuser_admin_client.post(
        f"{CHANGELIST}{product.pk}/change/",
        product_form(product, price="6.00", on_hand="3", stock_reason="Count"),
    )

    assert form_errors(response)["on_hand"] == [StockBelowReserved.message.format(reserved=4)]
    product.refresh_from_db()
    # The price was saved before the stock was refused: the page with the error rolled it back.
    assert (product.price, product.stock.on_hand) == (Decimal("4.50"), 5)
    assert not published(ProductChanged, product_id=product.pk, price="6.00")
