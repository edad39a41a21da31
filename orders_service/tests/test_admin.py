"""The orders admin's actions: each order moves through the services, or is named as refused."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

from orders.errors import InvalidTransition
from orders.models import Order
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/orders/order/"


def test_shipping_a_selection_ships_what_can_ship_and_names_each_order_that_cannot(superuser_admin_client):
    confirmed = OrderFactory(status=Order.Status.CONFIRMED)
    pending = OrderFactory(status=Order.Status.PENDING)

    response = superuser_admin_client.post(
        CHANGELIST,
        {"action": "ship", ACTION_CHECKBOX_NAME: [confirmed.pk, pending.pk]},
        follow=True,
    )

    assert response.status_code == 200
    refusal = InvalidTransition.message.format(current="pending", requested="shipped")
    assert [str(message) for message in response.context["messages"]] == [
        "1 order(s) shipped.",
        f"Not changed: {pending}: {refusal}",
    ]
    confirmed.refresh_from_db()
    pending.refresh_from_db()
    assert (confirmed.status, pending.status) == (Order.Status.SHIPPED, Order.Status.PENDING)
