"""Staff who may change users, groups or roles grant nothing they do not hold (edge.grants)."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from edge.grants import (
    PermissionNotHeld,
    RoleNotHeld,
    StaffActor,
    SuperuserOnly,
    group_save,
    roles_grant_check,
    user_grants_set,
)

pytestmark = pytest.mark.django_db

GROUP_EDITOR = StaffActor(
    id=21, is_superuser=False, permissions=frozenset({"auth.view_user", "auth.change_group"})
)


def _permission(codename: str) -> Permission:
    return Permission.objects.get(codename=codename)


def test_a_group_editor_cannot_add_a_permission_they_lack_to_a_group():
    group = Group.objects.create(name="Editors")

    with pytest.raises(PermissionNotHeld) as refused:
        group_save(actor=GROUP_EDITOR, group=group, name="Editors", permissions=[_permission("delete_user")])

    assert refused.value.detail == PermissionNotHeld.message.format(permissions="auth.delete_user")
    assert not group.permissions.exists()


def test_a_group_editor_grants_a_group_what_they_hold():
    group = group_save(
        actor=GROUP_EDITOR, group=Group(), name="Viewers", permissions=[_permission("view_user")]
    )

    assert list(group.permissions.values_list("codename", flat=True)) == ["view_user"]


def test_only_a_superuser_changes_a_superusers_groups():
    boss = get_user_model().objects.create(username="boss", is_staff=True, is_superuser=True)
    group = Group.objects.create(name="Nobody's")

    with pytest.raises(SuperuserOnly):
        user_grants_set(actor=StaffActor(id=1, is_superuser=False), user=boss, groups=[group])


def test_a_superuser_grants_anything():
    group = group_save(
        actor=StaffActor(id=1, is_superuser=True),
        group=Group(),
        name="Everything",
        permissions=Permission.objects.all(),
    )

    assert group.permissions.count() == Permission.objects.count()


def test_staff_grant_only_the_roles_they_hold():
    user_admin = StaffActor(id=3, is_superuser=False, roles=frozenset({"user_admin", "support"}))

    roles_grant_check(actor=user_admin, roles=["support"])
    with pytest.raises(RoleNotHeld) as refused:
        roles_grant_check(actor=user_admin, roles=["support", "fulfilment", "catalog_editor"])

    assert refused.value.detail == RoleNotHeld.message.format(roles="catalog_editor, fulfilment")


def test_a_superuser_grants_any_role():
    roles_grant_check(actor=StaffActor(id=1, is_superuser=True), roles=["catalog_editor"])
