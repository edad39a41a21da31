"""The catalogue API as a shop front and as staff see it."""

from decimal import Decimal

import pytest
from django.core.cache import cache

from catalog import services
from catalog.api.pagination import PAGE_SIZE_INVALID
from catalog.errors import CategoryCycle, DuplicateSku, InactiveCategory, StockBelowReserved
from catalog.models import Product, StockMovement
from edge.events import ProductChanged
from tests.factories import CategoryFactory, make_product
from tests.helpers import published

pytestmark = pytest.mark.django_db

PRODUCTS = "/api/catalog/products/"
CATEGORIES = "/api/catalog/categories/"


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [product["name"] for product in response.json()["results"]]


# --- reading -----------------------------------------------------------------------------
def test_the_public_list_shows_active_products_with_prices_as_strings(api_client):
    make_product(name="Green tea", price="4.50")
    make_product(name="Old tea", active=False)

    response = api_client.get(PRODUCTS)

    assert response.json()["count"] == 1
    [product] = response.json()["results"]
    assert (product["name"], product["price"], product["currency"], product["in_stock"]) == (
        "Green tea",
        "4.50",
        "EUR",
        True,
    )
    assert "stock" not in product


def test_a_category_filter_includes_every_category_below_it(api_client):
    drinks = services.category_create(name="Drinks")
    tea = services.category_create(name="Tea", parent=drinks)
    green = services.category_create(name="Green tea", parent=tea)
    make_product(name="Sencha", category=green)
    make_product(name="Earl Grey", category=tea)
    make_product(name="Bread")

    assert sorted(names(api_client.get(PRODUCTS, {"category": "drinks"}))) == ["Earl Grey", "Sencha"]
    assert names(api_client.get(PRODUCTS, {"category": green.slug})) == ["Sencha"]


def test_price_range_and_in_stock_filters(api_client):
    make_product(name="Cheap", price="2.00")
    make_product(name="Middle", price="10.00")
    make_product(name="Dear", price="50.00")
    make_product(name="Sold out", price="10.00", on_hand=0)

    assert sorted(names(api_client.get(PRODUCTS, {"price_min": "5", "price_max": "20"}))) == [
        "Middle",
        "Sold out",
    ]
    assert names(api_client.get(PRODUCTS, {"price_min": "5", "price_max": "20", "in_stock": "true"})) == [
        "Middle"
    ]


def test_ordering_by_price(api_client):
    for price in ("3.00", "1.00", "2.00"):
        make_product(price=price)

    response = api_client.get(PRODUCTS, {"ordering": "-price"})

    assert [product["price"] for product in response.json()["results"]] == ["3.00", "2.00", "1.00"]


def test_search_ranks_a_name_match_above_a_description_match(api_client):
    make_product(name="Teapot", description="Holds green tea")
    make_product(name="Green tea", description="Loose leaves")
    make_product(name="Bread", description="Sourdough")

    assert names(api_client.get(PRODUCTS, {"search": "green"})) == ["Green tea", "Teapot"]


def test_search_finds_a_product_by_the_start_of_its_sku(api_client):
    make_product(name="Sencha", sku="JP-TEA-001")
    make_product(name="Bread", sku="BR-001")

    assert names(api_client.get(PRODUCTS, {"search": "jp-tea"})) == ["Sencha"]
    assert names(api_client.get(PRODUCTS, {"search": "JP-TEA-001"})) == ["Sencha"]


def test_a_page_size_up_to_the_cap_is_honoured(api_client, settings):
    for _ in range(3):
        make_product()

    response = api_client.get(PRODUCTS, {"page_size": 2})

    assert len(response.json()["results"]) == 2
    assert response.json()["next"]


@pytest.mark.parametrize("page_size", ["101", "0", "ten", "-1"])
def test_a_page_size_past_the_cap_or_malformed_is_400(api_client, page_size):
    response = api_client.get(PRODUCTS, {"page_size": page_size})

    assert response.status_code == 400
    assert response.json() == {"page_size": [PAGE_SIZE_INVALID.format(max=100)]}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price_min", "cheap"),
        ("price_min", "-1"),
        ("in_stock", "maybe"),
        ("category", "no-such-category"),
        ("ordering", "colour"),
    ],
)
def test_a_malformed_filter_is_400_naming_the_filter(api_client, field, value):
    response = api_client.get(PRODUCTS, {field: value})

    assert response.status_code == 400
    assert field in response.json()


def test_an_inverted_price_range_is_400(api_client):
    response = api_client.get(PRODUCTS, {"price_min": "10", "price_max": "5"})

    assert response.status_code == 400
    assert "price_min" in response.json()


