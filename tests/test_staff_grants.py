"""Staff allowed to change users or groups cannot raise themselves, through the users admin or the
API, at the gateway or at a service reached directly: no superuser made or changed, no role or
permission granted that the staff member does not hold."""

import httpx
import psycopg
import pytest

from devstack.stack import DEMO_STAFF_EMAIL
from tests.support import DEMO_STAFF_PASSWORD, Account, log_in, register

SUPERUSER_ONLY = "Only a superuser may grant or change superuser status, or change a superuser."
NOT_HELD = "You cannot grant permissions you do not hold yourself: {permissions}."
ROLE_NOT_HELD = "You cannot grant roles you do not hold yourself: {roles}."
# What the users admin of auth lets this colleague do.
AUTH_PERMISSIONS = ["view_user", "change_user", "delete_user", "view_group", "change_group"]


def _sql(stack, service: str, query: str, params: list | None = None) -> list[tuple]:
    with psycopg.connect(stack.service_env[service]["DATABASE_URL"]) as connection:
        cursor = connection.execute(query, params or [])
        return cursor.fetchall() if cursor.description else []


def _permission_ids(stack, service: str, codenames: list[str]) -> list[int]:
    rows = _sql(
        stack, service, "SELECT id FROM auth_permission WHERE codename = ANY(%s) ORDER BY id", [codenames]
    )
    return [row[0] for row in rows]


def _demo_staff_id(stack) -> int:
    return _sql(stack, "auth", "SELECT id FROM accounts_user WHERE email = %s", [DEMO_STAFF_EMAIL])[0][0]


def _form_post(browser: httpx.Client, page: str, site: str, data: dict) -> httpx.Response:
    """A POST of an admin form, with the site's CSRF token, as the browser sends it."""
    assert browser.get(page).status_code == 200, page
    return browser.post(
        page,
        data={"csrfmiddlewaretoken": browser.cookies[f"{site}_csrftoken"], **data},
        headers={"Referer": str(browser.base_url.join(page)), "Origin": str(browser.base_url).rstrip("/")},
    )


@pytest.fixture
def colleague(stack, gateway, mail, staff) -> Account:
    """Staff, no superuser, allowed to view, change and delete users and change groups in auth."""
    account = register(gateway, mail, full_name="User Administrator")
    granted = gateway.patch(f"/api/auth/users/{account.id}/", json={"is_staff": True}, headers=staff)
    assert granted.status_code == 200, granted.text
    _sql(
        stack,
        "auth",
        "INSERT INTO accounts_user_user_permissions (user_id, permission_id) "
        "SELECT %s, id FROM auth_permission WHERE codename = ANY(%s)",
        [account.id, AUTH_PERMISSIONS],
    )
    tokens = gateway.post("/api/auth/token/", json={"email": account.email, "password": account.password})
    return Account(account.id, account.email, account.password, tokens.json()["access"])


@pytest.fixture
def colleague_browser(browser, colleague) -> httpx.Client:
    assert log_in(browser, colleague.email, colleague.password).status_code == 302
    return browser


def _change_form(user: dict, **overrides: object) -> dict:
    return {
        "email": user["email"],
        "full_name": user["full_name"],
        "is_active": "on",
        "is_staff": "on" if user["is_staff"] else "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
        **overrides,
    }


def _user(gateway, staff, user_id: int) -> dict:
    return gateway.get(f"/api/auth/users/{user_id}/", headers=staff).json()


def test_in_the_users_admin_staff_cannot_make_themselves_superuser(
    stack, colleague_browser, colleague, gateway, staff
):
    me = _user(gateway, staff, colleague.id)

    response = _form_post(
        colleague_browser,
        f"/admin/auth/accounts/user/{colleague.id}/change/",
        "auth",
        _change_form(
            me, is_superuser="on", user_permissions=_permission_ids(stack, "auth", AUTH_PERMISSIONS)
        ),
    )

    assert response.status_code == 200
    assert SUPERUSER_ONLY in response.text
    assert _user(gateway, staff, colleague.id)["is_superuser"] is False


def test_in_the_users_admin_staff_cannot_change_a_superusers_name_or_password(
    stack, colleague_browser, gateway, staff
):
    boss = _demo_staff_id(stack)
    boss_user = _user(gateway, staff, boss)

    renamed = _form_post(
        colleague_browser,
        f"/admin/auth/accounts/user/{boss}/change/",
        "auth",
        _change_form(boss_user, is_superuser="on", full_name="Taken Over"),
    )
    password_page = colleague_browser.get(
        f"/admin/auth/accounts/user/{boss}/password/", follow_redirects=True
    )
    password_post = colleague_browser.post(
        f"/admin/auth/accounts/user/{boss}/password/",
        data={
            "csrfmiddlewaretoken": colleague_browser.cookies["auth_csrftoken"],
            "password1": "taken-over-passphrase",
            "password2": "taken-over-passphrase",
            "usable_password": "true",
        },
    )

    assert SUPERUSER_ONLY in renamed.text
    assert password_page.url.path == f"/admin/auth/accounts/user/{boss}/change/"
    assert SUPERUSER_ONLY in password_page.text
    assert password_post.status_code == 302
    assert _user(gateway, staff, boss)["full_name"] == boss_user["full_name"]
    login = gateway.post(
        "/api/auth/token/", json={"email": DEMO_STAFF_EMAIL, "password": DEMO_STAFF_PASSWORD}
    )
    assert login.status_code == 200


