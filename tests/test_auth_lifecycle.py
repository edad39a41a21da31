"""The life of a token and of an account, through the gateway: rotation, logout, revocation,
key rotation, profile, password change and reset, staff user management (brute force:
test_brute_force.py)."""

import re
import time

import httpx
import jwt

from devstack.stack import DEMO_STAFF_EMAIL
from edge.service_table import SERVICE_NAMES
from tests.support import DEMO_STAFF_PASSWORD, eventually, log_in, register

NEW_PASSWORD = "a-brand-new-passphrase-42"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _tokens(gateway: httpx.Client, email: str, password: str) -> dict:
    response = gateway.post("/api/auth/token/", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_used_refresh_token_cannot_be_used_again(gateway, customer):
    first = _tokens(gateway, customer.email, customer.password)["refresh"]

    rotated = gateway.post("/api/auth/token/refresh/", json={"refresh": first})
    replayed = gateway.post("/api/auth/token/refresh/", json={"refresh": first})

    assert rotated.status_code == 200
    assert replayed.status_code == 401


def test_reusing_a_rotated_refresh_token_revokes_every_token_of_the_user_everywhere(stack, gateway, customer):
    """The thief may have been first: the thief's tokens and the owner's all stop working."""
    stolen = _tokens(gateway, customer.email, customer.password)["refresh"]
    thief = gateway.post("/api/auth/token/refresh/", json={"refresh": stolen}).json()

    replayed = gateway.post("/api/auth/token/refresh/", json={"refresh": stolen})

    assert replayed.status_code == 401
    assert replayed.json()["detail"].startswith("Token was used before")
    assert gateway.post("/api/auth/token/refresh/", json={"refresh": thief["refresh"]}).status_code == 401
    for access in (thief["access"], customer.access):
        assert gateway.get("/api/auth/me/", headers=_bearer(access)).status_code == 401
        with httpx.Client(base_url=stack.service_url("orders")) as direct:
            assert direct.get("/api/orders/", headers=_bearer(access)).status_code == 401
    assert _tokens(gateway, customer.email, customer.password)["access"]


def _session_begun_hours_ago(stack, raw_refresh: str, hours: float) -> str:
    """The same refresh token as if its password had been entered ``hours`` ago (auth's key signs it)."""
    private_dir = stack.state / "keys" / "private"
    kid = (private_dir / "current").read_text().strip()
    claims = jwt.decode(raw_refresh, options={"verify_signature": False})
    claims["auth_time"] = int(time.time() - hours * 3600)
    return jwt.encode(claims, (private_dir / f"{kid}.pem").read_text(), "RS256", headers={"kid": kid})


def test_a_staff_session_cannot_be_renewed_past_twelve_hours_on_the_api(stack, gateway):
    refresh = _tokens(gateway, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)["refresh"]

    renewed = gateway.post(
        "/api/auth/token/refresh/", json={"refresh": _session_begun_hours_ago(stack, refresh, 12.1)}
    )

    assert renewed.status_code == 401
    assert renewed.json()["detail"] == "The session has reached its time limit; log in again."


def test_a_customer_session_renews_past_twelve_hours_on_the_api(stack, gateway, customer):
    refresh = _tokens(gateway, customer.email, customer.password)["refresh"]

    renewed = gateway.post(
        "/api/auth/token/refresh/", json={"refresh": _session_begun_hours_ago(stack, refresh, 12.1)}
    )

    assert renewed.status_code == 200


def test_right_after_logout_the_access_token_gets_401_at_the_gateway(gateway, customer):
    """Even while the gateway's cache still holds the token check's earlier yes: each service
    checks the revocation itself."""
    tokens = _tokens(gateway, customer.email, customer.password)
    protected = ["/api/auth/me/", "/api/orders/", "/api/notify/notifications/"]
    assert [gateway.get(path, headers=_bearer(tokens["access"])).status_code for path in protected] == [
        200
    ] * 3

    logout = gateway.post(
        "/api/auth/logout/", json={"refresh": tokens["refresh"]}, headers=_bearer(tokens["access"])
    )

    assert logout.status_code == 204
    assert [gateway.get(path, headers=_bearer(tokens["access"])).status_code for path in protected] == [
        401
    ] * 3
    assert gateway.post("/api/auth/token/refresh/", json={"refresh": tokens["refresh"]}).status_code == 401


def test_a_deactivated_customer_is_cut_off_at_the_gateway_and_at_each_service(
    stack, gateway, customer, staff_token
):
    deactivated = gateway.patch(
        f"/api/auth/users/{customer.id}/", json={"is_active": False}, headers=_bearer(staff_token)
    )

    assert deactivated.status_code == 200
    assert gateway.get("/api/auth/me/", headers=customer.auth).status_code == 401
    with httpx.Client(base_url=stack.service_url("notify")) as direct:
        assert direct.get("/api/notify/notifications/", headers=customer.auth).status_code == 401
    assert (
        gateway.post(
            "/api/auth/token/", json={"email": customer.email, "password": customer.password}
        ).status_code
        == 401
    )


def test_removing_staff_closes_every_admin_site_on_the_next_request(gateway, mail, browser, staff_token):
    colleague = register(gateway, mail, full_name="Temporary Colleague")
    granted = gateway.patch(
        f"/api/auth/users/{colleague.id}/",
        json={"is_staff": True, "roles": ["catalog_editor"]},
        headers=_bearer(staff_token),
    )
    assert granted.status_code == 200
    log_in(browser, colleague.email, colleague.password)
    assert browser.get("/admin/catalog/").status_code == 200

    removed = gateway.patch(
        f"/api/auth/users/{colleague.id}/", json={"is_staff": False}, headers=_bearer(staff_token)
    )

    assert removed.status_code == 200
    # The change revoked the session's tokens, the refresh token too: back to the login page.
    for site in [f"/admin/{name}/" for name in SERVICE_NAMES]:
        page = browser.get(site, follow_redirects=True)
        assert page.url.path == "/login/", site
    log_in(browser, colleague.email, colleague.password)
    assert browser.get("/admin/catalog/", follow_redirects=True).status_code == 403


def test_staff_find_users_by_search_and_filter(gateway, mail, staff_token):
    someone = register(gateway, mail, full_name="Findable Person")

    found = gateway.get("/api/auth/users/", params={"search": someone.email}, headers=_bearer(staff_token))
    staff_only = gateway.get("/api/auth/users/", params={"is_staff": "true"}, headers=_bearer(staff_token))

    assert [row["id"] for row in found.json()["results"]] == [someone.id]
    assert DEMO_STAFF_EMAIL in [row["email"] for row in staff_only.json()["results"]]
    assert all(row["is_staff"] for row in staff_only.json()["results"])


def test_a_customer_cannot_use_the_staff_users_api(gateway, customer):
    assert gateway.get("/api/auth/users/", headers=customer.auth).status_code == 403


def test_a_customer_sees_and_renames_themselves(gateway, customer):
    renamed = gateway.patch("/api/auth/me/", json={"full_name": "Renamed Customer"}, headers=customer.auth)

    assert renamed.status_code == 200
    assert gateway.get("/api/auth/me/", headers=customer.auth).json()["full_name"] == "Renamed Customer"


def test_changing_the_password_revokes_the_old_tokens(gateway, customer):
    changed = gateway.post(
        "/api/auth/password/change/",
        json={"old_password": customer.password, "new_password": NEW_PASSWORD},
        headers=customer.auth,
    )

    assert changed.status_code == 200
    assert gateway.get("/api/auth/me/", headers=customer.auth).status_code == 401
    assert gateway.get("/api/auth/me/", headers=_bearer(changed.json()["access"])).status_code == 200
    assert _tokens(gateway, customer.email, NEW_PASSWORD)["access"]


def test_a_password_reset_by_email_sets_a_new_password_and_revokes_every_token(
    stack, gateway, browser, mail, customer
):
    requested = gateway.post("/api/auth/password/reset/", json={"email": customer.email})
    unknown = gateway.post("/api/auth/password/reset/", json={"email": "nobody-at-all@example.com"})
    assert (
        (requested.status_code, requested.json())
        == (unknown.status_code, unknown.json())
        == (
            202,
            requested.json(),
        )
    )

    email = eventually(lambda: [m for m in mail.to(customer.email) if "Reset" in m["Subject"]])[0]
    plain = next(part for part in email.walk() if part.get_content_type() == "text/plain")
    link = re.search(r"http://\S+/password-reset/\S+/", plain.get_payload(decode=True).decode()).group(0)
    assert link.startswith(browser.base_url.join("/").__str__().rstrip("/"))
    form = browser.get(link, follow_redirects=True)
    assert form.status_code == 200
    done = browser.post(
        str(form.url),
        data={
            "csrfmiddlewaretoken": browser.cookies["auth_csrftoken"],
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        headers={"Referer": str(form.url), "Origin": str(browser.base_url).rstrip("/")},
        follow_redirects=True,
    )

    assert done.url.path == "/password-reset/done/"
    assert gateway.get("/api/auth/me/", headers=customer.auth).status_code == 401
    assert _tokens(gateway, customer.email, NEW_PASSWORD)["access"]
    assert (
        browser.get(link, follow_redirects=True).status_code == 200
    )  # the form, now saying the link is used
    assert "invalid" in browser.get(link, follow_redirects=True).text.lower()
    # Only the email held the link's token: no log of the gateway or of any service did.
    token = link.rstrip("/").rsplit("/", 1)[1]

    def logged() -> dict[str, str]:
        return {path.name: path.read_text(errors="replace") for path in stack.logs.glob("*.log")}

    # Every gateway of the stack logs to its own nginx-<n>-access.log, a buffer at least every
    # second: the one that served the link wrote where it led, not the token.
    def gateway_logged_the_link() -> bool:
        return any(
            "/password-reset/[redacted]/" in text
            for name, text in logged().items()
            if re.fullmatch(r"nginx-\d+-access\.log", name)
        )

    eventually(gateway_logged_the_link, timeout=5)
    assert [name for name, text in logged().items() if token in text] == []


def test_a_key_rotation_keeps_earlier_tokens_valid_and_new_ones_use_the_new_key(stack, gateway, customer):
    old_kid = jwt.get_unverified_header(customer.access)["kid"]

    stack.manage("auth", "rotate_signing_key")
    fresh = _tokens(gateway, customer.email, customer.password)["access"]

    new_kid = jwt.get_unverified_header(fresh)["kid"]
    assert new_kid != old_kid
    published = {key["kid"] for key in gateway.get("/api/auth/.well-known/jwks.json").json()["keys"]}
    assert {old_kid, new_kid} <= published
    for token in (customer.access, fresh):
        assert gateway.get("/api/auth/me/", headers=_bearer(token)).status_code == 200
        with httpx.Client(base_url=stack.service_url("notify")) as direct:
            assert direct.get("/api/notify/notifications/", headers=_bearer(token)).status_code == 200


def test_an_expired_access_cookie_is_renewed_without_the_login_page(browser):
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
    browser.cookies.delete("access_token")

    page = browser.get("/admin/orders/", follow_redirects=True)

    assert page.status_code == 200
    assert page.url.path == "/admin/orders/"
    assert "Site administration" in page.text