def test_a_product_by_id_and_by_slug(api_client):
    product = make_product(name="Green tea")

    by_id = api_client.get(f"{PRODUCTS}{product.pk}/")
    by_slug = api_client.get(f"{PRODUCTS}slug/green-tea/")

    assert by_id.status_code == by_slug.status_code == 200
    assert by_id.json() == by_slug.json()
    assert by_id.json()["category"]["slug"] == product.category.slug


@pytest.mark.parametrize("path", ["999999/", "slug/no-such-product/"])
def test_an_unknown_product_is_a_json_404(api_client, path):
    response = api_client.get(f"{PRODUCTS}{path}")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["detail"]


def test_an_inactive_product_is_404_to_the_public_and_visible_to_staff(api_client, staff_client):
    product = make_product(active=False)

    assert api_client.get(f"{PRODUCTS}{product.pk}/").status_code == 404
    staff_view = staff_client.get(f"{PRODUCTS}{product.pk}/")
    assert staff_view.status_code == 200
    assert staff_view.json()["stock"] == {
        "on_hand": 10,
        "reserved": 0,
        "available": 10,
        "updated_at": staff_view.json()["stock"]["updated_at"],
    }


def test_the_category_tree_nests_children_and_hides_inactive_branches(api_client):
    drinks = services.category_create(name="Drinks")
    services.category_create(name="Tea", parent=drinks)
    closed = services.category_create(name="Closed")
    services.category_create(name="Inside closed", parent=closed)
    services.category_deactivate(category=closed)

    response = api_client.get(CATEGORIES)

    assert response.status_code == 200
    assert [(node["name"], [child["name"] for child in node["children"]]) for node in response.json()] == [
        ("Drinks", ["Tea"])
    ]


# --- writing -----------------------------------------------------------------------------
def product_input(category, /, **overrides) -> dict:
    return {
        "sku": "TEA-001",
        "name": "Green tea",
        "price": "4.50",
        "category": category.pk,
        "on_hand": 5,
        **overrides,
    }


