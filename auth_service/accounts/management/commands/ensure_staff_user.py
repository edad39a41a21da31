"""Creates a staff superuser with the given email and password, or resets an existing one's password."""

from typing import Any

from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.services import user_password_set, user_tokens_revoke_all


class Command(BaseCommand):
    help = "Ensure a staff superuser exists with this email and password (idempotent)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", required=True)

    def handle(self, *args: Any, email: str, password: str, **options: Any) -> None:
        user, created = User.objects.get_or_create(
            email=User.objects.normalize_email(email),
            defaults={"is_staff": True, "is_superuser": True, "full_name": "Demo Staff"},
        )
        if not (user.is_staff and user.is_superuser and user.is_active):
            user.is_staff = user.is_superuser = user.is_active = True
            user.save(update_fields=["is_staff", "is_superuser", "is_active"])
            user_tokens_revoke_all(user=user)
        # Only when it differs: a restart of the stack keeps the staff's sessions.
        if not user.check_password(password):
            user_password_set(user=user, password=password)
        self.stdout.write(f"{'Created' if created else 'Updated'} staff user {user.email}")
