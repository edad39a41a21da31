"""Staff alerts on the live stack: a product that orders take out of stock, an order the catalog
rejects and a message the catalog dead-letters are each logged in notify and emailed to the staff
member who opted in."""

import uuid
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from devstack.stack import Stack
from edge.events.contracts import examples_of
from tests.support import (
    Account,
    MailSink,
    create_orderable_product,
    eventually,
    log_in_api,
    place_order,
    register,
    send_as_outsider,
    text_of,
    wait_for_status,
)


def _subscribed(stack: Stack, user_id: int) -> bool:
    with psycopg.connect(stack.service_env["notify"]["DATABASE_URL"]) as connection:
        row = connection.execute(
            "SELECT subscribed FROM notify_staffalertsubscriber WHERE user_id = %s", [user_id]
        ).fetchone()
    return bool(row and row[0])


def _logged_alerts(stack: Stack, kind: str, link: str) -> list[tuple[str, str]]:
    with psycopg.connect(stack.service_env["notify"]["DATABASE_URL"]) as connection:
        return connection.execute(
            "SELECT subject, status FROM notify_notification WHERE channel = 'log' AND kind = %s AND link = %s",
            [kind, link],
        ).fetchall()


def _opt(gateway: httpx.Client, account: Account, *, email_staff_alerts: bool) -> None:
    answer = gateway.patch(
        "/api/auth/me/", json={"email_staff_alerts": email_staff_alerts}, headers=account.auth
    )
    assert answer.status_code == 200, answer.text


@pytest.fixture
def alert_subscriber(
    gateway: httpx.Client, mail: MailSink, staff: dict[str, str], stack: Stack
) -> Iterator[Account]:
    """A new staff member who asked for staff alerts by email, once notify knows; opted out after."""
    account = register(gateway, mail, full_name="Stock Keeper")
    made_staff = gateway.patch(f"/api/auth/users/{account.id}/", json={"is_staff": True}, headers=staff)
    assert made_staff.status_code == 200, made_staff.text
    # Becoming staff revoked the tokens the account had.
    account = log_in_api(gateway, account.email)
    _opt(gateway, account, email_staff_alerts=True)
    eventually(lambda: _subscribed(stack, account.id), timeout=30)
    yield account
    _opt(gateway, account, email_staff_alerts=False)


def test_orders_that_take_a_product_out_of_stock_alert_staff_in_notify_and_by_email(
    gateway, staff, stack, mail, customer, alert_subscriber
):
    product = create_orderable_product(gateway, staff, stack, on_hand=2)

    order = place_order(gateway, customer, [(product["id"], 2)])
    assert order.status_code == 201, order.text
    wait_for_status(gateway, customer, order.json()["id"], "confirmed")

    subject = f"Out of stock: {product['name']} ({product['sku']})"
    link = f"/admin/catalog/catalog/product/{product['id']}/change/"
    assert eventually(lambda: _logged_alerts(stack, "alert_out_of_stock", link), timeout=30) == [
        (subject, "sent")
    ]
    email = mail.wait_for(alert_subscriber.email, f"[Staff alert] {subject}")
    assert link in text_of(email)


def test_a_rejected_order_alerts_staff_in_notify_and_by_email(
    gateway, staff, stack, mail, customer, alert_subscriber
):
    product = create_orderable_product(gateway, staff, stack, on_hand=2)

    order = place_order(gateway, customer, [(product["id"], 3)])
    assert order.status_code == 201, order.text
    order_id = order.json()["id"]
    wait_for_status(gateway, customer, order_id, "rejected")

    link = f"/admin/orders/orders/order/{order_id}/change/"
    assert eventually(lambda: _logged_alerts(stack, "alert_order_rejected", link), timeout=30) == [
        (f"Order {order_id} rejected", "sent")
    ]
    email = mail.wait_for(alert_subscriber.email, f"[Staff alert] Order {order_id} rejected")
    assert customer.email in text_of(email)


def _dead_letter_id(stack: Stack, event_id: str) -> int | None:
    with psycopg.connect(stack.service_env["catalog"]["DATABASE_URL"]) as connection:
        row = connection.execute(
            "SELECT id FROM messaging_deadletter WHERE event_id = %s", [event_id]
        ).fetchone()
    return row and row[0]


def test_a_dead_letter_in_the_catalog_alerts_staff_in_notify_and_by_email(stack, mail, alert_subscriber):
    unsigned = {**examples_of("order.placed")["v1-one-item.json"], "event_id": str(uuid.uuid4())}

    send_as_outsider(stack, unsigned, queue="catalog")

    dead_letter_id = eventually(lambda: _dead_letter_id(stack, unsigned["event_id"]), timeout=30)
    subject = "Dead letter in catalog: order.placed (Unsigned)"
    link = f"/admin/catalog/messaging/deadletter/{dead_letter_id}/change/"
    assert eventually(lambda: _logged_alerts(stack, "alert_dead_letter", link), timeout=30) == [
        (subject, "sent")
    ]
    assert link in text_of(mail.wait_for(alert_subscriber.email, f"[Staff alert] {subject}"))
