"""The order saga end to end: orders, catalog and notify over the real queues, SMTP included."""

import pytest

from devstack.stack import DEMO_STAFF_EMAIL
from tests.support import (
    create_orderable_product,
    eventually,
    place_order,
    register,
    stock,
    wait_for_status,
)


@pytest.fixture
def teapot(gateway, staff, stack):
    return create_orderable_product(gateway, staff, stack, on_hand=5, price="30.00")


def test_an_order_is_confirmed_reserves_stock_and_emails_the_customer(gateway, staff, customer, mail, teapot):
    placed = place_order(gateway, customer, [(teapot["id"], 2)])

    assert placed.status_code == 201
    assert (placed.json()["status"], placed.json()["total"]) == ("pending", "60.00")
    order_id = placed.json()["id"]
    wait_for_status(gateway, customer, order_id, "confirmed")
    assert stock(gateway, staff, teapot["id"])["reserved"] == 2
    emails = eventually(lambda: mail.to(customer.email, f"#{order_id} is confirmed"))
    assert len(emails) == 1


def test_an_order_beyond_the_stock_is_rejected_with_the_reason(gateway, staff, customer, mail, teapot):
    order_id = place_order(gateway, customer, [(teapot["id"], 6)]).json()["id"]

    wait_for_status(gateway, customer, order_id, "rejected")
    history = gateway.get(f"/api/orders/{order_id}/", headers=customer.auth).json()["history"]
    assert "5 of 6 available" in history[-1]["reason"]
    assert stock(gateway, staff, teapot["id"])["reserved"] == 0
    email = eventually(lambda: mail.to(customer.email, f"#{order_id} could not be accepted"))[0]
    assert "5 of 6 available" in email.get_payload(0).get_payload(decode=True).decode()


def test_cancelling_gives_the_stock_back_and_tells_the_customer(gateway, staff, customer, mail, teapot):
    order_id = place_order(gateway, customer, [(teapot["id"], 3)]).json()["id"]
    wait_for_status(gateway, customer, order_id, "confirmed")

    cancelled = gateway.post(
        f"/api/orders/{order_id}/cancel/", json={"reason": "found it cheaper"}, headers=customer.auth
    )

    assert cancelled.status_code == 200
    eventually(lambda: stock(gateway, staff, teapot["id"])["reserved"] == 0)
    assert eventually(lambda: mail.to(customer.email, f"#{order_id} is cancelled"))


def test_staff_ship_and_deliver_and_the_customer_hears_of_each(gateway, staff, customer, mail, teapot):
    order_id = place_order(gateway, customer, [(teapot["id"], 1)]).json()["id"]
    wait_for_status(gateway, customer, order_id, "confirmed")

    assert gateway.post(f"/api/orders/{order_id}/ship/", headers=customer.auth).status_code == 403
    assert gateway.post(f"/api/orders/{order_id}/ship/", headers=staff).status_code == 200
    assert gateway.post(f"/api/orders/{order_id}/deliver/", headers=staff).status_code == 200
    late_cancel = gateway.post(f"/api/orders/{order_id}/cancel/", headers=customer.auth)

    assert late_cancel.status_code == 409
    assert late_cancel.json()["status"] == "delivered"
    assert eventually(lambda: mail.to(customer.email, f"#{order_id} is on its way"))
    assert eventually(lambda: mail.to(customer.email, f"#{order_id} was delivered"))
    body = gateway.get(f"/api/orders/{order_id}/", headers=customer.auth).json()
    assert [step["to_status"] for step in body["history"]] == ["pending", "confirmed", "shipped", "delivered"]


def test_a_customer_sees_that_staff_moved_their_order_and_staff_see_who(
    gateway, staff, customer, mail, teapot
):
    order_id = place_order(gateway, customer, [(teapot["id"], 1)]).json()["id"]
    wait_for_status(gateway, customer, order_id, "confirmed")
    gateway.post(f"/api/orders/{order_id}/cancel/", headers=staff)

    as_customer = gateway.get(f"/api/orders/{order_id}/", headers=customer.auth)
    as_staff = gateway.get(f"/api/orders/{order_id}/", headers=staff).json()

    cancel_step = as_customer.json()["history"][-1]
    assert (cancel_step["actor_kind"], cancel_step["actor_id"], cancel_step["actor_label"]) == (
        "staff",
        None,
        "staff",
    )
    assert DEMO_STAFF_EMAIL not in as_customer.text
    assert as_staff["history"][-1]["actor_label"] == DEMO_STAFF_EMAIL
    email = eventually(lambda: mail.to(customer.email, f"#{order_id} is cancelled"))[0]
    texts = [part.get_payload(decode=True).decode() for part in email.walk() if not part.is_multipart()]
    assert "cancelled by staff" in texts[0]
    assert not [text for text in texts if DEMO_STAFF_EMAIL in text]


def test_a_customer_cannot_see_another_customers_order(gateway, mail, customer, teapot):
    order_id = place_order(gateway, customer, [(teapot["id"], 1)]).json()["id"]
    stranger = register(gateway, mail)

    assert gateway.get(f"/api/orders/{order_id}/", headers=stranger.auth).status_code == 404
    assert gateway.post(f"/api/orders/{order_id}/cancel/", headers=stranger.auth).status_code == 404


def test_a_retried_post_with_the_same_key_places_one_order(gateway, customer, teapot):
    headers = {**customer.auth, "Idempotency-Key": "retry-key-0001"}
    body = {"items": [{"product_id": teapot["id"], "quantity": 1}]}

    first = gateway.post("/api/orders/", json=body, headers=headers)
    again = gateway.post("/api/orders/", json=body, headers=headers)
    changed = gateway.post(
        "/api/orders/", json={"items": [{"product_id": teapot["id"], "quantity": 2}]}, headers=headers
    )

    assert (first.status_code, again.status_code, changed.status_code) == (201, 201, 422)
    assert again.json()["id"] == first.json()["id"]
    assert gateway.get("/api/orders/", headers=customer.auth).json()["count"] == 1
