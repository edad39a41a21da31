"""Creates a staff superuser with the given email and password, or resets an existing one's password."""

from typing import Any

from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import user_access_set, user_create, user_password_set, user_profile_update
from edge.grants import SHELL


class Command(BaseCommand):
    help = "Ensure a staff superuser exists with this email and password (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *args: Any, email: str, password: str, **options: Any) -> None:
        email = User.objects.normalize_email(email)
        user = User.objects.filter(email=email).first()
        created = user is None
        if user is None:
            user = user_profile_update(
                user=user_create(email=email, password=password), full_name="Demo Staff"
            )
        user = user_access_set(user=user, actor=SHELL, is_active=True, is_staff=True, is_superuser=True)
        # Only when it differs: a restart of the stack keeps the staff's sessions.
        if not user.check_password(password):
            user_password_set(user=user, password=password)
        self.stdout.write(f"{'Created' if created else 'Updated'} staff user {user.email}")
