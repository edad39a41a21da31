"""Staff alerts: a dead letter raises one, through the outbox in a producer of the contract; a dead
alert raises none, so that alerts never feed on themselves."""

import logging

import pytest
from celery import current_app
from django.db import transaction

from edge.alerts import staff_alert_raise
from edge.events import StaffAlertKind, StaffAlertRaised, UserRegistered
from edge.messaging.models import DeadLetter, OutboxMessage
from edge.messaging.tasks import handle_event
from edge.testing import signed_by_producer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _in_a_worker(_celery_eager):
    current_app.conf.task_eager_propagates = False


@pytest.fixture
def as_orders(settings):
    """This service plays orders, a producer of staff.alert_raised."""
    settings.SERVICE_NAME = "orders"


def _deliver_unknown(message_type: str = "user.teleported") -> None:
    message = {**UserRegistered(user_id=1, email="ann@example.com").to_message(), "type": message_type}
    handle_event.delay(message, **signed_by_producer(message, "auth")).get()


def _alerts() -> list[dict]:
    return [row.payload for row in OutboxMessage.objects.filter(event_type=StaffAlertRaised.type)]


def test_a_dead_letter_raises_a_staff_alert_that_links_to_it(as_orders):
    _deliver_unknown()

    dead = DeadLetter.objects.get()
    [alert] = _alerts()
    assert alert["kind"] == "dead_letter"
    assert alert["service"] == "orders"
    assert alert["subject"] == "Dead letter in orders: user.teleported (Unknown type)"
    assert "Unknown event type" in alert["detail"]
    assert (alert["object_type"], alert["object_id"]) == ("deadletter", str(dead.pk))
    assert alert["link"] == f"/admin/edge/messaging/deadletter/{dead.pk}/change/"


def test_a_dead_staff_alert_raises_no_alert_of_itself(as_orders):
    message = StaffAlertRaised(kind="dead_letter", service="catalog", subject="Dead letter").to_message()

    # orders has no handler for it: it is dead-lettered as unknown to this service.
    handle_event.delay(message, **signed_by_producer(message, "catalog")).get()

    assert DeadLetter.objects.get().event_type == StaffAlertRaised.type
    assert _alerts() == []


def test_a_dead_letter_is_kept_when_its_alert_cannot_be_raised(caplog):
    # "edge" is neither a producer nor the subscriber of the alerts.
    with caplog.at_level(logging.ERROR, logger="edge.alerts"):
        _deliver_unknown()

    assert DeadLetter.objects.count() == 1
    assert _alerts() == []
    assert "staff alert of a dead letter failed" in caplog.text


def test_an_alert_subject_is_cut_to_the_contracts_length(as_orders):
    with transaction.atomic():
        alert = staff_alert_raise(kind=StaffAlertKind.OUT_OF_STOCK, subject="x" * 500)

    assert len(alert.subject) == 200
    assert _alerts()[0]["subject"] == "x" * 200
