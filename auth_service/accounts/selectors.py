"""Reads of the accounts app."""

from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.db.models import Exists, QuerySet
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
