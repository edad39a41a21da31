"""Reads of the accounts app."""

from datetime import datetime
from typing import Any

from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.db.models import Count, Exists, QuerySet
from django.db.models.functions import TruncDate
from django.shortcuts import get_object_or_404
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from accounts.models import RevokedAccessToken, User
from accounts.tokens import email_confirmation_token_generator
from edge.revocation import TokenState, UserState
from edge.tokens import Claims


def user_get(*, user_id: int) -> User:
    return get_object_or_404(User, pk=user_id, is_active=True)


def user_list() -> QuerySet[User]:
    return User.objects.prefetch_related("roles").order_by("-date_joined", "-id")


def sign_ups_per_day(*, since: datetime) -> QuerySet[User, dict[str, Any]]:
    """How many accounts were registered each day since ``since``."""
    return (
        User.objects.filter(date_joined__gte=since)
        .annotate(day=TruncDate("date_joined"))
        .values("day")
        .annotate(sign_ups=Count("pk"))
        .order_by("day")
    )


def accounts_waiting_for_confirmation() -> QuerySet[User]:
    """Active accounts whose owner has not followed the emailed confirmation link yet."""
    return User.objects.filter(is_active=True, email_confirmed_at__isnull=True)


def accounts_inactive() -> QuerySet[User]:
    return User.objects.filter(is_active=False)


def staff_with_access() -> QuerySet[User]:
    """Active staff with what they may do: superuser status, roles, auth's groups and their own
    permissions."""
    return (
        User.objects.filter(is_staff=True, is_active=True)
        .prefetch_related("roles", "groups")
        .annotate(own_permissions=Count("user_permissions"))
        .order_by("-is_superuser", "email")
    )


def user_for_password_reset(*, uid: str, token: str) -> User | None:
    """The active user a reset link was made for, while its token is valid; else None."""
    return _user_for_link(uid=uid, token=token, generator=default_token_generator)


def user_for_email_confirmation(*, uid: str, token: str) -> User | None:
    """The active user a confirmation link was made for, while its token is valid; else None."""
    return _user_for_link(uid=uid, token=token, generator=email_confirmation_token_generator)


def _user_for_link(*, uid: str, token: str, generator: PasswordResetTokenGenerator) -> User | None:
    try:
        user_id = int(force_str(urlsafe_base64_decode(uid)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None or not generator.check_token(user, token):
        return None
    return user


def user_state_of(user: User | None) -> UserState:
    """The standing every service checks tokens against; None is a deleted user."""
    if user is None:
        return UserState(active=False, is_staff=False, is_superuser=False, generation=0)
    return UserState(
        active=user.is_active,
        is_staff=user.is_staff,
        is_superuser=user.is_superuser,
        generation=user.token_generation,
    )


def token_state_get(claims: Claims) -> TokenState:
    """``edge.revocation``'s loader when Redis cannot give a token's state: the database's answer."""
    # One query: a deleted user has no row, and their token is refused whether revoked or not.
    user = (
        User.objects.filter(pk=claims.user_id)
        .annotate(token_revoked=Exists(RevokedAccessToken.objects.filter(jti=claims.jti)))
        .first()
    )
    return TokenState(revoked=bool(user and user.token_revoked), user=user_state_of(user))
