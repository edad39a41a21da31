"""The gateway: routes, its own JSON errors, request ids, identity headers, CORS."""

import json
import re

import httpx
import pytest

from devstack.stack import ROOT
from edge.service_table import SERVICE_NAMES
from tests.support import ALLOWED_ORIGIN, eventually

GATEWAY_TEMPLATE = ROOT / "nginx" / "gateway.conf.template"
# A request to each location of the gateway's public server, by the location as the template
# says it: what the walk below sends every method to, with every kind of credential.
ROUTES = {
    "= /healthz": ["/healthz"],
    "~ ^/static/(${SERVICE_NAMES})/": [f"/static/{service}/nothing-here.css" for service in SERVICE_NAMES],
    "~ ^/api/(${SERVICE_NAMES})/(schema|docs|health)/": [
        "/api/auth/schema/",
        "/api/auth/docs/",
        *[f"/api/{service}/health/" for service in SERVICE_NAMES],
    ],
    r"~ ^/api/auth/(register/confirm/|token/refresh/|password/reset/confirm/|\.well-known/jwks\.json)$": [
        "/api/auth/register/confirm/",
        "/api/auth/token/refresh/",
        "/api/auth/password/reset/confirm/",
        "/api/auth/.well-known/jwks.json",
    ],
    "= /api/auth/register/": ["/api/auth/register/"],
    "~ ^/(api/auth/token/|api/auth/password/reset/|login/)$": [
        "/api/auth/token/",
        "/api/auth/password/reset/",
        "/login/",
    ],
    "~ ^/(login/refresh|login/end|logout/|password-reset/.*|register/.*)$": [
        "/login/refresh",
        "/login/end",
        "/logout/",
        "/password-reset/bm8/no-such-token/",
        "/register/confirm/bm8/no-such-token/",
    ],
    # No object 999999: a staff write is refused (404) and changes nothing.
    "/api/catalog/": ["/api/catalog/products/", "/api/catalog/categories/999999/"],
    # An empty POST places nothing: it is a 400.
    "= /api/orders/": ["/api/orders/"],
    "~ ^/api/(auth|orders|notify)/": ["/api/auth/me/", "/api/orders/999999/", "/api/notify/notifications/"],
    "~ ^/admin/(${SERVICE_NAMES})/": [f"/admin/{service}/" for service in SERVICE_NAMES],
    "^~ /admin/flower/": ["/admin/flower/"],
    "= /_gateway_error/400": ["/_gateway_error/400"],
    "= /_gateway_error/414": ["/_gateway_error/414"],
    "= /_auth": ["/_auth"],
    "= /_auth_staff": ["/_auth_staff"],
    "/": ["/nowhere/at/all"],
}
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
# Pages for a browser, where a service's own refusal (Django's CSRF or 405 page) is HTML.
PAGES = re.compile(r"^/(admin/|login/|logout/|password-reset/|register/|api/[a-z]+/docs/)")


def test_the_gateway_answers_its_own_health_check(gateway):
    response = gateway.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_each_service_reports_its_database_and_redis(gateway, service):
    response = gateway.get(f"/api/{service}/health/")

    assert response.status_code == 200
    assert response.json() == {
        "service": service,
        "status": "ok",
        "checks": {"database": "ok", "redis": "ok"},
    }


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_each_service_serves_its_openapi_schema_and_docs_without_the_internet(gateway, service):
    schema = gateway.get(f"/api/{service}/schema/", headers={"Accept": "application/json"})
    docs = gateway.get(f"/api/{service}/docs/")

    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == f"{service} service API"
    assert docs.status_code == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs.text)
    assert assets
    assert not [asset for asset in assets if asset.startswith(("http:", "https:", "//"))]
    for asset in assets:
        assert gateway.get(asset).status_code == 200, asset


def test_an_unknown_path_is_a_json_404(gateway):
    response = gateway.get("/nowhere/at/all")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"] == "Not found."


def test_the_walk_covers_every_location_of_the_gateway():
    public_server = next(
        block
        for block in GATEWAY_TEMPLATE.read_text().split("\nserver {")
        if "listen ${GATEWAY_LISTEN};" in block
    )
    locations = re.findall(r"^\s*location\s+([^@].*?)\s*\{$", public_server, re.MULTILINE)

    assert sorted(locations) == sorted(ROUTES)


@pytest.mark.parametrize("credential", ["anonymous", "customer", "staff", "bad token"])
def test_every_refusal_of_every_route_and_method_is_json(gateway, credential, request):
    headers = {
        "anonymous": {},
        "customer": lambda: request.getfixturevalue("customer").auth,
        "staff": lambda: request.getfixturevalue("staff"),
        "bad token": {"Authorization": "Bearer not-a-token"},
    }[credential]
    headers = headers() if callable(headers) else headers

    not_json = []
    for path in [path for paths in ROUTES.values() for path in paths]:
        for method in METHODS:
            body = b"{}" if method in ("POST", "PUT", "PATCH") else None
            response = gateway.request(
                method, path, content=body, headers={**headers, "Content-Type": "application/json"}
            )
            # Django's security middleware marks every answer a service made; nginx's own lack it.
            by_the_gateway = "x-content-type-options" not in response.headers
            if response.status_code < 400 or response.headers.get("content-type") == "application/json":
                continue
            if by_the_gateway or not PAGES.match(path):
                not_json.append(
                    f"{method} {path}: {response.status_code} {response.headers.get('content-type')}"
                )

    assert not_json == []


