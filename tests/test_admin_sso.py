"""One login for every admin site."""

from urllib.parse import quote

import httpx
import pytest

from devstack.stack import DEMO_STAFF_EMAIL
from edge.service_table import SERVICE_NAMES
from tests.support import DEMO_STAFF_PASSWORD, log_in

ADMIN_SITES = [f"/admin/{name}/" for name in SERVICE_NAMES]


def test_staff_who_log_in_once_open_all_four_admin_sites(browser):
    landed = log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
    assert landed.status_code == 302

    for site in ADMIN_SITES:
        page = browser.get(site)
        assert page.status_code == 200, site
        assert "Site administration" in page.text


@pytest.mark.parametrize(
    "page", ["/admin/orders/", "/admin/catalog/messaging/outboxmessage/?sent_at__isnull=True"]
)
def test_a_browser_without_a_session_goes_to_login_and_comes_back(browser, page):
    renew = browser.get(page)
    redirect = browser.get(renew.headers["location"])

    assert renew.status_code == 302
    assert renew.headers["location"] == f"/login/refresh?next={quote(page, safe='/')}"
    assert redirect.status_code == 302
    assert redirect.headers["location"] == f"/login/?next={quote(page, safe='/')}"

    landed = log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, next_page=page)

    assert landed.status_code == 302
    assert landed.headers["location"] == page
    assert browser.get(landed.headers["location"]).status_code == 200


def test_a_logged_in_customer_gets_403_in_every_admin_site(browser, customer):
    log_in(browser, customer.email, customer.password)

    for site in ADMIN_SITES:
        response = browser.get(site, follow_redirects=True)
        assert response.status_code == 403, site


def test_login_never_sends_the_browser_to_another_site(browser):
    landed = log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, next_page="https://elsewhere.example/")

    assert landed.headers["location"] == "/admin/auth/"


def test_logging_out_closes_every_admin_site(browser):
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
    admin_page = browser.get("/admin/catalog/")
    csrf = browser.cookies["catalog_csrftoken"]

    logged_out = browser.post(
        "/admin/catalog/logout/", data={"csrfmiddlewaretoken": csrf}, follow_redirects=True
    )

    assert admin_page.status_code == 200
    assert logged_out.url.path == "/login/"
    for site in ADMIN_SITES:
        closed = browser.get(site, follow_redirects=True)
        assert closed.url.path == "/login/", site


def test_a_form_posted_after_the_access_cookie_expired_is_renewed_and_arrives(browser):
    """A staff member idle past the access token's lifetime who then logs out (or saves a form):
    the POST goes round the renewal with its body (307s) and does what it was sent to do."""
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
    browser.get("/admin/catalog/")
    csrf = browser.cookies["catalog_csrftoken"]
    browser.cookies.delete("access_token")

    logged_out = browser.post(
        "/admin/catalog/logout/", data={"csrfmiddlewaretoken": csrf}, follow_redirects=True
    )

    assert [(step.url.path, step.status_code) for step in logged_out.history][:3] == [
        ("/admin/catalog/logout/", 307),
        ("/login/refresh", 307),
        ("/admin/catalog/logout/", 307),
    ]
    assert logged_out.url.path == "/login/"
    assert browser.get("/admin/orders/", follow_redirects=True).url.path == "/login/"


@pytest.mark.parametrize("page", ["/logout/", "/login/end", "/admin/catalog/logout/"])
def test_a_get_to_logout_is_405_and_the_session_goes_on(browser, page):
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)

    response = browser.get(page)

    assert response.status_code == 405
    assert browser.get("/admin/orders/").status_code == 200


@pytest.mark.parametrize("base", ["gateway", "auth directly"])
@pytest.mark.parametrize("page", ["/logout/", "/login/end", "/logout/?site=catalog"])
def test_a_logout_post_from_another_page_without_the_csrf_token_is_refused(stack, browser, base, page):
    """What a forged form on another page sends: the browser's cookies, and no token."""
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
    admin_page = browser.get("/admin/catalog/")
    url = stack.gateway_url if base == "gateway" else stack.service_url("auth")

    with httpx.Client(base_url=url, cookies=browser.cookies, timeout=15) as forged:
        response = forged.post(page, data={"csrfmiddlewaretoken": "x" * 64})

    assert admin_page.status_code == 200
    assert response.status_code == 403
    assert browser.get("/admin/orders/").status_code == 200
