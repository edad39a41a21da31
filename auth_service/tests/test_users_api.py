"""Staff find users and switch them on or off; only a superuser makes superusers."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.errors import CannotChangeYourself
from accounts.models import Role, User
from edge.grants import PermissionNotHeld, SuperuserOnly
from tests.factories import UserFactory

USERS = "/api/auth/users/"
VERIFY = "/internal/verify"


@pytest.fixture
def staff(db) -> User:
    """Staff whom the user admin's role lets find and change users (accounts.roles)."""
    user = UserFactory(is_staff=True)
    user.roles.set(Role.objects.filter(slug="user_admin"))
    return user


@pytest.fixture
def as_user(api_client, access_token_for):
    def authorize(user: User):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token_for(user)}")
        return api_client

    return authorize


def test_staff_list_users_page_by_page(as_user, staff):
    UserFactory.create_batch(24)

    response = as_user(staff).get(USERS)

    assert response.status_code == 200
    assert response.json()["count"] == 25
    assert len(response.json()["results"]) == 20
    assert response.json()["next"]


def test_staff_search_users_by_email_or_name(as_user, staff):
    UserFactory(email="ada@example.com", full_name="Ada Lovelace")
    UserFactory(email="someone@example.com", full_name="Grace Hopper")

    by_email = as_user(staff).get(USERS, {"search": "ada@"}).json()["results"]
    by_name = as_user(staff).get(USERS, {"search": "hopper"}).json()["results"]

    assert [row["email"] for row in by_email] == ["ada@example.com"]
    assert [row["email"] for row in by_name] == ["someone@example.com"]


def test_staff_filter_users_by_active_and_staff(as_user, staff):
    UserFactory(is_active=False, email="gone@example.com")
    UserFactory(is_staff=True, email="colleague@example.com")

    inactive = as_user(staff).get(USERS, {"is_active": "false"}).json()["results"]
    colleagues = as_user(staff).get(USERS, {"is_staff": "true"}).json()["results"]

    assert [row["email"] for row in inactive] == ["gone@example.com"]
    assert {row["email"] for row in colleagues} == {"colleague@example.com", staff.email}


@pytest.mark.parametrize("query", [{"is_staff": "maybe"}, {"is_active": "null"}])
def test_a_malformed_flag_filter_is_400_naming_it(as_user, staff, query):
    # It used to be dropped: ?is_staff=null listed everyone (found by tests/test_fuzz.py).
    response = as_user(staff).get(USERS, query)

    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_a_customer_cannot_list_users(as_user, customer):
    assert as_user(customer).get(USERS).status_code == 403


def test_staff_deactivate_a_user_and_the_users_tokens_stop_working(
    as_user, staff, customer, client, access_token_for, committing
):
    token = access_token_for(customer)

    with committing():
        response = as_user(staff).patch(f"{USERS}{customer.pk}/", {"is_active": False}, format="json")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_staff_grant_staff_status(as_user, staff, customer):
    response = as_user(staff).patch(f"{USERS}{customer.pk}/", {"is_staff": True}, format="json")

    assert response.status_code == 200
    customer.refresh_from_db()
    assert customer.is_staff


def test_staff_cannot_make_staff_someone_whose_stored_permissions_they_lack(as_user, staff, customer):
    # Permissions kept from an earlier staff stint, idle while the account is not staff.
    customer.user_permissions.add(Permission.objects.get(codename="add_user"))

    response = as_user(staff).patch(f"{USERS}{customer.pk}/", {"is_staff": True}, format="json")

    assert response.status_code == 403
    assert response.json() == {
        "code": PermissionNotHeld.code,
        "detail": PermissionNotHeld.message.format(permissions="accounts.add_user"),
    }
    customer.refresh_from_db()
    assert not customer.is_staff


def test_staff_cannot_reactivate_a_colleague_whose_groups_carry_permissions_they_lack(as_user, staff):
    admins = Group.objects.create(name="User admins")
    admins.permissions.add(Permission.objects.get(codename="delete_user"))
    colleague = UserFactory(is_staff=True, is_active=False)
    colleague.groups.add(admins)

    response = as_user(staff).patch(f"{USERS}{colleague.pk}/", {"is_active": True}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == PermissionNotHeld.code
    colleague.refresh_from_db()
    assert not colleague.is_active


def test_staff_who_are_not_superusers_cannot_grant_superuser(as_user, staff, customer):
    response = as_user(staff).patch(f"{USERS}{customer.pk}/", {"is_superuser": True}, format="json")

    assert response.status_code == 403
    assert response.json() == {"code": SuperuserOnly.code, "detail": SuperuserOnly.message}
    customer.refresh_from_db()
    assert not customer.is_superuser


def test_staff_who_are_not_superusers_cannot_deactivate_a_superuser(as_user, staff, superuser):
    response = as_user(staff).patch(f"{USERS}{superuser.pk}/", {"is_active": False}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == SuperuserOnly.code
    superuser.refresh_from_db()
    assert superuser.is_active


def test_a_superuser_grants_superuser(as_user, superuser, staff):
    response = as_user(superuser).patch(f"{USERS}{staff.pk}/", {"is_superuser": True}, format="json")

    assert response.status_code == 200
    assert response.json()["is_superuser"] is True


def test_staff_cannot_deactivate_themselves(as_user, staff):
    response = as_user(staff).patch(f"{USERS}{staff.pk}/", {"is_active": False}, format="json")

    assert response.status_code == 403
    assert response.json()["code"] == CannotChangeYourself.code
    staff.refresh_from_db()
    assert staff.is_active


def test_a_flag_that_is_not_a_boolean_is_400_naming_the_field(as_user, staff, customer):
    response = as_user(staff).patch(f"{USERS}{customer.pk}/", {"is_active": "perhaps"}, format="json")

    assert response.status_code == 400
    assert "is_active" in response.json()


def test_an_unknown_user_is_404(as_user, staff):
    assert as_user(staff).patch(f"{USERS}999999/", {"is_active": False}, format="json").status_code == 404


@pytest.mark.parametrize("field", ["groups", "user_permissions", "email", "password"])
def test_fields_the_api_does_not_change_are_400_not_ignored(as_user, staff, customer, field):
    response = as_user(staff).patch(f"{USERS}{customer.pk}/", {field: [1]}, format="json")

    assert response.status_code == 400
    assert field in response.json()
