"""Staff roles in auth: granted in the admin and the staff users API, never by someone who does not
hold them, carried in every token, and obeyed by auth's own admin (accounts.roles)."""

import jwt
import pytest

from accounts.models import Role, User
from edge.grants import RoleNotHeld, SuperuserOnly
from edge.roles import ROLES
from tests.factories import PASSWORD, UserFactory

USERS_API = "/api/auth/users/"
USERS_ADMIN = "/admin/auth/accounts/user/"
TOKEN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
VERIFY = "/internal/verify"


def _with_roles(user: User, *slugs: str) -> User:
    user.roles.set(Role.objects.filter(slug__in=slugs))
    return user


def _claims(raw_token: str) -> dict:
    return jwt.decode(raw_token, options={"verify_signature": False})


def _logged_in(client, user: User):
    client.post("/login/", {"username": user.email, "password": PASSWORD})
    return client


@pytest.fixture
def user_admin(db) -> User:
    return _with_roles(UserFactory(is_staff=True), "user_admin", "support")


@pytest.fixture
def as_user(api_client, access_token_for):
    def authorize(user: User):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
        return api_client

    return authorize


def _change_form(user: User, **overrides: object) -> dict:
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "is_active": "on",
        "is_staff": "on" if user.is_staff else "",
        "roles": [role.pk for role in user.roles.all()],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        **overrides,
    }
    return {key: value for key, value in data.items() if value != ""}


def test_the_roles_of_the_vocabulary_are_there_after_migrate(db):
    assert {role.slug: role.name for role in Role.objects.all()} == {
        slug: role.name for slug, role in ROLES.items()
    }


def test_a_token_carries_the_users_roles(api_client, user_admin):
    response = api_client.post(TOKEN, {"email": user_admin.email, "password": PASSWORD}, format="json")

    assert _claims(response.json()["access"])["roles"] == ["support", "user_admin"]


def test_a_role_granted_arrives_with_the_next_token(api_client, staff):
    refresh = api_client.post(TOKEN, {"email": staff.email, "password": PASSWORD}, format="json").json()[
        "refresh"
    ]
    _with_roles(staff, "fulfilment")

    access = api_client.post(REFRESH, {"refresh": refresh}, format="json").json()["access"]

    assert _claims(access)["roles"] == ["fulfilment"]


def test_the_staff_users_api_shows_roles(as_user, superuser, user_admin):
    response = as_user(superuser).get(f"{USERS_API}{user_admin.pk}/")

    assert response.json()["roles"] == ["support", "user_admin"]


