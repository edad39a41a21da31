"""Messages a service cannot handle, sent with Celery to its queue on the live stack: each lands in
the service's dead letters, shown in its admin, and the worker goes on with the next messages."""

import re
import uuid

from devstack.stack import DEMO_STAFF_EMAIL
from edge.events.contracts import examples_of
from tests.support import (
    DEMO_STAFF_PASSWORD,
    create_orderable_product,
    deliver_again,
    eventually,
    log_in,
    place_order,
    stock,
    wait_for_status,
)

DEAD_LETTERS = "/admin/catalog/messaging/deadletter/"


def _order_placed(**changes: object) -> dict:
    return {**examples_of("order.placed")["v1-one-item.json"], "event_id": str(uuid.uuid4()), **changes}


def _listed(browser, **params: str) -> str:
    page = browser.get(DEAD_LETTERS, params=params)
    assert page.status_code == 200
    return page.text


def test_messages_catalog_cannot_handle_land_in_its_dead_letters_and_the_next_order_goes_through(
    gateway, staff, stack, customer, browser
):
    kettle = create_orderable_product(gateway, staff, stack, on_hand=10)
    malformed = _order_placed(items=[{"product_id": kettle["id"], "quantity": "lots"}])
    unknown = _order_placed(type="order.teleported")
    newer = _order_placed(version=2, items=[{"product_id": kettle["id"], "quantity": 3}])

    for message in (malformed, unknown, newer):
        deliver_again(stack, message, queue="catalog", producer="orders")
    # Behind them in the same queue: a real order, which the worker must still reserve.
    order_id = place_order(gateway, customer, [(kettle["id"], 2)]).json()["id"]

    wait_for_status(gateway, customer, order_id, "confirmed")
    assert stock(gateway, staff, kettle["id"])["reserved"] == 2
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
    for message, reason in (
        (malformed, "invalid_payload"),
        (unknown, "unknown_type"),
        (newer, "newer_version"),
    ):
        eventually(
            lambda message=message, reason=reason: message["event_id"] in _listed(browser, reason=reason)
        )
    found = _listed(browser, q=malformed["event_id"])
    assert "Invalid payload" in found
    assert '<td class="field-queue">catalog</td>' in found


def test_staff_replay_a_dead_letter_from_the_admin_and_see_it_fail_again_with_its_error(stack, browser):
    malformed = _order_placed(customer_id="seventeen")
    deliver_again(stack, malformed, queue="catalog")
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
    listed = eventually(
        lambda: re.search(r'name="_selected_action" value="(\d+)"', _listed(browser, q=malformed["event_id"]))
    )

    replayed = browser.post(
        DEAD_LETTERS,
        data={
            "csrfmiddlewaretoken": browser.cookies["catalog_csrftoken"],
            "action": "replay",
            "_selected_action": listed.group(1),
        },
        headers={"Referer": f"{stack.gateway_url}{DEAD_LETTERS}", "Origin": stack.gateway_url},
        follow_redirects=True,
    )

    assert replayed.status_code == 200
    assert "1 dead letter(s) failed again" in replayed.text
    detail = browser.get(f"{DEAD_LETTERS}{listed.group(1)}/change/")
    assert "&#x27;seventeen&#x27; is not of type &#x27;integer&#x27;" in detail.text
