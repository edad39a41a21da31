"""Changes made in the users admin revoke tokens like the API's do, and grant nobody more than the editor holds."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.errors import CannotChangeYourself, StaffCredentialsSuperuserOnly
from accounts.models import User
from edge.grants import PermissionNotHeld, SuperuserOnly
from tests.factories import PASSWORD, UserFactory

VERIFY = "/internal/verify"


def _admin_client(client, superuser):
    client.post("/login/", {"username": superuser.email, "password": PASSWORD})
    return client


def _change_form(user, **overrides) -> dict:
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value != ""}


def test_removing_staff_in_the_admin_revokes_the_users_tokens(
    client, superuser, staff, access_token_for, committing
):
    token = access_token_for(staff)
    admin = _admin_client(client, superuser)

    with committing():
        response = admin.post(
            f"/admin/auth/accounts/user/{staff.pk}/change/", _change_form(staff, is_staff="")
        )

    assert response.status_code == 302, response.content
    staff.refresh_from_db()
    assert not staff.is_staff
    assert admin.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_renaming_a_user_in_the_admin_keeps_their_tokens(
    client, superuser, customer, access_token_for, committing
):
    token = access_token_for(customer)
    admin = _admin_client(client, superuser)

    with committing():
        admin.post(
            f"/admin/auth/accounts/user/{customer.pk}/change/", _change_form(customer, full_name="Renamed")
        )

    assert admin.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 204


def test_the_deactivate_action_revokes_tokens_but_spares_the_actor(
    client, superuser, access_token_for, committing
):
    customers = UserFactory.create_batch(2)
    tokens = [access_token_for(user) for user in customers]
    admin = _admin_client(client, superuser)

    with committing():
        admin.post(
            "/admin/auth/accounts/user/",
            {"action": "deactivate", "_selected_action": [u.pk for u in [*customers, superuser]]},
        )

    assert not User.objects.filter(pk__in=[u.pk for u in customers], is_active=True).exists()
    assert User.objects.get(pk=superuser.pk).is_active
    for token in tokens:
        assert admin.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_deleting_a_user_in_the_admin_revokes_their_tokens(
    client, superuser, customer, access_token_for, committing
):
    token = access_token_for(customer)
    admin = _admin_client(client, superuser)

    with committing():
        admin.post(f"/admin/auth/accounts/user/{customer.pk}/delete/", {"post": "yes"})

    assert not User.objects.filter(pk=customer.pk).exists()
    assert admin.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_setting_a_password_in_the_admin_revokes_the_users_tokens(
    client, superuser, customer, access_token_for, committing
):
    token = access_token_for(customer)
    admin = _admin_client(client, superuser)

    with committing():
        response = admin.post(
            f"/admin/auth/accounts/user/{customer.pk}/password/",
            {
                "password1": "a-new-admin-set-passphrase",
                "password2": "a-new-admin-set-passphrase",
                "usable_password": "true",
            },
        )

    assert response.status_code == 302, response.content
    assert admin.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_disabling_a_password_in_the_admin_leaves_no_password_and_revokes_the_tokens(
    client, superuser, customer, access_token_for, committing
):
    token = access_token_for(customer)
    admin = _admin_client(client, superuser)

    with committing():
        response = admin.post(
            f"/admin/auth/accounts/user/{customer.pk}/password/",
            {"password1": "", "password2": "", "usable_password": "false", "unset-password": "1"},
        )

    assert response.status_code == 302, response.content
    assert not User.objects.get(pk=customer.pk).has_usable_password()
    assert admin.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_staff_who_may_change_users_cannot_make_a_superuser_in_the_admin(client, customer):
    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(
        Permission.objects.get(codename="change_user"), Permission.objects.get(codename="view_user")
    )
    admin = _admin_client(client, editor)
    name = customer.full_name

    response = admin.post(
        f"/admin/auth/accounts/user/{customer.pk}/change/",
        _change_form(customer, is_superuser="on", full_name="Renamed"),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [SuperuserOnly.message]
    customer.refresh_from_db()
    assert (customer.is_superuser, customer.full_name) == (False, name)


def test_a_superuser_cannot_deactivate_themselves_in_the_admin_form(client, superuser):
    admin = _admin_client(client, superuser)

    response = admin.post(
        f"/admin/auth/accounts/user/{superuser.pk}/change/", _change_form(superuser, is_active="")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [CannotChangeYourself.message]
    assert User.objects.get(pk=superuser.pk).is_active


def test_the_deactivate_action_names_each_user_it_refused(client, superuser):
    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(
        Permission.objects.get(codename="change_user"), Permission.objects.get(codename="view_user")
    )
    other = UserFactory(is_superuser=True, is_staff=True)
    customer = UserFactory()
    admin = _admin_client(client, editor)

    response = admin.post(
        "/admin/auth/accounts/user/",
        {"action": "deactivate", "_selected_action": [other.pk, customer.pk]},
        follow=True,
    )

    assert response.status_code == 200
    shown = [str(message) for message in response.context["messages"]]
    assert shown == ["1 user(s) deactivated.", f"Not changed: {other}: {SuperuserOnly.message}"]
    assert User.objects.get(pk=other.pk).is_active
    assert not User.objects.get(pk=customer.pk).is_active


def test_a_user_added_in_the_admin_can_log_in(client, superuser, api_client):
    admin = _admin_client(client, superuser)

    response = admin.post(
        "/admin/auth/accounts/user/add/",
        {
            "email": "new.hire@example.com",
            "usable_password": "true",
            "password1": "a-new-admin-set-passphrase",
            "password2": "a-new-admin-set-passphrase",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    created = User.objects.get(email="new.hire@example.com")
    assert response["Location"] == f"/admin/auth/accounts/user/{created.pk}/change/"
    tokens = api_client.post(
        "/api/auth/token/",
        {"email": "new.hire@example.com", "password": "a-new-admin-set-passphrase"},
        format="json",
    )
    assert tokens.status_code == 200


# --- staff who may change users cannot raise themselves or anyone ----------------------------


@pytest.fixture
def editor(db) -> User:
    """Staff allowed to view, change and delete users and groups: no superuser."""
    editor = UserFactory(is_staff=True)
    editor.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_user", "change_user", "delete_user", "view_group", "change_group"]
        )
    )
    return editor


def _held(user: User) -> list[int]:
    return list(user.user_permissions.values_list("pk", flat=True))


def test_staff_who_may_change_users_cannot_change_a_superuser_in_the_admin(client, editor, superuser):
    admin = _admin_client(client, editor)

    response = admin.post(
        f"/admin/auth/accounts/user/{superuser.pk}/change/", _change_form(superuser, full_name="Renamed")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [SuperuserOnly.message]
    assert User.objects.get(pk=superuser.pk).full_name == superuser.full_name


@pytest.mark.parametrize("target", ["superuser", "staff"])
def test_staff_who_may_change_users_cannot_set_a_superusers_or_colleagues_password(
    client, editor, request, target
):
    user = request.getfixturevalue(target)
    admin = _admin_client(client, editor)
    page = f"/admin/auth/accounts/user/{user.pk}/password/"

    shown = admin.get(page, follow=True)
    response = admin.post(
        page,
        {
            "password1": "taken-over-passphrase",
            "password2": "taken-over-passphrase",
            "usable_password": "true",
        },
    )

    refusal = SuperuserOnly if target == "superuser" else StaffCredentialsSuperuserOnly
    assert shown.redirect_chain == [(f"/admin/auth/accounts/user/{user.pk}/change/", 302)]
    assert [str(message) for message in shown.context["messages"]] == [refusal.message]
    assert response.status_code == 302
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_staff_who_may_change_users_set_a_customers_password(client, editor, customer):
    admin = _admin_client(client, editor)

    response = admin.post(
        f"/admin/auth/accounts/user/{customer.pk}/password/",
        {
            "password1": "a-new-admin-set-passphrase",
            "password2": "a-new-admin-set-passphrase",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(pk=customer.pk).check_password("a-new-admin-set-passphrase")


def test_staff_who_may_change_users_cannot_change_a_colleagues_email(client, editor, staff):
    admin = _admin_client(client, editor)

    response = admin.post(
        f"/admin/auth/accounts/user/{staff.pk}/change/", _change_form(staff, email="mine@example.com")
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [StaffCredentialsSuperuserOnly.message]
    assert User.objects.get(pk=staff.pk).email == staff.email


def test_staff_who_may_change_users_cannot_give_themselves_a_permission_they_lack(client, editor):
    admin = _admin_client(client, editor)
    add_user = Permission.objects.get(codename="add_user")

    response = admin.post(
        f"/admin/auth/accounts/user/{editor.pk}/change/",
        _change_form(editor, user_permissions=[*_held(editor), add_user.pk]),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        PermissionNotHeld.message.format(permissions="accounts.add_user")
    ]
    assert not editor.user_permissions.filter(codename="add_user").exists()


def test_staff_who_may_change_users_cannot_join_a_group_holding_more_than_they_do(client, editor):
    admins = Group.objects.create(name="User admins")
    admins.permissions.add(Permission.objects.get(codename="add_user"))
    admin = _admin_client(client, editor)

    response = admin.post(
        f"/admin/auth/accounts/user/{editor.pk}/change/",
        _change_form(editor, user_permissions=_held(editor), groups=[admins.pk]),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        PermissionNotHeld.message.format(permissions="accounts.add_user")
    ]
    assert not editor.groups.exists()


def test_staff_who_may_change_users_grant_a_customer_what_they_hold(client, editor, customer):
    admin = _admin_client(client, editor)
    view_user = Permission.objects.get(codename="view_user")

    response = admin.post(
        f"/admin/auth/accounts/user/{customer.pk}/change/",
        _change_form(customer, user_permissions=[view_user.pk]),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(customer.user_permissions.all()) == [view_user]


def test_staff_who_may_change_users_cannot_make_staff_someone_holding_more_than_they_do(
    client, editor, customer
):
    customer.user_permissions.add(Permission.objects.get(codename="add_user"))
    admin = _admin_client(client, editor)

    response = admin.post(
        f"/admin/auth/accounts/user/{customer.pk}/change/",
        _change_form(customer, is_staff="on", user_permissions=_held(customer)),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        PermissionNotHeld.message.format(permissions="accounts.add_user")
    ]
    assert not User.objects.get(pk=customer.pk).is_staff


def test_staff_who_may_change_users_make_staff_someone_once_the_permissions_they_lack_are_removed(
    client, editor, customer
):
    customer.user_permissions.add(Permission.objects.get(codename="add_user"))
    admin = _admin_client(client, editor)

    response = admin.post(
        f"/admin/auth/accounts/user/{customer.pk}/change/", _change_form(customer, is_staff="on")
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    customer.refresh_from_db()
    assert customer.is_staff
    assert not customer.user_permissions.exists()


def test_staff_who_may_change_groups_cannot_add_a_permission_they_lack_to_their_own_group(client, editor):
    group = Group.objects.create(name="Support")
    editor.groups.add(group)
    admin = _admin_client(client, editor)

    response = admin.post(
        f"/admin/auth/auth/group/{group.pk}/change/",
        {"name": "Support", "permissions": [Permission.objects.get(codename="add_user").pk]},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        PermissionNotHeld.message.format(permissions="accounts.add_user")
    ]
    assert not group.permissions.exists()


def test_staff_who_may_delete_users_cannot_delete_a_superuser(client, editor, superuser, customer):
    admin = _admin_client(client, editor)

    one = admin.post(f"/admin/auth/accounts/user/{superuser.pk}/delete/", {"post": "yes"})
    bulk = admin.post(
        "/admin/auth/accounts/user/",
        {"action": "delete_selected", "_selected_action": [superuser.pk, customer.pk], "post": "yes"},
    )

    assert (one.status_code, bulk.status_code) == (403, 403)
    assert User.objects.filter(pk__in=[superuser.pk, customer.pk]).count() == 2


def test_changing_ones_own_password_in_the_admin_revokes_every_earlier_token(
    client, staff, access_token_for, committing
):
    token = access_token_for(staff)
    admin = _admin_client(client, staff)

    with committing():
        response = admin.post(
            "/admin/auth/password_change/",
            {
                "old_password": PASSWORD,
                "new_password1": "a-new-own-passphrase",
                "new_password2": "a-new-own-passphrase",
            },
        )

    assert response.status_code == 302, response.context["form"].errors
    assert User.objects.get(pk=staff.pk).check_password("a-new-own-passphrase")
    assert admin.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
