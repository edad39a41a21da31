"""edge.permissions: who may call a view, the same in every service's API."""

from types import SimpleNamespace

import pytest

from edge.authentication import TokenUser
from edge.permissions import (
    IsStaff,
    StaffWithModelPermission,
    StaffWithModelPermissionOrReadOnly,
)
from tests.helpers import token_user
from tests.shop.models import Greeting

CUSTOMER: dict = {"is_staff": False}
STAFF_WITHOUT_ROLES: dict = {"is_staff": True}
SUPPORT: dict = {"is_staff": True, "roles": ("support",)}
SUPERUSER: dict = {"is_staff": True, "is_superuser": True}


def view(action: str | None) -> SimpleNamespace:
    return SimpleNamespace(action=action, get_queryset=lambda: Greeting.objects.all())


def allowed(permission: type, method: str, who: dict | None, action: str | None = None) -> bool:
    request = SimpleNamespace(method=method, user=token_user(**who) if who is not None else None)
    return permission().has_permission(request, view(action))


@pytest.mark.parametrize(
    ("method", "who", "expected"),
    [("GET", CUSTOMER, False), ("GET", STAFF_WITHOUT_ROLES, True), ("POST", STAFF_WITHOUT_ROLES, True)],
)
def test_is_staff_asks_for_staff_alone(method, who, expected):
    assert allowed(IsStaff, method, who) is expected


@pytest.mark.parametrize(
    ("method", "action", "who", "expected"),
    [
        ("GET", "list", None, True),
        ("GET", "list", CUSTOMER, True),
        ("POST", "create", CUSTOMER, False),
        # Being staff is not enough to write: the role must give the permission.
        ("POST", "create", STAFF_WITHOUT_ROLES, False),
        ("PATCH", "partial_update", SUPPORT, False),
        ("POST", "create", SUPERUSER, True),
        ("DELETE", "destroy", SUPERUSER, True),
    ],
)
def test_anyone_reads_and_a_write_needs_the_permission_of_its_action(method, action, who, expected):
    assert allowed(StaffWithModelPermissionOrReadOnly, method, who, action) is expected


@pytest.mark.parametrize(
    ("action", "permission_granted", "expected"),
    [
        ("create", "shop.add_greeting", True),
        ("create", "shop.change_greeting", False),
        ("partial_update", "shop.change_greeting", True),
        # An action of its own (shipping, deactivating) changes the object.
        ("ship", "shop.change_greeting", True),
        ("ship", "shop.add_greeting", False),
        ("destroy", "shop.delete_greeting", True),
        ("destroy", "shop.change_greeting", False),
    ],
)
def test_the_action_says_which_model_permission_a_write_needs(
    monkeypatch, action, permission_granted, expected
):
    monkeypatch.setattr(TokenUser, "get_all_permissions", lambda self, obj=None: {permission_granted})
    method = "PATCH" if action == "partial_update" else "DELETE" if action == "destroy" else "POST"

    assert allowed(StaffWithModelPermission, method, STAFF_WITHOUT_ROLES, action) is expected


def test_staff_read_where_reads_are_not_public():
    assert allowed(StaffWithModelPermission, "GET", STAFF_WITHOUT_ROLES, "stock") is True
    assert allowed(StaffWithModelPermission, "GET", CUSTOMER, "stock") is False
