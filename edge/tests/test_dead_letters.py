"""Messages a service cannot handle go to its dead letters with their reason, never round and
round the queue; staff list them in the admin and replay them through the handler."""

import pytest
from celery import current_app
from django.db import DatabaseError, transaction

from edge.events import InvalidEvent, OrderPlaced, UserRegistered
from edge.messaging.models import DeadLetter, InboxMessage, OutboxMessage
from edge.messaging.services import dead_letter_record, event_retry_delay, publish
from edge.messaging.tasks import handle_event
from edge.testing import signed_by_producer
from tests.shop.models import Greeting

pytestmark = pytest.mark.django_db


def _registered(email: str = "ann@example.com") -> dict:
    return UserRegistered(user_id=1, email=email, full_name="Ann").to_message()


@pytest.fixture(autouse=True)
def _retries_run_as_in_a_worker(_celery_eager):
    # Eager Celery raises a retry to the caller when it propagates errors; a worker delivers the
    # message again instead (here at once, the countdown skipped).
    current_app.conf.task_eager_propagates = False


def _deliver(message: object, producer: str = "auth") -> bool:
    """The message as a worker runs it from the service's queue, signed by ``producer``; an
    error that ends it is raised."""
    return handle_event.delay(message, **signed_by_producer(message, producer)).get()


def _signed(message: dict) -> dict:
    """A dead letter's message with the signature it arrived with."""
    return {"message": message, **signed_by_producer(message)}


def test_a_message_of_an_unknown_type_is_dead_lettered_at_once():
    message = {**_registered(), "type": "user.teleported"}

    assert _deliver(message) is False

    dead = DeadLetter.objects.get()
    assert dead.reason == DeadLetter.Reason.UNKNOWN_TYPE
    assert dead.event_type == "user.teleported"
    assert dead.event_id == message["event_id"]
    assert dead.message == message
    assert dead.attempts == 1
    assert dead.queue == "edge"
    assert "Unknown event type: 'user.teleported'" in dead.error
    assert not InboxMessage.objects.exists()


def test_an_event_this_service_has_no_handler_for_is_dead_lettered_as_unknown():
    message = OrderPlaced(
        order_id=1, customer_id=1, customer_email="ann@example.com", items=[{"product_id": 1, "quantity": 1}]
    ).to_message()

    _deliver(message, producer="orders")

    dead = DeadLetter.objects.get()
    assert dead.reason == DeadLetter.Reason.UNKNOWN_TYPE
    assert "no handler for 'order.placed'" in dead.error


def test_a_message_of_a_newer_version_is_dead_lettered_at_once():
    _deliver({**_registered(), "version": 2})

    dead = DeadLetter.objects.get()
    assert dead.reason == DeadLetter.Reason.NEWER_VERSION
    assert dead.attempts == 1
    assert "user.registered version 2 is newer" in dead.error
    assert not Greeting.objects.exists()


def test_an_invalid_payload_is_dead_lettered_at_once_with_what_is_wrong():
    _deliver({**_registered(), "user_id": "one"})

    dead = DeadLetter.objects.get()
    assert dead.reason == DeadLetter.Reason.INVALID_PAYLOAD
    assert dead.attempts == 1
    assert "'one' is not of type 'integer' (at user_id)" in dead.error
    assert not Greeting.objects.exists()


def test_a_message_that_is_not_even_an_object_is_dead_lettered():
    _deliver("hello")

    dead = DeadLetter.objects.get()
    assert dead.reason == DeadLetter.Reason.INVALID_PAYLOAD
    assert dead.message == "hello"
    assert dead.event_id == dead.event_type == ""


def test_a_failing_handler_is_retried_a_bounded_number_of_times_then_dead_lettered(settings):
    settings.EDGE = {**settings.EDGE, "EVENT_MAX_RETRIES": 3}

    assert _deliver(_registered("fail@example.com")) is False

    dead = DeadLetter.objects.get()
    assert dead.reason == DeadLetter.Reason.RETRIES_EXHAUSTED
    assert dead.attempts == 4
    assert dead.error == "RuntimeError: the handler failed"
    assert not InboxMessage.objects.exists()


def test_a_dead_letter_that_cannot_be_written_keeps_its_message_coming_back(monkeypatch):
    record = DeadLetter.objects.create
    outage = iter([DatabaseError("the database is down")])

    def create_unless_down(**fields: object) -> DeadLetter:
        for failure in outage:
            raise failure
        return record(**fields)

    monkeypatch.setattr(DeadLetter.objects, "create", create_unless_down)

    _deliver({**_registered(), "version": 2})

    dead = DeadLetter.objects.get()
    assert dead.reason == DeadLetter.Reason.NEWER_VERSION
    assert dead.attempts == 2


def test_a_handler_that_succeeds_leaves_no_dead_letter():
    assert _deliver(_registered()) is True

    assert Greeting.objects.filter(email="ann@example.com").exists()
    assert not DeadLetter.objects.exists()


