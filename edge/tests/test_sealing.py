"""Secrets sealed for the road: the reset link in its event, opened only with the seal keys."""

import copy
import json

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from edge.events import InvalidEvent, PasswordResetRequested, event_from_message
from edge.events.contracts import examples_of
from edge.sealing import SealBroken, seal, unseal
from edge.testing import TEST_SEAL_KEY

LINK = "https://shop.example/password-reset/MTc/cz8k1h-5b0f3c8e2a1d9f7e6b4c/"


def test_a_sealed_value_opens_to_itself_and_shows_nothing_of_it():
    sealed = seal(LINK)

    assert "password-reset" not in sealed
    assert unseal(sealed) == LINK


def test_a_value_sealed_with_the_previous_key_still_opens_after_a_new_key_is_put_first(settings):
    sealed_before = seal(LINK)
    settings.EDGE = {**settings.EDGE, "SEAL_KEYS": [Fernet.generate_key().decode(), TEST_SEAL_KEY]}

    assert unseal(sealed_before) == LINK


@pytest.mark.parametrize(
    "sealed",
    [Fernet(Fernet.generate_key()).encrypt(LINK.encode()).decode(), "gAAAAAnot-a-token", ""],
    ids=["another-key", "garbage", "empty"],
)
def test_a_value_no_key_opens_is_refused(sealed):
    with pytest.raises(SealBroken):
        unseal(sealed)


def test_without_keys_a_service_cannot_seal(settings):
    settings.EDGE = {**settings.EDGE, "SEAL_KEYS": []}

    with pytest.raises(ImproperlyConfigured):
        seal(LINK)


def test_the_reset_link_travels_sealed_and_arrives_open():
    event = PasswordResetRequested(user_id=17, email="ann@example.com", reset_url=LINK)

    message = json.loads(json.dumps(event.to_message()))

    assert LINK not in json.dumps(message)
    assert event_from_message(message).reset_url == LINK


def test_a_reset_event_whose_link_was_sealed_elsewhere_is_refused_for_the_dead_letters():
    message = copy.deepcopy(examples_of(PasswordResetRequested.type)["v2-link.json"])
    message["reset_url"] = Fernet(Fernet.generate_key()).encrypt(LINK.encode()).decode()

    with pytest.raises(InvalidEvent, match="seal keys"):
        event_from_message(message)


def test_a_version_1_message_still_on_its_way_is_read_with_its_link_in_clear():
    message = examples_of(PasswordResetRequested.type)["v1-link.json"]

    assert event_from_message(message).reset_url == message["reset_url"]
