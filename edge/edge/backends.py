"""The authentication backend of every service: permissions from the staff roles of the token."""

from typing import Any

from django.contrib.auth.backends import BaseBackend

from edge.roles import role_permissions


class RolePermissionBackend(BaseBackend):
    """Permissions from the roles of the token the user came with (``token_roles``, set by
    ``edge.users.user_for_claims`` and ``edge.authentication.TokenUser``), for active staff.

    It authenticates nobody: the token did. A user without a token's roles (one loaded from the
    database) holds nothing from roles.
    """

    def get_all_permissions(self, user_obj: Any, obj: object = None) -> set[str]:
        if obj is not None or not (user_obj.is_active and user_obj.is_staff):
            return set()
        return set(role_permissions(getattr(user_obj, "token_roles", ())))

    def has_module_perms(self, user_obj: Any, app_label: str) -> bool:
        return any(
            permission.startswith(f"{app_label}.") for permission in self.get_all_permissions(user_obj)
        )
