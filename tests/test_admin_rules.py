"""A write the services refuse shows on the admin's form through the gateway, never as an error page."""

import uuid

from devstack.stack import DEMO_STAFF_EMAIL
from tests.support import DEMO_STAFF_PASSWORD, log_in

CATEGORIES = "/api/catalog/categories/"


def test_moving_a_category_under_its_own_child_in_the_admin_shows_the_refusal_on_the_form(
    browser, gateway, staff
):
    suffix = uuid.uuid4().hex[:8]
    parent = gateway.post(CATEGORIES, json={"name": f"Parent {suffix}"}, headers=staff).json()
    child = gateway.post(
        CATEGORIES, json={"name": f"Child {suffix}", "parent": parent["id"]}, headers=staff
    ).json()
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
    change = f"/admin/catalog/catalog/category/{parent['id']}/change/"
    assert browser.get(change).status_code == 200

    response = browser.post(
        change,
        data={
            "csrfmiddlewaretoken": browser.cookies["catalog_csrftoken"],
            "name": parent["name"],
            "slug": parent["slug"],
            "parent": child["id"],
            "active": "on",
        },
        headers={"Referer": str(browser.base_url.join(change)), "Origin": str(browser.base_url).rstrip("/")},
    )

    assert response.status_code == 200
    assert "A category cannot be moved under itself or one of its descendants." in response.text
    assert gateway.get(f"{CATEGORIES}{parent['id']}/", headers=staff).json()["parent"] is None
