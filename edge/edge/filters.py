"""Query filters every service's lists share; a malformed value is a 400 that names the filter."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

BOOLEAN_CHOICES = [("true", "true"), ("false", "false"), ("1", "1"), ("0", "0")]


# The words it takes, as the schema says them (a boolean there would promise True and False).
@extend_schema_field({"type": "string", "enum": [value for value, _ in BOOLEAN_CHOICES]})
class StrictBooleanFilter(filters.TypedChoiceFilter):
    """``true``/``false`` (or 1/0); django-filter's BooleanFilter ignores ``?in_stock=maybe``."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(choices=BOOLEAN_CHOICES, coerce=lambda value: value in ("true", "1"), **kwargs)
