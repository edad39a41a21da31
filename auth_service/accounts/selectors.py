"""Reads of the accounts app."""

from django.contrib.auth.tokens import default_token_generator
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from accounts.models import User


def user_get(*, user_id: int) -> User:
    return get_object_or_404(User, pk=user_id, is_active=True)


def user_list() -> QuerySet[User]:
    return User.objects.order_by("-date_joined", "-id")


def user_for_password_reset(*, uid: str, token: str) -> User | None:
    """The active user a reset link was made for, while its token is valid; else None."""
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user