def test_in_the_users_admin_staff_cannot_give_themselves_a_permission_they_lack(
    stack, colleague_browser, colleague, gateway, staff
):
    held = _permission_ids(stack, "auth", AUTH_PERMISSIONS)
    add_user = _permission_ids(stack, "auth", ["add_user"])

    response = _form_post(
        colleague_browser,
        f"/admin/auth/accounts/user/{colleague.id}/change/",
        "auth",
        _change_form(_user(gateway, staff, colleague.id), user_permissions=held + add_user),
    )

    assert response.status_code == 200
    assert NOT_HELD.format(permissions="accounts.add_user") in response.text
    assert _permission_ids_of_user(stack, colleague.id) == held


def _permission_ids_of_user(stack, user_id: int) -> list[int]:
    rows = _sql(
        stack,
        "auth",
        "SELECT permission_id FROM accounts_user_user_permissions WHERE user_id = %s ORDER BY permission_id",
        [user_id],
    )
    return [row[0] for row in rows]


def test_in_the_users_admin_staff_cannot_delete_a_superuser_alone_or_in_bulk(
    stack, gateway, mail, colleague_browser
):
    boss = _demo_staff_id(stack)
    bystander = register(gateway, mail)
    page = f"/admin/auth/accounts/user/{boss}/delete/"
    csrf = colleague_browser.cookies["auth_csrftoken"]

    confirm = colleague_browser.get(page)
    deleted = colleague_browser.post(page, data={"csrfmiddlewaretoken": csrf, "post": "yes"})
    bulk = colleague_browser.post(
        "/admin/auth/accounts/user/",
        data={
            "csrfmiddlewaretoken": csrf,
            "action": "delete_selected",
            "_selected_action": [boss, bystander.id],
            "post": "yes",
        },
    )

    assert (confirm.status_code, deleted.status_code, bulk.status_code) == (403, 403, 403)
    assert _demo_staff_id(stack) == boss
    assert gateway.get("/api/auth/me/", headers=bystander.auth).status_code == 200


def test_in_the_users_admin_staff_cannot_give_themselves_a_role_they_lack(
    stack, colleague_browser, colleague, gateway, staff
):
    catalog_editor = _sql(stack, "auth", "SELECT id FROM accounts_role WHERE slug = 'catalog_editor'")[0][0]

    response = _form_post(
        colleague_browser,
        f"/admin/auth/accounts/user/{colleague.id}/change/",
        "auth",
        _change_form(
            _user(gateway, staff, colleague.id),
            user_permissions=_permission_ids(stack, "auth", AUTH_PERMISSIONS),
            roles=[catalog_editor],
        ),
    )

    assert response.status_code == 200
    assert ROLE_NOT_HELD.format(roles="catalog_editor") in response.text
    assert _user(gateway, staff, colleague.id)["roles"] == []


@pytest.mark.parametrize("base", ["gateway", "auth directly"])
def test_through_the_users_api_staff_cannot_raise_anyone_or_touch_a_superuser(stack, colleague, base):
    url = stack.gateway_url if base == "gateway" else stack.service_url("auth")
    boss = _demo_staff_id(stack)

    with httpx.Client(base_url=url, headers=colleague.auth, timeout=15) as api:
        raise_self = api.patch(f"/api/auth/users/{colleague.id}/", json={"is_superuser": True})
        deactivate_boss = api.patch(f"/api/auth/users/{boss}/", json={"is_active": False})
        grant_groups = api.patch(
            f"/api/auth/users/{colleague.id}/", json={"groups": [1], "user_permissions": [1]}
        )
        grant_role = api.patch(f"/api/auth/users/{colleague.id}/", json={"roles": ["user_admin"]})

    assert (raise_self.status_code, raise_self.json()["code"]) == (403, "superuser_only")
    assert (deactivate_boss.status_code, deactivate_boss.json()["code"]) == (403, "superuser_only")
    assert grant_groups.status_code == 400
    assert set(grant_groups.json()) == {"groups", "user_permissions"}
    assert (grant_role.status_code, grant_role.json()["code"]) == (403, "role_not_held")
    assert raise_self.headers["content-type"] == "application/json"
