"""Reads of the accounts app."""

from django.shortcuts import get_object_or_404

from accounts.models import User


def user_get(*, user_id: int) -> User:
    return get_object_or_404(User, pk=user_id, is_active=True)
