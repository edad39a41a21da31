"""The one login page for every admin site."""

import pytest

from tests.factories import PASSWORD

LOGIN = "/login/"


def _log_in(client, user, next_page: str = ""):
    return client.post(
        f"{LOGIN}?next={next_page}", {"username": user.email, "password": PASSWORD, "next": next_page}
    )


def test_logging_in_sets_an_httponly_access_cookie_and_goes_back(client, staff):
    response = _log_in(client, staff, "/admin/catalog/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/catalog/"
    cookie = response.cookies["access_token"]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


def test_a_wrong_password_shows_the_form_again_without_a_cookie(client, staff):
    response = client.post(LOGIN, {"username": staff.email, "password": "wrong"})

    assert response.status_code == 200
    assert "access_token" not in response.cookies
    assert b"Please enter a correct" in response.content


@pytest.mark.parametrize(
    "elsewhere", ["https://evil.example/", "//evil.example/admin/", "https:evil.example"]
)
def test_next_cannot_send_the_browser_to_another_site(client, staff, elsewhere):
    response = _log_in(client, staff, elsewhere)

    assert response.status_code == 302
    assert response["Location"] == "/admin/auth/"


def test_logging_out_clears_the_cookie(client, staff):
    _log_in(client, staff)

    response = client.post("/logout/")

    assert response.status_code == 302
    assert response["Location"] == "/login/"
    assert response.cookies["access_token"].value == ""


def test_the_admin_sends_a_browser_without_a_session_to_the_login_page(client, db):
    response = client.get("/admin/auth/accounts/user/", follow=True)

    assert response.redirect_chain[-1][0] == "/login/?next=/admin/auth/accounts/user/"
    assert response.status_code == 200


def test_the_admin_opens_for_a_superuser(client, staff):
    staff.is_superuser = True
    staff.save()
    _log_in(client, staff)

    response = client.get("/admin/auth/accounts/user/")

    assert response.status_code == 200
    assert staff.email.encode() in response.content


def test_staff_without_permissions_see_the_admin_but_not_the_users(client, staff):
    _log_in(client, staff)

    assert client.get("/admin/auth/").status_code == 200
    assert client.get("/admin/auth/accounts/user/").status_code == 403


def test_the_admin_refuses_a_logged_in_customer_with_403(client, customer):
    _log_in(client, customer)

    response = client.get("/admin/auth/", follow=True)

    assert response.status_code == 403


def test_the_gateway_redirect_carries_the_whole_original_address(client, db):
    response = client.get("/internal/login-redirect", HTTP_X_ORIGINAL_URI="/admin/catalog/?q=a&b=c")

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/catalog/%3Fq%3Da%26b%3Dc"
