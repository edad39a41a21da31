"""Staff who may change users or groups in a service's admin grant nothing they do not hold."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission

from edge.grants import PermissionNotHeld, StaffActor, SuperuserOnly, group_save, user_grants_set

GROUPS = "/admin/edge/auth/group/"
USERS = "/admin/edge/auth/user/"
EDITOR_ID = 21

pytestmark = pytest.mark.django_db


def _permission(codename: str) -> Permission:
    return Permission.objects.get(codename=codename)


@pytest.fixture
def editor_client(client, make_token):
    """A staff member (not a superuser) allowed to view and change users and groups, and no more."""
    client.cookies["access_token"] = make_token(EDITOR_ID, is_staff=True)
    client.get("/admin/edge/")  # makes the shadow user, whose id is the token's
    get_user_model().objects.get(pk=EDITOR_ID).user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user", "view_group", "change_group"])
    )
    return client


@pytest.fixture
def editor(editor_client):
    return get_user_model().objects.get(pk=EDITOR_ID)


def _refusal(response) -> list[str]:
    return response.context["adminform"].form.non_field_errors()


def test_a_group_editor_cannot_add_a_permission_they_lack_to_their_own_group(editor_client, editor):
    group = Group.objects.create(name="Editors")
    group.user_set.add(editor)

    response = editor_client.post(
        f"{GROUPS}{group.pk}/change/", {"name": "Editors", "permissions": [_permission("delete_user").pk]}
    )

    assert response.status_code == 200
    assert _refusal(response) == [PermissionNotHeld.message.format(permissions="auth.delete_user")]
    assert not group.permissions.exists()


def test_a_group_editor_grants_a_group_what_they_hold(editor_client):
    group = Group.objects.create(name="Viewers")

    response = editor_client.post(
        f"{GROUPS}{group.pk}/change/", {"name": "Viewers", "permissions": [_permission("view_user").pk]}
    )

    assert response.status_code == 302
    assert list(group.permissions.values_list("codename", flat=True)) == ["view_user"]


def test_a_user_editor_cannot_give_themselves_a_permission_they_lack(editor_client, editor):
    response = editor_client.post(
        f"{USERS}{editor.pk}/change/",
        {"user_permissions": [_permission("delete_group").pk, _permission("change_user").pk]},
    )

    assert response.status_code == 200
    assert _refusal(response) == [PermissionNotHeld.message.format(permissions="auth.delete_group")]
    assert not editor.user_permissions.filter(codename="delete_group").exists()


def test_a_user_editor_cannot_join_a_group_that_holds_more_than_they_do(editor_client, editor):
    admins = Group.objects.create(name="Admins")
    admins.permissions.add(_permission("delete_user"))
    held = list(editor.user_permissions.values_list("pk", flat=True))

    response = editor_client.post(
        f"{USERS}{editor.pk}/change/", {"groups": [admins.pk], "user_permissions": held}
    )

    assert response.status_code == 200
    assert _refusal(response) == [PermissionNotHeld.message.format(permissions="auth.delete_user")]
    assert not editor.groups.exists()


def test_a_shadow_users_identity_and_superuser_status_follow_the_token_not_the_form(editor_client, editor):
    held = list(editor.user_permissions.values_list("pk", flat=True))

    editor_client.post(
        f"{USERS}{editor.pk}/change/",
        {"is_superuser": "on", "is_staff": "on", "email": "me@elsewhere.example", "user_permissions": held},
    )

    editor.refresh_from_db()
    assert (editor.is_superuser, editor.email) == (False, f"user{EDITOR_ID}@example.com")


def test_the_users_page_has_no_password_form_and_adds_nobody(editor_client, editor):
    assert editor_client.get(f"{USERS}{editor.pk}/password/").status_code in (302, 404)
    assert editor_client.get(f"{USERS}add/").status_code == 403


def test_only_a_superuser_changes_a_superusers_groups(db):
    boss = get_user_model().objects.create(username="boss", is_staff=True, is_superuser=True)
    group = Group.objects.create(name="Nobody's")

    with pytest.raises(SuperuserOnly):
        user_grants_set(actor=StaffActor(id=1, is_superuser=False), user=boss, groups=[group])


def test_a_superuser_grants_anything(db):
    group = group_save(
        actor=StaffActor(id=1, is_superuser=True),
        group=Group(),
        name="Everything",
        permissions=Permission.objects.all(),
    )

    assert group.permissions.count() == Permission.objects.count()
