"""The event contracts: a schema and examples for every event, examples that keep their schema and
read as their event, and messages refused with the reason a consumer dead-letters them for."""

import copy
import json
from dataclasses import MISSING, fields

import pytest

from edge.events import (
    EVENT_TYPES,
    InvalidEvent,
    NewerEventVersion,
    UnknownEventType,
    UserRegistered,
    event_from_message,
)
from edge.events.contracts import EXAMPLES, SCHEMAS, examples_of, schema_for, validator_for

# What every message carries besides its event's own fields.
ENVELOPE = {"type", "version", "event_id", "occurred_at", "request_id"}
ENVELOPE_REQUIRED = {"type", "version", "event_id", "occurred_at"}

EVENT_CLASSES = list(EVENT_TYPES.values())
ALL_EXAMPLES = [
    pytest.param(event_type, name, message, id=f"{event_type}/{name}")
    for event_type in EVENT_TYPES
    for name, message in examples_of(event_type).items()
]


def _example(event_type: str) -> dict:
    return copy.deepcopy(next(iter(examples_of(event_type).values())))


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda event_class: event_class.type)
def test_every_event_has_a_schema_for_each_version_and_two_examples_of_the_latest(event_class):
    for version in range(1, event_class.version + 1):
        assert schema_for(event_class.type, version) is not None, f"{event_class.type} v{version}"
    latest = [name for name in examples_of(event_class.type) if name.startswith(f"v{event_class.version}-")]
    assert len(latest) >= 2


def test_no_schema_or_example_is_kept_for_an_event_the_contracts_do_not_name():
    kept = {folder.name for root in (SCHEMAS, EXAMPLES) for folder in root.iterdir() if folder.is_dir()}

    assert kept <= set(EVENT_TYPES)


@pytest.mark.parametrize(("event_type", "name", "message"), ALL_EXAMPLES)
def test_every_example_keeps_its_schema_and_reads_as_its_event(event_type, name, message):
    version = int(name.removeprefix("v").split("-")[0])
    validator_for(event_type, version).validate(message)

    event = event_from_message(message)

    assert type(event) is EVENT_TYPES[event_type]
    assert str(event.event_id) == message["event_id"]
    assert event_from_message(json.loads(json.dumps(event.to_message()))) == event


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda event_class: event_class.type)
def test_each_schema_names_exactly_the_fields_of_its_event_class(event_class):
    schema = schema_for(event_class.type, event_class.version)
    own_fields = [f for f in fields(event_class) if f.name not in ENVELOPE]
    without_default = {f.name for f in own_fields if f.default is MISSING and f.default_factory is MISSING}

    assert set(schema["properties"]) == ENVELOPE | {f.name for f in own_fields}
    assert set(schema["required"]) == ENVELOPE_REQUIRED | without_default
    assert schema["properties"]["type"] == {"const": event_class.type}
    assert schema["properties"]["version"] == {"const": event_class.version}
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("event_class", EVENT_CLASSES, ids=lambda event_class: event_class.type)
def test_every_event_has_subscribers(event_class):
    assert event_class.subscribers


def test_a_message_missing_a_field_is_refused_by_name():
    message = _example(UserRegistered.type)
    del message["email"]

    with pytest.raises(InvalidEvent, match=r"user\.registered.*'email' is a required property"):
        event_from_message(message)


def test_a_wrong_value_deep_in_a_message_is_refused_with_its_place():
    message = _example("order.placed")
    message["items"][0]["quantity"] = "two"

    with pytest.raises(InvalidEvent, match=r"'two' is not of type 'integer' \(at items/0/quantity\)"):
        event_from_message(message)


def test_a_field_no_contract_names_is_refused():
    message = {**_example(UserRegistered.type), "password": "hunter2"}

    with pytest.raises(InvalidEvent, match="'password' was unexpected"):
        event_from_message(message)


@pytest.mark.parametrize(("field", "value"), [("event_id", "not-a-uuid"), ("occurred_at", "yesterday")])
def test_a_malformed_id_or_time_is_refused(field, value):
    message = {**_example(UserRegistered.type), field: value}

    with pytest.raises(InvalidEvent, match=r"Malformed user\.registered event"):
        event_from_message(message)


@pytest.mark.parametrize("message", [["a", "list"], "text", None], ids=["list", "string", "null"])
def test_a_message_that_is_not_an_object_is_refused(message):
    with pytest.raises(InvalidEvent, match="An event is a JSON object"):
        event_from_message(message)


@pytest.mark.parametrize("version", ["1", 0, None, True])
def test_a_version_that_has_no_schema_is_refused(version):
    message = {**_example(UserRegistered.type), "version": version}

    with pytest.raises(InvalidEvent, match=r"user\.registered has no version"):
        event_from_message(message)


def test_an_unknown_event_type_is_refused():
    with pytest.raises(UnknownEventType, match=r"Unknown event type: 'order\.teleported'"):
        event_from_message({**_example("order.placed"), "type": "order.teleported"})


def test_a_version_newer_than_the_contracts_is_refused_as_newer():
    message = {**_example("order.placed"), "version": 2}

    with pytest.raises(NewerEventVersion, match=r"order\.placed version 2 is newer .* \(up to 1\)"):
        event_from_message(message)
