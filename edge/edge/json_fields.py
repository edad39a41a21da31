"""Serializer fields that take from a JSON body only the type the OpenAPI schema documents.

DRF's fields are lenient: a CharField takes 12 as "12", an IntegerField "12" and 12.0, a
BooleanField "yes" and 1, a PrimaryKeyRelatedField "5". That suits HTML forms, whose values are
all text, but the schema promises ``type: string`` (``integer``, ``boolean``), and a JSON client
sending another type has a bug it should hear about: the fuzzing (tests/test_fuzz.py) sends such
bodies and fails on every one accepted. These fields refuse a JSON value of another type with
the field's own ``invalid`` message; a form's values (the browsable API's) pass as before.
"""

from typing import Any, ClassVar

from django.http import QueryDict
from rest_framework import serializers


class JSONTypeMixin:
    """Refuses a value from JSON whose type is not one of ``json_types`` (a bool is no int)."""

    json_types: tuple[type, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if not self._from_form() and not self._of_json_type(data):
            if "incorrect_type" in self.error_messages:
                self.fail("incorrect_type", data_type=type(data).__name__)
            self.fail("invalid")
        return super().to_internal_value(data)

    def _of_json_type(self, data: Any) -> bool:
        if isinstance(data, bool):
            return bool in self.json_types
        return isinstance(data, self.json_types)

    def _from_form(self) -> bool:
        return isinstance(getattr(self.root, "initial_data", None), QueryDict)


class CharField(JSONTypeMixin, serializers.CharField):
    json_types = (str,)


class EmailField(JSONTypeMixin, serializers.EmailField):
    json_types = (str,)


class SlugField(JSONTypeMixin, serializers.SlugField):
    json_types = (str,)


class IntegerField(JSONTypeMixin, serializers.IntegerField):
    json_types = (int,)


class BooleanField(JSONTypeMixin, serializers.BooleanField):
    """From JSON a boolean; from a form "true" or "false", the words OpenAPI gives a boolean in a
    form (the browsable API's checkbox sends "true"), not DRF's "0", "yes" or "on"."""

    json_types = (bool,)
    FORM_VALUES: ClassVar[dict[str, bool]] = {"true": True, "false": False}

    def to_internal_value(self, data: Any) -> bool:
        if self._from_form():
            if data not in self.FORM_VALUES:
                self.fail("invalid")
            return self.FORM_VALUES[data]
        return super().to_internal_value(data)


class PrimaryKeyRelatedField(JSONTypeMixin, serializers.PrimaryKeyRelatedField):
    json_types = (int,)
