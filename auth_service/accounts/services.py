"""Writes of the accounts app: registering users and issuing their tokens."""

from django.db import transaction
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from edge.events import UserRegistered
from edge.messaging.services import publish


@transaction.atomic
def user_register(*, email: str, password: str, full_name: str = "") -> User:
    user = User.objects.create_user(email=email, password=password, full_name=full_name)
    # The outbox row commits with the user: no welcome email for a registration that rolled back.
    publish(UserRegistered(user_id=user.pk, email=user.email, full_name=user.full_name))
    return user


def token_pair_for(user: User) -> RefreshToken:
    """A refresh token whose ``access_token`` carries the claims every service reads."""
    refresh = RefreshToken.for_user(user)
    refresh["email"] = user.email
    refresh["is_staff"] = user.is_staff
    refresh["is_superuser"] = user.is_superuser
    return refresh
