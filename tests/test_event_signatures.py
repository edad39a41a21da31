"""Someone who reaches the broker but holds no producer's key cannot make a service act: a
message on notify's queue that orders did not sign is dead-lettered and no email goes out."""

import uuid

import pytest

from devstack.stack import DEMO_STAFF_EMAIL
from edge.events.contracts import examples_of
from tests.support import DEMO_STAFF_PASSWORD, deliver_again, eventually, log_in, send_as_outsider

DEAD_LETTERS = "/admin/notify/messaging/deadletter/"


def _order_confirmed() -> dict:
    return {
        **examples_of("order.confirmed")["v1-euro.json"],
        "event_id": str(uuid.uuid4()),
        "customer_email": f"forged-{uuid.uuid4().hex[:10]}@example.com",
    }


@pytest.mark.parametrize(
    ("signed_by", "reason"),
    [(None, "unsigned"), ("catalog", "not_a_producer")],
    ids=["without-a-key", "signed-by-a-service-that-is-no-producer"],
)
def test_an_order_event_on_notifys_queue_not_signed_by_orders_is_dead_lettered_and_no_email_goes_out(
    stack, mail, browser, signed_by, reason
):
    forged = _order_confirmed()

    send_as_outsider(stack, forged, queue="notify", signed_by=signed_by)

    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
    # Listed among notify's dead letters with its reason: the worker is done with it.
    eventually(
        lambda: (
            forged["event_id"]
            in browser.get(DEAD_LETTERS, params={"q": forged["event_id"], "reason": reason}).text
        )
    )
    assert mail.to(forged["customer_email"]) == []
    # The same event as orders signs it is handled: the refused one left no inbox row behind
    # that would have made this one a repeat, and this is the only email.
    deliver_again(stack, forged, queue="notify")
    eventually(lambda: mail.to(forged["customer_email"]), timeout=30)
    assert len(mail.to(forged["customer_email"])) == 1
