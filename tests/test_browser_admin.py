"""A staff member in a real browser (Debian's Chromium, headless, driven by Playwright): one login
for every admin site, an edit in one of them, and one logout that closes them all.

Screenshots of each step land in ``tests/artifacts/``.
"""

from pathlib import Path

from playwright.sync_api import Page

from devstack.stack import DEMO_STAFF_EMAIL
from edge.service_table import SERVICE_NAMES
from tests.support import DEMO_STAFF_PASSWORD, register

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"browser-admin-{name}.png"), full_page=True)


def test_staff_log_in_once_edit_in_one_admin_and_log_out_of_all_four(
    stack, gateway, mail, page, csp_violations
):
    someone = register(gateway, mail, full_name="Before The Edit")
    base = stack.gateway_url

    page.goto(f"{base}/admin/catalog/")
    assert page.url.startswith(f"{base}/login/?next=")
    page.fill("#id_username", DEMO_STAFF_EMAIL)
    page.fill("#id_password", DEMO_STAFF_PASSWORD)
    _shot(page, "1-login")
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/catalog/")

    for site in SERVICE_NAMES:
        page.goto(f"{base}/admin/{site}/")
        assert page.url == f"{base}/admin/{site}/"
        assert page.locator("#site-name").inner_text() == f"Commerce · {site}"
        assert "Site administration" in page.content()
        _shot(page, f"2-admin-{site}")

    page.goto(f"{base}/admin/auth/accounts/user/{someone.id}/change/")
    page.fill("#id_full_name", "After The Edit")
    page.click("input[name=_save]")
    page.wait_for_url(f"{base}/admin/auth/accounts/user/")
    assert "was changed successfully" in page.locator(".messagelist").inner_text()
    _shot(page, "3-changed")
    assert gateway.get("/api/auth/me/", headers=someone.auth).json()["full_name"] == "After The Edit"

    page.goto(f"{base}/admin/orders/")
    page.click("#logout-form button")
    page.wait_for_url(f"{base}/login/")
    _shot(page, "4-logged-out")

    for site in SERVICE_NAMES:
        page.goto(f"{base}/admin/{site}/")
        assert page.url.startswith(f"{base}/login/?next=/admin/{site}/"), site
        assert page.locator("#id_username").is_visible()
    _shot(page, "5-closed")
    assert csp_violations == []


def test_the_api_docs_work_under_the_content_security_policy(stack, page, csp_violations):
    page.goto(f"{stack.gateway_url}/api/orders/docs/")

    page.wait_for_selector(".opblock-summary-path")
    _shot(page, "6-docs")
    assert "/api/orders/" in page.locator(".opblock-summary-path").first.inner_text()
    assert csp_violations == []


def _hrefs(page: Page, selector: str) -> list[str]:
    return page.eval_on_selector_all(selector, "links => links.map(link => link.getAttribute('href'))")


def test_every_list_add_and_tool_page_of_every_admin_site_keeps_to_the_content_security_policy(
    stack, page, csp_violations
):
    base = stack.gateway_url
    page.goto(f"{base}/login/")
    page.fill("#id_username", DEMO_STAFF_EMAIL)
    page.fill("#id_password", DEMO_STAFF_PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{base}/admin/auth/")
    refused_on: dict[str, list[str]] = {}

    for site in SERVICE_NAMES:
        page.goto(f"{base}/admin/{site}/")
        # Each model's list and add page, and the tools of each list (import, export, add).
        pages = set(_hrefs(page, "#content-main a"))
        for changelist in [path for path in pages if path.endswith("/") and not path.endswith("/add/")]:
            page.goto(f"{base}{changelist}")
            pages.update(_hrefs(page, ".object-tools a"))
        for path in sorted(pages):
            csp_violations.clear()
            response = page.goto(f"{base}{path}")
            assert response is not None, path
            assert response.status == 200, path
            if csp_violations:
                refused_on[path] = list(csp_violations)

    assert refused_on == {}
