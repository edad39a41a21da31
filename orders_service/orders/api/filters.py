"""Filters of the order list; a malformed value is a 400 that names the filter."""

from datetime import UTC, datetime

import django_filters
from django.core.exceptions import ValidationError
from django_filters.fields import IsoDateTimeField

from orders.models import Order

MOMENT_OUT_OF_RANGE = "Enter a moment between the years 1 and 9999 in UTC."


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 moment, handed to the query in UTC.

    Python takes offsets up to ±23:59 and Postgres only up to ±15:59, so the moment goes to the
    database in UTC; one that UTC puts outside the years 1 to 9999 is a 400, not the 500 of an
    overflow. Sent empty (``?created_after=``) it is no moment either: a 400, where django-filter
    would quietly drop the filter.
    """

    default_error_messages = {"out_of_range": MOMENT_OUT_OF_RANGE}

    def to_python(self, value: object) -> datetime | None:
        if value == "":
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        moment = super().to_python(value)
        if moment is None:
            return None
        try:
            return moment.astimezone(UTC)
        except OverflowError as error:
            raise ValidationError(self.error_messages["out_of_range"], code="out_of_range") from error


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UTCDateTimeField


class OrderFilter(django_filters.FilterSet):
    created_after = UTCDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = UTCDateTimeFilter(field_name="created_at", lookup_expr="lt")
    customer_email = django_filters.CharFilter(lookup_expr="iexact")

    class Meta:
        model = Order
        fields = ["status", "created_after", "created_before", "customer_email"]
