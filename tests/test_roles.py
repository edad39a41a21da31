"""Staff roles, granted once in auth: every admin obeys the roles of the token, a role removed is
refused from the holder's next token, and a superuser sees everything."""

import httpx
import pytest

from devstack.stack import DEMO_STAFF_EMAIL
from tests.support import DEMO_STAFF_PASSWORD, Account, create_product, log_in, log_in_api, register

PRODUCTS = "/admin/catalog/catalog/product/"


def _form_post(browser: httpx.Client, page: str, site: str, data: dict) -> httpx.Response:
    """A POST of an admin form, with the site's CSRF token, as the browser sends it."""
    assert browser.get(page).status_code == 200, page
    return browser.post(
        page,
        data={"csrfmiddlewaretoken": browser.cookies[f"{site}_csrftoken"], **data},
        headers={"Referer": str(browser.base_url.join(page)), "Origin": str(browser.base_url).rstrip("/")},
    )


def _product_form(product: dict, **changes: str) -> dict:
    return {
        "sku": product["sku"],
        "name": product["name"],
        "slug": product["slug"],
        "category": product["category"]["id"],
        "description": product["description"],
        "price": product["price"],
        "currency": product["currency"],
        "active": "on",
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
        **changes,
    }


@pytest.fixture
def catalog_editor(gateway, mail, staff) -> Account:
    """A new staff member whom a superuser gave the catalog editor's role, through the staff users API."""
    account = register(gateway, mail, full_name="Catalog Editor")
    granted = gateway.patch(
        f"/api/auth/users/{account.id}/", json={"is_staff": True, "roles": ["catalog_editor"]}, headers=staff
    )
    assert granted.status_code == 200, granted.text
    assert granted.json()["roles"] == ["catalog_editor"]
    # Made staff, their earlier tokens are refused: a new one carries the role.
    return log_in_api(gateway, account.email, account.password)


def test_a_catalog_editor_changes_products_but_moves_no_order_and_changes_no_user(
    browser, gateway, staff, catalog_editor, customer
):
    product = create_product(gateway, staff, on_hand=3, price="10.00")
    assert log_in(browser, catalog_editor.email, catalog_editor.password).status_code == 302

    changed = _form_post(
        browser, f"{PRODUCTS}{product['id']}/change/", "catalog", _product_form(product, price="12.00")
    )
    orders_admin = browser.get("/admin/orders/", follow_redirects=True)
    user_page = browser.get(f"/admin/auth/accounts/user/{customer.id}/change/")
    user_api = gateway.patch(
        f"/api/auth/users/{customer.id}/", json={"is_active": False}, headers=catalog_editor.auth
    )
    stock_api = gateway.post(
        f"/api/catalog/products/{product['id']}/stock/",
        json={"on_hand": 5, "reason": "counted"},
        headers=catalog_editor.auth,
    )
    # Refused before the order is even looked for: the role gives no change of orders.
    ship_api = gateway.post("/api/orders/1/ship/", headers=catalog_editor.auth)

    assert changed.status_code == 302
    assert gateway.get(f"/api/catalog/products/{product['id']}/").json()["price"] == "12.00"
    assert orders_admin.status_code == 403
    assert user_page.status_code == 403
    assert user_api.status_code == 403
    assert stock_api.status_code == 200, stock_api.text
    assert stock_api.json()["on_hand"] == 5
    assert ship_api.status_code == 403


def test_a_role_removed_in_auth_is_refused_from_the_holders_next_token(
    browser, gateway, staff, catalog_editor
):
    assert log_in(browser, catalog_editor.email, catalog_editor.password).status_code == 302
    assert browser.get(PRODUCTS).status_code == 200

    removed = gateway.patch(f"/api/auth/users/{catalog_editor.id}/", json={"roles": []}, headers=staff)
    # The token in the browser no longer describes the editor: it is refused (and its session
    # with it), as when staff status is removed; the next login's token carries no role.
    refused = browser.get(PRODUCTS, follow_redirects=True)
    assert log_in(browser, catalog_editor.email, catalog_editor.password).status_code == 302
    next_token = browser.get(PRODUCTS)

    assert removed.status_code == 200
    assert removed.json()["roles"] == []
    assert refused.url.path == "/login/"
    assert next_token.status_code == 403


def test_a_superuser_sees_everything(browser):
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)

    for page in [
        "/admin/auth/accounts/user/",
        "/admin/auth/accounts/role/",
        PRODUCTS,
        "/admin/orders/orders/order/",
        "/admin/notify/notify/notification/",
    ]:
        assert browser.get(page).status_code == 200, page
