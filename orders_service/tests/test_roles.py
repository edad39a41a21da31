"""What the staff roles of a token give in the orders admin (orders.roles)."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from orders.models import Order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/orders/order/"


def test_fulfilment_ships_orders(staff_admin_client):
    order = OrderFactory(status=Order.Status.CONFIRMED)

    staff_admin_client("fulfilment").post(CHANGELIST, {"action": "ship", ACTION_CHECKBOX_NAME: [order.pk]})

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_support_sees_orders_but_cannot_ship_them(staff_admin_client):
    order = OrderFactory(status=Order.Status.CONFIRMED)
    support = staff_admin_client("support")

    listed = support.get(CHANGELIST)
    support.post(CHANGELIST, {"action": "ship", ACTION_CHECKBOX_NAME: [order.pk]})

    assert listed.status_code == 200
    assert "Ship selected orders" not in listed.text
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


def test_a_catalog_editor_sees_no_orders_admin(staff_admin_client):
    editor = staff_admin_client("catalog_editor")

    assert editor.get("/admin/orders/").status_code == 403
    assert editor.get(CHANGELIST).status_code == 403


def test_the_api_lets_fulfilment_ship_and_cancel_orders(staff_api_client):
    shipping, cancelling = (
        OrderFactory(status=Order.Status.CONFIRMED),
        OrderFactory(status=Order.Status.PENDING),
    )
    fulfilment = staff_api_client("fulfilment")

    assert fulfilment.post(f"/api/orders/{shipping.pk}/ship/").status_code == 200
    assert fulfilment.post(f"/api/orders/{cancelling.pk}/cancel/", {}, format="json").status_code == 200


@pytest.mark.parametrize(
    ("roles", "cancel_status"),
    # Staff who may not view others' orders do not find this one; support finds it and may not move it.
    [((), 404), (("support",), 403), (("catalog_editor",), 404)],
    ids=["no-role", "support", "catalog"],
)
def test_staff_whose_roles_give_no_order_change_cannot_move_orders_through_the_api(
    staff_api_client, roles, cancel_status
):
    order = OrderFactory(status=Order.Status.CONFIRMED)
    staff = staff_api_client(*roles)

    shipped = staff.post(f"/api/orders/{order.pk}/ship/")
    cancelled = staff.post(f"/api/orders/{order.pk}/cancel/", {}, format="json")

    assert (shipped.status_code, cancelled.status_code) == (403, cancel_status)
    order.refresh_from_db()
    assert order.status == Order.Status.CONFIRMED


@pytest.mark.parametrize("roles", [(), ("support",)], ids=["no-role", "support"])
def test_staff_cancel_their_own_order_as_any_customer_does(staff_api_client, roles):
    own = OrderFactory(customer_id=12, status=Order.Status.PENDING)

    cancelled = staff_api_client(*roles, user_id=12).post(f"/api/orders/{own.pk}/cancel/", {}, format="json")

    assert cancelled.status_code == 200, cancelled.json()
    assert cancelled.json()["status"] == Order.Status.CANCELLED


def test_staff_whose_roles_give_no_orders_see_only_their_own_through_the_api(staff_api_client):
    mine, theirs = OrderFactory(customer_id=12), OrderFactory(customer_id=13)

    as_catalog_editor = staff_api_client("catalog_editor").get("/api/orders/").json()
    as_support = staff_api_client("support").get("/api/orders/").json()

    assert [order["id"] for order in as_catalog_editor["results"]] == [mine.pk]
    assert {order["id"] for order in as_support["results"]} == {mine.pk, theirs.pk}
