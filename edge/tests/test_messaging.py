"""publish() with its outbox, the relay, and handling each event once with the inbox."""

import base64
import contextlib
import json
import threading
import uuid
from datetime import timedelta

import pytest
import redis
from celery import current_app
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from edge.events import UserRegistered
from edge.messaging.models import InboxMessage, OutboxMessage
from edge.messaging.services import event_handle, messages_prune, outbox_relay_pending, publish
from edge.messaging.signing import NotAProducer, signature_check
from edge.testing import TEST_EVENT_VERIFY_KEY
from tests.shop.models import Greeting


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("notify")
    yield client
    client.delete("notify")


def _queued_events(broker) -> list[dict]:
    """The events waiting in notify's queue, as Celery's Redis transport keeps them."""
    messages = [json.loads(raw) for raw in broker.lrange("notify", 0, -1)]
    return [json.loads(base64.b64decode(message["body"]))[0][0] for message in messages]


def _queued_signatures(broker) -> list[dict]:
    """The task arguments beside each queued event: who signed it, and the signature."""
    messages = [json.loads(raw) for raw in broker.lrange("notify", 0, -1)]
    return [json.loads(base64.b64decode(message["body"]))[1] for message in messages]


def _refuse_connection(*args, **kwargs):
    raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_publish_outside_a_transaction_is_refused(transactional_db):
    with pytest.raises(RuntimeError, match=r"transaction\.atomic"):
        publish(UserRegistered(user_id=1, email="a@example.com"))


def test_a_published_event_reaches_each_subscribers_queue_after_commit(
    db, broker, django_capture_on_commit_callbacks
):
    event = UserRegistered(user_id=1, email="a@example.com")

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish(event)
        assert _queued_events(broker) == []

    assert [queued["event_id"] for queued in _queued_events(broker)] == [str(event.event_id)]
    assert OutboxMessage.objects.get(event_id=event.event_id).sent_at is not None


def test_a_published_event_goes_out_signed_by_the_service_that_sent_it(
    db, broker, settings, django_capture_on_commit_callbacks
):
    settings.EDGE = {**settings.EDGE, "EVENT_VERIFY_KEYS": [f"edge={TEST_EVENT_VERIFY_KEY}"]}

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        publish(UserRegistered(user_id=1, email="a@example.com"))

    [event], [signature] = _queued_events(broker), _queued_signatures(broker)
    assert signature["producer"] == "edge"
    # Good as edge's signature; edge is no producer of user.registered, so a consumer refuses it.
    with pytest.raises(NotAProducer):
        signature_check(message=event, **signature)


def test_an_event_whose_transaction_rolls_back_is_never_sent(db, broker, django_capture_on_commit_callbacks):
    def publish_then_roll_back() -> None:
        with contextlib.suppress(ZeroDivisionError), transaction.atomic():
            publish(UserRegistered(user_id=1, email="a@example.com"))
            raise ZeroDivisionError

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        publish_then_roll_back()

    assert callbacks == []
    assert _queued_events(broker) == []
    assert not OutboxMessage.objects.exists()


def test_with_the_broker_down_the_event_waits_in_the_outbox_for_the_relay(
    db, broker, monkeypatch, django_capture_on_commit_callbacks
):
    event = UserRegistered(user_id=1, email="a@example.com")
    with monkeypatch.context() as broker_down:
        broker_down.setattr(current_app, "send_task", _refuse_connection)
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            publish(event)
    message = OutboxMessage.objects.get(event_id=event.event_id)
    assert message.sent_at is None
    assert message.attempts == 1
    assert message.last_error

    OutboxMessage.objects.filter(pk=message.pk).update(created_at=timezone.now() - timedelta(minutes=1))
    assert outbox_relay_pending() == 1

    assert [queued["event_id"] for queued in _queued_events(broker)] == [str(event.event_id)]


def test_the_relay_leaves_fresh_rows_to_the_send_on_commit(db, broker):
    with transaction.atomic():
        publish(UserRegistered(user_id=1, email="a@example.com"))

    assert outbox_relay_pending() == 0
    assert _queued_events(broker) == []


