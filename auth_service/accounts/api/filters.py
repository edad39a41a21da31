"""Filters of the staff's user list."""

from django_filters import rest_framework as filters

from accounts.models import User
from edge.filters import StrictBooleanFilter


class UserFilter(filters.FilterSet):
    # django-filter's BooleanFilter drops a value it cannot read (?is_staff=maybe lists everyone).
    is_active = StrictBooleanFilter()
    is_staff = StrictBooleanFilter()

    class Meta:
        model = User
        fields = ["is_active", "is_staff"]