def test_staff_create_a_product(staff_client):
    category = CategoryFactory()

    response = staff_client.post(PRODUCTS, product_input(category), format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["sku"], body["price"], body["slug"], body["stock"]["on_hand"]) == (
        "TEA-001",
        "4.50",
        "green-tea",
        5,
    )
    assert published(ProductChanged, product_id=body["id"], change="created")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"price": "-1.00"}, "price"),
        ({"on_hand": -3}, "on_hand"),
        ({"category": 999_999}, "category"),
        ({"currency": "euro"}, "currency"),
        ({"price": "1.234"}, "price"),
        # JSON of another type than the schema's (edge.json_fields): once taken as "12", 5.
        ({"name": 12}, "name"),
        ({"on_hand": "5"}, "on_hand"),
        ({"active": "yes"}, "active"),
    ],
)
def test_a_bad_product_is_400_with_the_field_at_fault(staff_client, overrides, field):
    response = staff_client.post(PRODUCTS, product_input(CategoryFactory(), **overrides), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Product.objects.exists()


def test_a_duplicate_sku_is_409_naming_the_field(staff_client):
    category = CategoryFactory()
    make_product(sku="TEA-001", category=category)

    response = staff_client.post(PRODUCTS, product_input(category, sku="tea-001"), format="json")

    assert response.status_code == 409
    assert response.json() == {"code": DuplicateSku.code, "detail": DuplicateSku.message, "field": "sku"}


def test_a_customer_may_not_write(customer_client):
    product = make_product()

    assert customer_client.post(PRODUCTS, product_input(CategoryFactory()), format="json").status_code == 403
    assert (
        customer_client.patch(f"{PRODUCTS}{product.pk}/", {"price": "1.00"}, format="json").status_code == 403
    )
    assert customer_client.post(f"{PRODUCTS}{product.pk}/deactivate/").status_code == 403
    assert (
        customer_client.post(f"{PRODUCTS}{product.pk}/stock/", {"on_hand": 1, "reason": "x"}).status_code
        == 403
    )
    assert customer_client.post(CATEGORIES, {"name": "Mine"}).status_code == 403


def test_an_anonymous_write_is_401(api_client):
    assert api_client.post(CATEGORIES, {"name": "Mine"}).status_code == 401


def test_staff_change_a_price_and_orders_hear_of_it(staff_client):
    product = make_product(price="4.50")

    response = staff_client.patch(f"{PRODUCTS}{product.pk}/", {"price": "5.25"}, format="json")

    assert response.status_code == 200
    assert response.json()["price"] == "5.25"
    assert published(ProductChanged, product_id=product.pk, change="updated", price="5.25")


def test_staff_deactivate_a_product(staff_client, api_client):
    product = make_product()

    response = staff_client.post(f"{PRODUCTS}{product.pk}/deactivate/")

    assert response.json()["active"] is False
    assert api_client.get(f"{PRODUCTS}{product.pk}/").status_code == 404
    assert published(ProductChanged, product_id=product.pk, change="deactivated")


def test_staff_adjust_stock_with_a_reason(staff_client):
    product = make_product(on_hand=10)

    response = staff_client.post(f"{PRODUCTS}{product.pk}/stock/", {"on_hand": 25, "reason": "Delivery 42"})

    assert response.status_code == 200
    assert response.json()["on_hand"] == 25
    ledger = staff_client.get(f"{PRODUCTS}{product.pk}/movements/").json()["results"]
    assert [(row["reason"], row["on_hand_delta"], row["note"]) for row in ledger] == [
        ("adjustment", 15, "Delivery 42"),
        ("adjustment", 10, "Initial stock"),
    ]


@pytest.mark.parametrize(
    ("body", "field"), [({"on_hand": -1, "reason": "x"}, "on_hand"), ({"on_hand": 3}, "reason")]
)
def test_a_bad_stock_adjustment_is_400(staff_client, body, field):
    product = make_product(on_hand=10)

    response = staff_client.post(f"{PRODUCTS}{product.pk}/stock/", body)

    assert response.status_code == 400
    assert field in response.json()
    assert StockMovement.objects.filter(product=product).count() == 1


def test_a_category_named_by_a_number_is_400(staff_client):
    # Found by tests/test_fuzz.py: {"name": 0} made a category "0".
    response = staff_client.post(CATEGORIES, {"name": 0}, format="json")

    assert response.status_code == 400
    assert "name" in response.json()


def test_staff_build_the_category_tree(staff_client):
    drinks = staff_client.post(CATEGORIES, {"name": "Drinks"}).json()
    tea = staff_client.post(CATEGORIES, {"name": "Tea", "parent": drinks["id"]}).json()

    moved = staff_client.patch(f"{CATEGORIES}{drinks['id']}/", {"parent": tea["id"]}, format="json")
    unknown_parent = staff_client.post(CATEGORIES, {"name": "Lost", "parent": 999_999})

    assert tea["parent"] == drinks["id"]
    assert moved.status_code == 409
    assert moved.json() == {"code": CategoryCycle.code, "detail": CategoryCycle.message, "field": "parent"}
    assert unknown_parent.status_code == 400
    assert "parent" in unknown_parent.json()


# --- caching -----------------------------------------------------------------------------
def test_a_second_read_comes_from_the_cache(api_client):
    product = make_product()

    first = api_client.get(f"{PRODUCTS}{product.pk}/")
    second = api_client.get(f"{PRODUCTS}{product.pk}/")

    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")
    assert first.json() == second.json()


def test_query_parameters_no_view_reads_make_no_cache_entry_of_their_own(api_client):
    make_product()
    make_product()
    first = api_client.get(f"{PRODUCTS}?ordering=name&page_size=1")
    entries = set(cache.iter_keys("api:*"))

    junk = api_client.get(f"{PRODUCTS}?utm=1&ordering=name&x=a%20b&page_size=1")
    reordered = api_client.get(f"{PRODUCTS}?page_size=1&ordering=name")

    assert (first["X-Cache"], junk["X-Cache"], reordered["X-Cache"]) == ("MISS", "HIT", "HIT")
    assert set(cache.iter_keys("api:*")) == entries
    assert junk.json() == first.json()
    assert junk.json()["next"] == "http://testserver/api/catalog/products/?ordering=name&page=2&page_size=1"
    # Only answers to a query that is already its key's may be kept by the gateway.
    assert "X-Catalog-Query-Rewritten" not in first
    assert junk["X-Catalog-Query-Rewritten"] == reordered["X-Catalog-Query-Rewritten"] == "1"


def test_a_price_change_is_seen_at_once_in_detail_and_list(api_client, staff_client):
    product = make_product(price="4.50")
    api_client.get(f"{PRODUCTS}{product.pk}/")
    api_client.get(PRODUCTS)

    staff_client.patch(f"{PRODUCTS}{product.pk}/", {"price": "6.00"}, format="json")

    assert api_client.get(f"{PRODUCTS}{product.pk}/").json()["price"] == "6.00"
    assert api_client.get(PRODUCTS).json()["results"][0]["price"] == "6.00"


def test_a_reservation_is_seen_at_once_in_the_in_stock_flag(api_client):
    product = make_product(on_hand=2)
    assert api_client.get(f"{PRODUCTS}{product.pk}/").json()["in_stock"] is True
    assert names(api_client.get(PRODUCTS, {"in_stock": "true"})) == [product.name]

    services.stock_reserve_for_order(
        order_id=1, customer_id=5, items=[{"product_id": product.pk, "quantity": 2}]
    )

    assert api_client.get(f"{PRODUCTS}{product.pk}/").json()["in_stock"] is False
    assert names(api_client.get(PRODUCTS, {"in_stock": "true"})) == []


def test_a_new_category_is_seen_at_once_in_the_tree(api_client):
    api_client.get(CATEGORIES)

    services.category_create(name="Drinks")

    assert [node["name"] for node in api_client.get(CATEGORIES).json()] == ["Drinks"]


def test_staff_see_every_reservation_at_once_while_the_public_keeps_its_cached_answer(
    api_client, staff_client
):
    product = make_product(on_hand=5)
    api_client.get(f"{PRODUCTS}{product.pk}/")
    staff_client.get(f"{PRODUCTS}{product.pk}/")

    services.stock_reserve_for_order(
        order_id=1, customer_id=5, items=[{"product_id": product.pk, "quantity": 2}]
    )
    staff_answer = staff_client.get(f"{PRODUCTS}{product.pk}/")
    public_answer = api_client.get(f"{PRODUCTS}{product.pk}/")

    assert staff_answer["X-Cache"] == "BYPASS"
    assert staff_answer.json()["stock"]["reserved"] == 2
    assert public_answer["X-Cache"] == "HIT"
    assert public_answer.json()["in_stock"] is True
    assert "stock" not in public_answer.json()


def test_prices_stay_exact_decimals(api_client):
    make_product(price="0.10")
    make_product(price="0.20")

    prices = [Decimal(product["price"]) for product in api_client.get(PRODUCTS).json()["results"]]

    assert sum(prices) == Decimal("0.30")


def test_answers_come_from_the_database_when_redis_is_down(api_client, settings):
    product = make_product(price="4.50")
    settings.CACHES = {
        "default": {
            **settings.CACHES["default"],
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.2, "SOCKET_TIMEOUT": 0.2},
        }
    }

    response = api_client.get(f"{PRODUCTS}{product.pk}/")

    assert response.status_code == 200
    assert response.json()["price"] == "4.50"
    assert response["X-Cache"] == "MISS"