def _unsent_rows_past_the_grace_period(count: int) -> list[str]:
    """Outbox rows as a publisher leaves them when the broker was down: for the relay to send."""
    long_ago = timezone.now() - timedelta(minutes=1)
    events = [UserRegistered(user_id=number, email=f"u{number}@example.com") for number in range(count)]
    OutboxMessage.objects.bulk_create(
        OutboxMessage(event_id=event.event_id, event_type=event.type, payload=event.to_message())
        for event in events
    )
    OutboxMessage.objects.update(created_at=long_ago)
    return sorted(str(event.event_id) for event in events)


@pytest.mark.django_db(transaction=True)
def test_two_relays_draining_the_same_outbox_send_each_row_once(broker):
    expected = _unsent_rows_past_the_grace_period(200)
    both_ready = threading.Barrier(2)
    counts: list[int] = []

    def relay() -> None:
        both_ready.wait(5)
        sent = 0
        # Small batches, so the two relays take turns on the same rows many times over.
        while batch := outbox_relay_pending(limit=5):
            sent += batch
        counts.append(sent)
        connection.close()

    relays = [threading.Thread(target=relay) for _ in range(2)]
    for thread in relays:
        thread.start()
    for thread in relays:
        thread.join(60)

    assert sum(counts) == 200
    assert sorted(queued["event_id"] for queued in _queued_events(broker)) == expected
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()


@pytest.mark.django_db(transaction=True)
def test_a_relay_skips_the_rows_another_relay_holds(broker, monkeypatch):
    expected = _unsent_rows_past_the_grace_period(10)
    send_task = current_app.send_task
    holding, release = threading.Event(), threading.Event()
    first_relay: list[int] = []

    def send_then_wait_in_the_first_relay(*args, **kwargs):
        if threading.current_thread().name == "first relay" and not holding.is_set():
            holding.set()
            release.wait(10)
        return send_task(*args, **kwargs)

    monkeypatch.setattr(current_app, "send_task", send_then_wait_in_the_first_relay)

    def relay_holding_its_batch() -> None:
        first_relay.append(outbox_relay_pending(limit=4))
        connection.close()

    first = threading.Thread(target=relay_holding_its_batch, name="first relay")
    first.start()
    assert holding.wait(10)
    try:
        sent_by_the_second = outbox_relay_pending()
        queued_while_held = len(_queued_events(broker))
    finally:
        release.set()
        first.join(10)

    assert sent_by_the_second == 6
    assert queued_while_held == 6
    assert first_relay == [4]
    assert sorted(queued["event_id"] for queued in _queued_events(broker)) == expected
    assert outbox_relay_pending() == 0


def test_an_event_delivered_twice_is_handled_once(db):
    message = UserRegistered(user_id=1, email="twice@example.com").to_message()

    assert event_handle(message=message) is True
    assert event_handle(message=message) is False

    assert Greeting.objects.filter(email="twice@example.com").count() == 1
    assert InboxMessage.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_redelivery_while_the_first_is_still_running_waits_and_is_handled_once():
    message = UserRegistered(user_id=1, email="racing@example.com").to_message()
    first_inside, release_first = threading.Event(), threading.Event()
    outcomes: list[bool] = []

    def slow_first() -> None:
        with transaction.atomic():
            outcomes.append(event_handle(message=message))
            first_inside.set()
            release_first.wait(5)
        connection.close()

    def redelivery() -> None:
        outcomes.append(event_handle(message=message))
        connection.close()

    first = threading.Thread(target=slow_first)
    first.start()
    assert first_inside.wait(5)
    second = threading.Thread(target=redelivery)
    second.start()
    second.join(0.5)
    still_waiting = second.is_alive()
    release_first.set()
    first.join(5)
    second.join(5)

    assert still_waiting
    assert outcomes == [True, False]
    assert Greeting.objects.filter(email="racing@example.com").count() == 1


