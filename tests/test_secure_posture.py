"""Safe to expose: Django's deployment checks pass in production settings, the pages staff use
send a Content-Security-Policy, and whether a request counts as https is the gateway's word,
never a client's."""

import subprocess

import httpx
import pytest

from devstack.stack import BIN, DEMO_STAFF_EMAIL, ROOT
from edge.service_table import SERVICE_NAMES, service_named
from tests.support import DEMO_STAFF_PASSWORD, log_in
from tests.test_kubernetes import config_maps, pod_spec, rendered, the

HSTS = "Strict-Transport-Security"
CSP = "Content-Security-Policy"
# What the pages' policy must hold: scripts from this origin only (no inline script), and no
# framing by another site.
CSP_MUST_SAY = ("script-src 'self'", "frame-ancestors 'none'", "object-src 'none'")
SESSION_COOKIES = ("access_token", "refresh_token")
# A loopback address that no gateway of the end-to-end stack trusts as a proxy.
UNTRUSTED_CLIENT = "127.0.0.2"


def _set_cookie(response: httpx.Response, name: str) -> str:
    return next(header for header in response.headers.get_list("set-cookie") if header.startswith(f"{name}="))


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_the_deploy_checks_find_nothing_in_production_settings(stack, service):
    # What every process reads from the production overlay's ConfigMap, over the stack's own
    # environment, which stands for the Secrets (a database to check the models against too).
    resources = rendered("prod")
    web = pod_spec(the(resources, "Deployment", service))["containers"][0]
    production = {
        name: value
        for source in web["envFrom"]
        for name, value in config_maps(resources)[source["configMapRef"]["name"]].items()
    }
    result = subprocess.run(
        [str(BIN / "python"), "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT / service_named(service).directory,
        env={**stack.environment_for(service), **production},
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_the_login_page_sends_a_content_security_policy(gateway):
    policy = gateway.get("/login/").headers[CSP]

    assert all(directive in policy for directive in CSP_MUST_SAY), policy


def test_every_admin_site_sends_a_content_security_policy(browser):
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)

    for site in SERVICE_NAMES:
        page = browser.get(f"/admin/{site}/")
        assert page.status_code == 200, site
        assert all(directive in page.headers[CSP] for directive in CSP_MUST_SAY), (site, page.headers[CSP])


def test_a_clients_own_x_forwarded_proto_does_not_make_its_request_https(stack):
    # From 127.0.0.2, a client no gateway trusts as a proxy, on plain http, claiming https.
    with httpx.Client(
        base_url=stack.gateway_url,
        transport=httpx.HTTPTransport(local_address=UNTRUSTED_CLIENT),
        headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"},
        timeout=15,
    ) as client:
        # Its http Origin passes Django's CSRF check: Django too saw plain http.
        answer = log_in(client, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)

    assert answer.status_code == 302, answer.text
    assert HSTS not in answer.headers
    for name in SESSION_COOKIES:
        assert "secure" not in _set_cookie(answer, name).lower()


def test_behind_a_trusted_proxy_that_says_https_cookies_are_secure_and_hsts_is_sent(stack):
    # The tests' own connections (from 127.0.0.1) are the end-to-end stack's trusted proxy
    # (conftest.py): it names the client and says the client came over https, as an ingress
    # controller that ended TLS does.
    with httpx.Client(
        base_url=stack.gateway_url,
        headers={"X-Forwarded-For": "203.0.113.8", "X-Forwarded-Proto": "https"},
        timeout=15,
    ) as client:
        form = client.get("/login/")
        answer = client.post(
            "/login/",
            data={
                "csrfmiddlewaretoken": client.cookies["auth_csrftoken"],
                "username": DEMO_STAFF_EMAIL,
                "password": DEMO_STAFF_PASSWORD,
            },
            # The browser's page was https: Django's CSRF check holds the Origin to that.
            headers={"Origin": f"https://{form.url.netloc.decode()}"},
        )

    assert form.headers[HSTS] == "max-age=31536000; includeSubDomains"
    assert answer.status_code == 302, answer.text
    assert HSTS in answer.headers
    for name in SESSION_COOKIES:
        assert "secure" in _set_cookie(answer, name).lower()