@pytest.mark.parametrize("retries", range(12))
def test_retry_delays_grow_exponentially_up_to_the_maximum_with_jitter(settings, retries):
    settings.EDGE = {
        **settings.EDGE,
        "EVENT_RETRY_BACKOFF_SECONDS": 1.0,
        "EVENT_RETRY_BACKOFF_MAX_SECONDS": 60.0,
    }

    delays = {event_retry_delay(retries=retries) for _ in range(50)}

    assert all(0 <= delay <= min(60.0, 2**retries) for delay in delays)
    assert len(delays) > 1


def test_an_event_that_breaks_its_contract_is_refused_at_publish_in_tests():
    broken = OrderPlaced(order_id=1, customer_id=1, customer_email="ann@example.com", items=[])

    with pytest.raises(InvalidEvent, match=r"\[\] should be non-empty \(at items\)"), transaction.atomic():
        publish(broken)

    assert not OutboxMessage.objects.exists()


def test_the_admin_lists_dead_letters_by_reason_and_finds_one_by_event_id(superuser_admin_client):
    _deliver({**_registered(), "version": 2})
    invalid = {**_registered(), "user_id": "one"}
    _deliver(invalid)

    by_reason = superuser_admin_client.get("/admin/edge/messaging/deadletter/", {"reason": "invalid_payload"})
    by_id = superuser_admin_client.get("/admin/edge/messaging/deadletter/", {"q": invalid["event_id"]})

    assert by_reason.status_code == 200
    assert [dead.reason for dead in by_reason.context["cl"].result_list] == ["invalid_payload"]
    assert [dead.event_id for dead in by_id.context["cl"].result_list] == [invalid["event_id"]]


def test_replaying_a_dead_letter_whose_cause_is_gone_handles_it_once_and_marks_it_replayed(
    superuser_admin_client,
):
    # As if the handler had failed on every delivery during an outage that is over now.
    message = _registered("back@example.com")
    dead = dead_letter_record(
        **_signed(message),
        reason="retries_exhausted",
        error="OperationalError: down",
        queue="edge",
        attempts=9,
    )

    response = superuser_admin_client.post(
        "/admin/edge/messaging/deadletter/", {"action": "replay", "_selected_action": [dead.pk]}, follow=True
    )
    # A second replay finds nothing left to replay: it was handled.
    superuser_admin_client.post(
        "/admin/edge/messaging/deadletter/", {"action": "replay", "_selected_action": [dead.pk]}
    )

    dead.refresh_from_db()
    assert "1 dead letter(s) handled." in response.content.decode()
    assert dead.replayed_at is not None
    assert dead.replays == 1
    assert Greeting.objects.filter(email="back@example.com").count() == 1
    assert InboxMessage.objects.filter(event_id=message["event_id"]).exists()
    unreplayed = superuser_admin_client.get(
        "/admin/edge/messaging/deadletter/", {"replayed_at__isnull": "True"}
    )
    assert list(unreplayed.context["cl"].result_list) == []


def test_a_replay_that_fails_again_keeps_the_dead_letter_with_its_latest_error(superuser_admin_client):
    dead = dead_letter_record(
        **_signed(_registered("fail@example.com")),
        reason="retries_exhausted",
        error="OperationalError: down",
        queue="edge",
        attempts=9,
    )

    response = superuser_admin_client.post(
        "/admin/edge/messaging/deadletter/", {"action": "replay", "_selected_action": [dead.pk]}, follow=True
    )

    dead.refresh_from_db()
    assert "1 dead letter(s) failed again" in response.content.decode()
    assert dead.replayed_at is None
    assert dead.replays == 1
    assert dead.reason == DeadLetter.Reason.RETRIES_EXHAUSTED
    assert dead.error == "RuntimeError: the handler failed"
    assert not Greeting.objects.exists()


def test_replaying_a_message_handled_meanwhile_marks_it_replayed_and_does_nothing_twice(
    superuser_admin_client,
):
    message = _registered("meanwhile@example.com")
    _deliver(message)
    dead = dead_letter_record(
        **_signed(message), reason="retries_exhausted", error="x", queue="edge", attempts=9
    )

    superuser_admin_client.post(
        "/admin/edge/messaging/deadletter/", {"action": "replay", "_selected_action": [dead.pk]}
    )

    dead.refresh_from_db()
    assert dead.replayed_at is not None
    assert Greeting.objects.filter(email="meanwhile@example.com").count() == 1


def test_staff_who_may_only_view_dead_letters_cannot_replay_them(staff_admin_client):
    dead = dead_letter_record(
        **_signed(_registered("viewer@example.com")),
        reason="retries_exhausted",
        error="x",
        queue="edge",
        attempts=9,
    )
    # Support's role gives a view of the dead letters, and no change (tests.shop.roles).
    client = staff_admin_client("support", user_id=11)

    listed = client.get("/admin/edge/messaging/deadletter/")
    client.post("/admin/edge/messaging/deadletter/", {"action": "replay", "_selected_action": [dead.pk]})

    dead.refresh_from_db()
    assert listed.status_code == 200
    assert "Replay selected dead letters" not in listed.content.decode()
    assert dead.replays == 0
    assert not Greeting.objects.exists()


def test_dead_letters_cannot_be_added_by_hand(superuser_admin_client):
    assert superuser_admin_client.get("/admin/edge/messaging/deadletter/add/").status_code == 403