def test_a_failing_handler_leaves_no_inbox_row_so_the_retry_runs_it(db):
    message = UserRegistered(user_id=1, email="fail@example.com").to_message()

    with pytest.raises(RuntimeError):
        event_handle(message=message)

    assert not InboxMessage.objects.exists()


def test_pruning_deletes_sent_outbox_and_handled_inbox_rows_past_their_keeping_time(db, settings):
    settings.EDGE = {**settings.EDGE, "OUTBOX_KEEP_SENT_SECONDS": 3600, "INBOX_KEEP_SECONDS": 7200}
    now = timezone.now()
    outbox = {
        name: OutboxMessage.objects.create(
            event_id=event.event_id, event_type=event.type, payload=event.to_message(), sent_at=sent_at
        )
        for name, event, sent_at in [
            ("sent long ago", UserRegistered(user_id=1, email="a@example.com"), now - timedelta(hours=2)),
            ("sent lately", UserRegistered(user_id=2, email="b@example.com"), now - timedelta(minutes=30)),
            ("never sent", UserRegistered(user_id=3, email="c@example.com"), None),
        ]
    }
    OutboxMessage.objects.update(created_at=now - timedelta(days=30))
    handled_long_ago = InboxMessage.objects.create(event_id=uuid.uuid4(), event_type=UserRegistered.type)
    handled_lately = InboxMessage.objects.create(event_id=uuid.uuid4(), event_type=UserRegistered.type)
    InboxMessage.objects.filter(pk=handled_long_ago.pk).update(received_at=now - timedelta(hours=3))
    InboxMessage.objects.filter(pk=handled_lately.pk).update(received_at=now - timedelta(hours=1))

    assert messages_prune() == (1, 1)

    assert set(OutboxMessage.objects.values_list("pk", flat=True)) == {
        outbox["sent lately"].pk,
        outbox["never sent"].pk,
    }
    assert list(InboxMessage.objects.values_list("pk", flat=True)) == [handled_lately.pk]


def test_the_relay_prunes_as_it_runs(db, settings, broker):
    settings.EDGE = {**settings.EDGE, "OUTBOX_KEEP_SENT_SECONDS": 60}
    event = UserRegistered(user_id=1, email="a@example.com")
    OutboxMessage.objects.create(
        event_id=event.event_id,
        event_type=event.type,
        payload=event.to_message(),
        sent_at=timezone.now() - timedelta(minutes=5),
    )

    call_command("relay_outbox", "--once")

    assert not OutboxMessage.objects.exists()


def test_the_relay_touches_its_heartbeat_file_after_a_pass(db, broker, tmp_path):
    heartbeat = tmp_path / "relay-heartbeat"

    call_command("relay_outbox", "--once", "--heartbeat-file", str(heartbeat))

    assert heartbeat.exists()


def test_the_relay_runs_the_services_periodic_jobs(db, settings, broker):
    settings.EDGE = {**settings.EDGE, "RELAY_PERIODIC_JOBS": {"tests.shop.jobs.greet_the_night_shift": 60}}

    call_command("relay_outbox", "--once")

    assert list(Greeting.objects.values_list("email", flat=True)) == ["night-shift@example.com"]


def test_a_failing_periodic_job_does_not_stop_the_relay_sending_events(db, settings, broker, tmp_path):
    settings.EDGE = {
        **settings.EDGE,
        "RELAY_PERIODIC_JOBS": {"tests.shop.jobs.fail": 60, "tests.shop.jobs.greet_the_night_shift": 60},
    }
    heartbeat = tmp_path / "relay-heartbeat"
    with transaction.atomic():
        publish(UserRegistered(user_id=1, email="a@example.com"))
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=1))

    call_command("relay_outbox", "--once", "--heartbeat-file", str(heartbeat))

    assert [queued["email"] for queued in _queued_events(broker)] == ["a@example.com"]
    assert Greeting.objects.filter(email="night-shift@example.com").exists()
    assert heartbeat.exists()
