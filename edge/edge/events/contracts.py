"""The event contracts as data, after sentry-kafka-schemas: a JSON Schema per event type and version
(``schemas/<type>/v<version>.json``) beside example payloads (``examples/<type>/v<version>-*.json``).

The schemas are what every other language or tool can read; the classes in ``edge.events`` are
how Python code builds and reads the same messages, and a test keeps the two in step.
"""

import json
from functools import cache
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

SCHEMAS = files(__package__) / "schemas"
EXAMPLES = files(__package__) / "examples"


def schema_file(event_type: str, version: int) -> Traversable:
    return SCHEMAS / event_type / f"v{version}.json"


def schema_for(event_type: str, version: int) -> dict[str, Any] | None:
    """The schema of this type and version, or None when there is none."""
    path = schema_file(event_type, version)
    return json.loads(path.read_text()) if path.is_file() else None


@cache
def validator_for(event_type: str, version: int) -> Draft202012Validator | None:
    """The compiled validator of this type and version, built once per process."""
    schema = schema_for(event_type, version)
    if schema is None:
        return None
    Draft202012Validator.check_schema(schema)
    # No format checker: "format" stays an annotation, as the 2020-12 draft has it. The parse
    # into the event class checks the UUID and the timestamp, at no cost to every other string.
    return Draft202012Validator(schema)


def payload_error(validator: Draft202012Validator, message: dict[str, Any]) -> str | None:
    """What is wrong with the message, said as one sentence with its place; None when it is valid."""
    if validator.is_valid(message):
        return None
    # The slower search for the error that says most runs only for an invalid message.
    error = best_match(validator.iter_errors(message))
    where = "/".join(str(part) for part in error.absolute_path)
    return f"{error.message} (at {where})" if where else error.message


def examples_of(event_type: str) -> dict[str, dict[str, Any]]:
    """The example payloads of this type, by file name."""
    folder = EXAMPLES / event_type
    if not folder.is_dir():
        return {}
    return {
        path.name: json.loads(path.read_text())
        for path in sorted(folder.iterdir(), key=lambda path: path.name)
        if path.name.endswith(".json")
    }