@pytest.mark.parametrize("path", ["/api/catalog/products/", "/api/orders/", "/admin/catalog/"])
def test_a_body_over_the_limit_is_a_json_413(gateway, staff, path):
    response = gateway.post(path, content=b"x" * (6 * 1024 * 1024), headers=staff)

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/json"


def test_a_request_line_over_the_limit_is_a_json_414(gateway):
    response = gateway.get("/api/catalog/products/", params={"search": "x" * 10_000})

    assert response.status_code == 414
    assert response.headers["content-type"] == "application/json"


def test_a_refused_catalog_write_is_json(gateway, customer):
    anonymous = gateway.post("/api/catalog/products/", json={})
    as_customer = gateway.post("/api/catalog/products/", json={}, headers=customer.auth)

    assert (anonymous.status_code, anonymous.headers["content-type"]) == (401, "application/json")
    assert (as_customer.status_code, as_customer.headers["content-type"]) == (403, "application/json")
    assert anonymous.json()["detail"]
    assert as_customer.json()["detail"]


def test_the_token_check_is_not_reachable_from_outside(gateway):
    assert gateway.get("/internal/verify").status_code == 404
    assert gateway.get("/_auth").status_code == 404


@pytest.mark.parametrize("path", ["/api/orders/", "/api/notify/notifications/", "/api/auth/me/"])
def test_a_protected_route_without_a_token_is_401_json(gateway, path):
    response = gateway.get(path)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/json"
    assert response.json()["detail"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-token", "Bearer eyJhbGciOiJub25lIn0.eyJ1c2VyX2lkIjoxfQ.", "Basic c3RhZmY6c3RhZmY="],
)
def test_a_malformed_or_forged_token_is_401_at_the_gateway(gateway, authorization):
    response = gateway.get("/api/notify/notifications/", headers={"Authorization": authorization})

    assert response.status_code == 401
    assert response.json()["detail"]


def test_the_gateway_makes_a_request_id_and_the_service_logs_it(gateway, stack):
    response = gateway.get("/api/auth/health/")

    request_id = response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert _logged_requests(stack, "auth", request_id)


def test_a_client_request_id_is_passed_through(gateway, stack):
    response = gateway.get("/api/catalog/health/", headers={"X-Request-ID": "trace-me-123"})

    assert response.headers["X-Request-ID"] == "trace-me-123"
    assert _logged_requests(stack, "catalog", "trace-me-123")


def test_identity_headers_sent_by_the_client_are_replaced_by_the_verified_ones(gateway, stack, customer):
    spoofed = {"X-User-Id": "1", "X-User-Email": "staff@example.com", "X-User-Staff": "true"}

    public = gateway.get("/api/auth/health/", headers={**spoofed, "X-Request-ID": "spoof-public"})
    protected = gateway.get(
        "/api/auth/me/", headers={**spoofed, "X-Request-ID": "spoof-protected", **customer.auth}
    )

    assert public.status_code == 200
    assert protected.json()["email"] == customer.email
    assert _logged_requests(stack, "auth", "spoof-public")[0]["gateway_user_id"] == ""
    served = _logged_requests(stack, "auth", "spoof-protected", path="/api/auth/me/")
    assert served[0]["gateway_user_id"] == str(customer.id)


def test_a_cors_preflight_from_an_allowed_origin_passes_without_credentials(gateway):
    response = gateway.options(
        "/api/orders/",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "authorization" in response.headers["access-control-allow-headers"]


def test_a_cors_preflight_from_another_origin_gets_no_grant(gateway):
    response = gateway.options(
        "/api/orders/", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )

    assert "access-control-allow-origin" not in response.headers


def test_a_service_reached_directly_checks_the_token_itself(stack, customer):
    port = stack.config.service_port("notify")
    forged = {"X-User-Id": str(customer.id), "X-User-Email": customer.email, "X-User-Staff": "true"}

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as direct:
        spoofed = direct.get("/api/notify/notifications/", headers=forged)
        bad_token = direct.get(
            "/api/notify/notifications/", headers={"Authorization": "Bearer forged.token.here"}
        )
        good_token = direct.get("/api/notify/notifications/", headers=customer.auth)

    assert spoofed.status_code == 401
    assert bad_token.status_code == 401
    assert good_token.status_code == 200


def _logged_requests(stack, service: str, request_id: str, path: str | None = None) -> list[dict]:
    """The JSON request lines the service's web processes (one log per replica) logged with
    this request id (and path), once there are any: their output reaches the log file through
    supervisord, a moment after the answer reaches the client."""

    def logged() -> list[dict]:
        lines = [
            line for log in stack.logs.glob(f"{service}-web*.log") for line in log.read_text().splitlines()
        ]
        records = [json.loads(line) for line in lines if line.startswith("{") and request_id in line]
        return [
            record
            for record in records
            if record.get("message") == "request"
            and record["request_id"] == request_id
            and path in (None, record["path"])
        ]

    return eventually(logged, timeout=10)