def test_a_product_cannot_be_created_in_an_inactive_category(staff_client):
    closed = CategoryFactory(active=False)

    response = staff_client.post(PRODUCTS, product_input(closed), format="json")

    assert response.status_code == 409
    assert response.json() == {
        "code": InactiveCategory.code,
        "detail": InactiveCategory.message,
        "field": "category",
    }
    assert not Product.objects.exists()


def test_a_category_cannot_be_created_under_an_inactive_one(staff_client):
    closed = CategoryFactory(active=False)

    response = staff_client.post(CATEGORIES, {"name": "Lost", "parent": closed.pk})

    assert response.status_code == 409
    assert (response.json()["code"], response.json()["field"]) == (InactiveCategory.code, "parent")


def test_stock_on_hand_below_what_is_reserved_is_409_and_changes_nothing(staff_client):
    product = make_product(on_hand=5)
    services.stock_reserve_for_order(
        order_id=1, customer_id=5, items=[{"product_id": product.pk, "quantity": 4}]
    )

    response = staff_client.post(f"{PRODUCTS}{product.pk}/stock/", {"on_hand": 3, "reason": "Count"})

    assert response.status_code == 409
    assert response.json() == {
        "code": StockBelowReserved.code,
        "detail": StockBelowReserved.message.format(reserved=4),
        "field": "on_hand",
    }
    product.stock.refresh_from_db()
    assert product.stock.on_hand == 5


def test_a_full_update_needs_every_required_field(staff_client):
    product = make_product()

    response = staff_client.put(f"{PRODUCTS}{product.pk}/", {"price": "1.00"}, format="json")

    assert response.status_code == 400
    assert {"sku", "name", "category"} <= set(response.json())


def test_staff_list_inactive_products_and_filter_by_active(staff_client, api_client):
    make_product(name="On sale")
    make_product(name="Withdrawn", active=False)

    assert sorted(names(staff_client.get(PRODUCTS))) == ["On sale", "Withdrawn"]
    assert names(staff_client.get(PRODUCTS, {"active": "false"})) == ["Withdrawn"]
    assert api_client.get(PRODUCTS, {"active": "false"}).json()["count"] == 1


def test_with_the_cache_off_every_answer_is_built_afresh(api_client, settings):
    settings.CATALOG_CACHE_ENABLED = False
    product = make_product()

    api_client.get(f"{PRODUCTS}{product.pk}/")

    assert api_client.get(f"{PRODUCTS}{product.pk}/")["X-Cache"] == "BYPASS"
