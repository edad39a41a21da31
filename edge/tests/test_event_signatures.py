"""A service handles an event only when one of the producers its contract names signed it: an
unsigned, forged or altered message, or one signed by a service that may not send that type,
goes to the dead letters and nothing is handled, on delivery and on replay alike."""

import pytest
from celery import current_app

from edge.events import UserRegistered
from edge.messaging.models import DeadLetter, InboxMessage
from edge.messaging.services import dead_letter_replay
from edge.messaging.signing import key_pair, message_sign, public_key_of, signature_check
from edge.messaging.tasks import handle_event
from edge.testing import TEST_EVENT_SIGNING_KEY, TEST_EVENT_VERIFY_KEY, signed_by_producer
from tests.shop.models import Greeting

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _dead_letters_as_in_a_worker(_celery_eager):
    current_app.conf.task_eager_propagates = False


def _registered(email: str = "ann@example.com") -> dict:
    return UserRegistered(user_id=1, email=email, full_name="Ann").to_message()


def _refused(message: dict, **signature: object) -> DeadLetter:
    assert handle_event.delay(message, **signature).get() is False
    assert not Greeting.objects.exists()
    assert not InboxMessage.objects.exists()
    return DeadLetter.objects.get()


def test_an_unsigned_message_is_dead_lettered_and_not_handled():
    dead = _refused(_registered())

    assert dead.reason == DeadLetter.Reason.UNSIGNED
    assert dead.attempts == 1
    assert "carries no signature" in dead.error


def test_a_message_signed_with_a_key_no_producer_holds_is_dead_lettered():
    outsider_key, _ = key_pair()
    message = _registered()

    dead = _refused(message, **message_sign(message, producer="auth", key=outsider_key).task_kwargs)

    assert dead.reason == DeadLetter.Reason.BAD_SIGNATURE
    assert dead.producer == "auth"
    assert "not 'auth''s over this message" in dead.error


def test_a_message_altered_after_it_was_signed_is_dead_lettered():
    message = _registered()
    signature = signed_by_producer(message)

    dead = _refused({**message, "email": "mallory@example.com"}, **signature)

    assert dead.reason == DeadLetter.Reason.BAD_SIGNATURE


def test_a_message_signed_by_a_service_that_may_not_send_its_type_is_dead_lettered():
    message = _registered()
    # catalog's own key and signature, but user.registered is auth's to send.
    dead = _refused(message, **signed_by_producer(message, "catalog"))

    assert dead.reason == DeadLetter.Reason.NOT_A_PRODUCER
    assert dead.producer == "catalog"
    assert "'catalog' may not send 'user.registered'; its producers are auth" in dead.error


def test_a_message_signed_as_a_service_whose_key_this_service_lacks_is_dead_lettered(settings):
    settings.EDGE = {**settings.EDGE, "EVENT_VERIFY_KEYS": [f"orders={TEST_EVENT_VERIFY_KEY}"]}

    message = _registered()

    dead = _refused(message, **signed_by_producer(message))

    assert dead.reason == DeadLetter.Reason.BAD_SIGNATURE
    assert "whose public key this service does not hold" in dead.error


def test_a_message_its_producer_signed_is_handled():
    message = _registered()

    assert handle_event.delay(message, **signed_by_producer(message)).get() is True

    assert Greeting.objects.filter(email="ann@example.com").exists()
    assert not DeadLetter.objects.exists()


def test_a_replayed_unsigned_dead_letter_is_refused_again():
    dead = _refused(_registered())

    assert dead_letter_replay(dead_letter=dead) is False

    dead.refresh_from_db()
    assert (dead.reason, dead.replays, dead.replayed_at) == (DeadLetter.Reason.UNSIGNED, 1, None)
    assert not Greeting.objects.exists()


def test_a_dead_letter_from_a_producer_whose_key_was_missing_is_handled_by_a_replay_once_it_is_there(
    settings,
):
    everyone = settings.EDGE["EVENT_VERIFY_KEYS"]
    settings.EDGE = {**settings.EDGE, "EVENT_VERIFY_KEYS": []}
    message = _registered()
    dead = _refused(message, **signed_by_producer(message))
    settings.EDGE = {**settings.EDGE, "EVENT_VERIFY_KEYS": everyone}

    assert dead_letter_replay(dead_letter=dead) is True

    assert Greeting.objects.filter(email="ann@example.com").exists()


def test_both_keys_of_a_producer_verify_while_it_rotates(settings):
    new_key, new_public = key_pair()
    settings.EDGE = {
        **settings.EDGE,
        "EVENT_VERIFY_KEYS": [f"auth={TEST_EVENT_VERIFY_KEY}", f"auth={new_public}"],
    }
    message = _registered()

    for key in (TEST_EVENT_SIGNING_KEY, new_key):
        signed = message_sign(message, producer="auth", key=key)
        signature_check(message=signed.message, producer=signed.producer, signature=signed.signature)

    assert public_key_of(new_key) == new_public
