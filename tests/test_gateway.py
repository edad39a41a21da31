"""The gateway: routes, its own JSON errors, request ids, identity headers, CORS."""

import json
import re

import httpx
import pytest

from edge.service_table import SERVICE_NAMES
from tests.support import ALLOWED_ORIGIN, eventually


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
