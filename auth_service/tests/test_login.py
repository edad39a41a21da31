"""The one login page for every admin site."""

import pytest
import time_machine
from django.test import Client

from tests.factories import PASSWORD

LOGIN = "/login/"
TOKEN = "/api/auth/token/"
REFRESH = "/login/refresh"
VERIFY = "/internal/verify"


def _log_in_with_csrf(browser: Client, user) -> None:
    browser.get(LOGIN)
    browser.post(
        LOGIN,
        {
            "username": user.email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["auth_csrftoken"].value,
        },
    )


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


def test_logging_in_sets_a_refresh_cookie_only_the_login_pages_see(client, staff):
    response = _log_in(client, staff)

    cookie = response.cookies["refresh_token"]
    assert cookie["httponly"]
    assert cookie["path"] == "/login/"
    assert 12 * 3600 - 5 <= cookie["max-age"] <= 12 * 3600


def test_logging_out_revokes_both_tokens_and_clears_both_cookies(client, staff):
    _log_in(client, staff)
    access, refresh = client.cookies["access_token"].value, client.cookies["refresh_token"].value

    response = client.post("/logout/", follow=True)

    assert response.redirect_chain == [("/login/end", 307), ("/login/", 303)]
    assert client.cookies["access_token"].value == ""
    assert client.cookies["refresh_token"].value == ""
    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401
    client.cookies["refresh_token"] = refresh
    assert client.get(REFRESH, {"next": "/admin/orders/"})["Location"].startswith("/login/?next=")


def test_logging_out_with_an_expired_access_cookie_still_revokes_the_refresh_token(client, staff):
    _log_in(client, staff)
    refresh = client.cookies["refresh_token"].value
    del client.cookies["access_token"]

    client.post("/login/end")

    client.cookies["refresh_token"] = refresh
    assert client.get(REFRESH)["Location"].startswith("/login/")


@pytest.mark.parametrize("page", ["/logout/", "/login/end"])
def test_a_get_of_logout_or_session_end_is_405_and_logs_nobody_out(client, staff, page):
    _log_in(client, staff)

    response = client.get(page)

    assert response.status_code == 405
    assert client.get(VERIFY).status_code == 204


@pytest.mark.parametrize("page", ["/logout/", "/login/end", "/logout/?site=catalog"])
def test_a_logout_post_without_the_csrf_token_is_403_and_logs_nobody_out(staff, page):
    browser = Client(enforce_csrf_checks=True)
    _log_in_with_csrf(browser, staff)

    response = browser.post(page)

    assert response.status_code == 403
    assert browser.get(VERIFY).status_code == 204


def test_a_logout_post_with_another_sites_token_is_403(staff):
    browser = Client(enforce_csrf_checks=True)
    _log_in_with_csrf(browser, staff)
    browser.cookies["catalog_csrftoken"] = "c" * 32

    response = browser.post(
        "/logout/?site=catalog", {"csrfmiddlewaretoken": browser.cookies["auth_csrftoken"].value}
    )

    assert response.status_code == 403
    assert browser.get(VERIFY).status_code == 204


def test_an_admin_sites_logout_carries_that_sites_token_through_to_the_session_end(staff):
    browser = Client(enforce_csrf_checks=True)
    _log_in_with_csrf(browser, staff)
    # What the catalog admin's logout form holds, and its CSRF cookie.
    browser.cookies["catalog_csrftoken"] = "c" * 32
    access = browser.cookies["access_token"].value

    response = browser.post("/logout/?site=catalog", {"csrfmiddlewaretoken": "c" * 32}, follow=True)

    assert response.redirect_chain == [("/login/end?site=catalog", 307), ("/login/", 303)]
    assert browser.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401


def test_a_logout_naming_no_admin_site_is_400(client, staff):
    _log_in(client, staff)

    assert client.post("/logout/?site=elsewhere").status_code == 400


def test_an_expired_access_cookie_is_renewed_from_the_refresh_cookie_and_the_browser_goes_back(client, staff):
    _log_in(client, staff)
    old_refresh = client.cookies["refresh_token"].value
    del client.cookies["access_token"]

    response = client.get(REFRESH, {"next": "/admin/catalog/product/?q=x"})

    assert response.status_code == 302
    assert response["Location"] == "/admin/catalog/product/?q=x"
    assert client.get(VERIFY).status_code == 204
    assert client.cookies["refresh_token"].value != old_refresh


def test_a_form_posted_with_an_expired_access_cookie_goes_round_the_renewal_and_back_as_a_post(staff):
    # As a browser: the admin form's token is the admin site's, not auth's (no CSRF exemption
    # of the test client hides a check here).
    browser = Client(enforce_csrf_checks=True)
    _log_in_with_csrf(browser, staff)
    del browser.cookies["access_token"]
    form = {"csrfmiddlewaretoken": "catalog-site-token", "name": "Kettle"}

    sent_on = browser.post(
        "/internal/login-redirect", form, HTTP_X_ORIGINAL_URI="/admin/catalog/product/3/change/"
    )
    renewed = browser.post(sent_on["Location"], form)

    assert (sent_on.status_code, renewed.status_code) == (307, 307)
    assert sent_on["Location"] == "/login/refresh?next=/admin/catalog/product/3/change/"
    assert renewed["Location"] == "/admin/catalog/product/3/change/"
    assert browser.get(VERIFY).status_code == 204


def test_a_refresh_cookie_works_once(client, staff):
    _log_in(client, staff)
    old_refresh = client.cookies["refresh_token"].value
    client.get(REFRESH)

    client.cookies["refresh_token"] = old_refresh
    response = client.get(REFRESH, {"next": "/admin/orders/"})

    assert response["Location"] == "/login/?next=/admin/orders/"


def test_without_a_refresh_cookie_the_browser_goes_to_the_login_page(client, db):
    response = client.get(REFRESH, {"next": "/admin/orders/"})

    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/admin/orders/"


def test_a_session_ends_at_its_absolute_limit_however_active(client, staff):
    with time_machine.travel("2026-01-01 08:00", tick=False) as traveller:
        _log_in(client, staff)
        # Working all day: the access cookie is renewed every hour (the refresh token lasts a day).
        for _ in range(11):
            traveller.shift(3600)
            assert client.get(REFRESH)["Location"] == "/admin/auth/"
        traveller.shift(3601)

        response = client.get(REFRESH, {"next": "/admin/auth/"})

    assert response["Location"] == "/login/?next=/admin/auth/"


def test_renewing_never_sends_the_browser_to_another_site(client, staff):
    _log_in(client, staff)

    response = client.get(REFRESH, {"next": "https://elsewhere.example/"})

    assert response["Location"] == "/admin/auth/"


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


def test_the_gateway_sends_a_browser_without_a_valid_access_cookie_to_renew_it(client, db):
    response = client.get("/internal/login-redirect", HTTP_X_ORIGINAL_URI="/admin/catalog/?q=a&b=c")

    assert response.status_code == 302
    assert response["Location"] == "/login/refresh?next=/admin/catalog/%3Fq%3Da%26b%3Dc"