def test_a_superuser_sets_roles_through_the_api(as_user, superuser, staff):
    response = as_user(superuser).patch(
        f"{USERS_API}{staff.pk}/", {"roles": ["catalog_editor", "fulfilment"]}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["roles"] == ["catalog_editor", "fulfilment"]
    assert set(staff.roles.values_list("slug", flat=True)) == {"catalog_editor", "fulfilment"}


@pytest.mark.parametrize("roles", [["janitor"], "support", [["support"]], None])
def test_roles_that_are_not_a_list_of_known_slugs_are_400_naming_the_field(as_user, superuser, staff, roles):
    response = as_user(superuser).patch(f"{USERS_API}{staff.pk}/", {"roles": roles}, format="json")

    assert response.status_code == 400
    assert set(response.json()) == {"roles"}
    assert not staff.roles.exists()


def test_staff_grant_through_the_api_only_the_roles_they_hold(as_user, user_admin, staff):
    held = as_user(user_admin).patch(f"{USERS_API}{staff.pk}/", {"roles": ["support"]}, format="json")
    more = as_user(user_admin).patch(
        f"{USERS_API}{staff.pk}/", {"roles": ["support", "catalog_editor"]}, format="json"
    )

    assert held.status_code == 200
    assert more.status_code == 403
    assert more.json() == {
        "code": RoleNotHeld.code,
        "detail": RoleNotHeld.message.format(roles="catalog_editor"),
    }
    assert list(staff.roles.values_list("slug", flat=True)) == ["support"]


def test_staff_cannot_change_a_superusers_roles(as_user, user_admin, superuser):
    response = as_user(user_admin).patch(f"{USERS_API}{superuser.pk}/", {"roles": ["support"]}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, SuperuserOnly.code)


def test_staff_cannot_make_staff_someone_holding_roles_they_lack(as_user, user_admin, customer):
    # A role kept from an earlier staff stint, idle while the account is not staff.
    _with_roles(customer, "catalog_editor")

    response = as_user(user_admin).patch(f"{USERS_API}{customer.pk}/", {"is_staff": True}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, RoleNotHeld.code)
    customer.refresh_from_db()
    assert not customer.is_staff


def test_removing_a_role_revokes_the_users_tokens(
    as_user, superuser, staff, client, access_token_for, committing
):
    token = access_token_for(_with_roles(staff, "support", "fulfilment"))

    with committing():
        response = as_user(superuser).patch(f"{USERS_API}{staff.pk}/", {"roles": ["support"]}, format="json")

    assert response.status_code == 200
    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_granting_a_role_keeps_the_users_tokens(
    as_user, superuser, staff, client, access_token_for, committing
):
    token = access_token_for(staff)

    with committing():
        as_user(superuser).patch(f"{USERS_API}{staff.pk}/", {"roles": ["support"]}, format="json")

    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 204


def test_staff_whose_roles_do_not_let_them_manage_users_get_403_from_the_users_api(as_user, customer):
    support = _with_roles(UserFactory(is_staff=True), "support")
    editor = _with_roles(UserFactory(is_staff=True), "catalog_editor")

    assert as_user(support).get(USERS_API).status_code == 200
    assert (
        as_user(support).patch(f"{USERS_API}{customer.pk}/", {"is_active": False}, format="json").status_code
        == 403
    )
    assert as_user(editor).get(USERS_API).status_code == 403
    customer.refresh_from_db()
    assert customer.is_active


def test_a_user_admin_changes_users_in_the_admin_by_their_role_alone(client, user_admin, customer):
    admin = _logged_in(client, user_admin)

    response = admin.post(f"{USERS_ADMIN}{customer.pk}/change/", _change_form(customer, full_name="Ada"))

    assert response.status_code == 302, response.content
    customer.refresh_from_db()
    assert customer.full_name == "Ada"


def test_staff_whose_roles_give_nothing_in_auth_cannot_see_or_change_users(client, customer):
    editor = _with_roles(UserFactory(is_staff=True), "catalog_editor")
    admin = _logged_in(client, editor)

    # The login lands on auth's index: it opens, with nothing on it.
    assert admin.get("/admin/auth/").status_code == 200
    assert admin.get(USERS_ADMIN).status_code == 403
    assert admin.get(f"{USERS_ADMIN}{customer.pk}/change/").status_code == 403
    assert admin.post(f"{USERS_ADMIN}{customer.pk}/change/", _change_form(customer)).status_code == 403


def test_in_the_admin_staff_cannot_give_themselves_a_role_they_lack(client, user_admin):
    admin = _logged_in(client, user_admin)
    roles = [role.pk for role in Role.objects.filter(slug__in=["user_admin", "support", "catalog_editor"])]

    response = admin.post(f"{USERS_ADMIN}{user_admin.pk}/change/", _change_form(user_admin, roles=roles))

    assert response.status_code == 200
    assert RoleNotHeld.message.format(roles="catalog_editor") in response.content.decode()
    assert not user_admin.roles.filter(slug="catalog_editor").exists()


def test_the_roles_page_lists_each_role_with_its_holders_and_adds_none(client, superuser, user_admin):
    admin = _logged_in(client, superuser)

    page = admin.get("/admin/auth/accounts/role/").content.decode()

    assert all(role.name in page for role in ROLES.values())
    assert admin.get("/admin/auth/accounts/role/add/").status_code == 403
