from typing import Any

from django.apps import AppConfig
from django.apps.registry import Apps
from django.db.models.signals import post_migrate


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # As Django creates the permissions of new models after migrate: a role added to the
        # vocabulary is there to grant once the next deployment has migrated.
        post_migrate.connect(_roles_sync, sender=self)


def _roles_sync(*, apps: Apps, using: str, **kwargs: Any) -> None:
    from accounts.services import roles_sync

    try:
        role_model = apps.get_model("accounts", "Role")
    except LookupError:  # migrated back to before roles
        return
    roles_sync(role_model=role_model, using=using)
