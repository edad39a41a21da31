"""What every service answers the same way: health, JSON 404s, request ids, the API docs."""

from django.test import override_settings


def test_health_reports_the_database_and_redis(client, db):
    response = client.get("/api/edge/health/")

    assert response.status_code == 200
    assert response.json() == {"service": "edge", "status": "ok", "checks": {"database": "ok", "redis": "ok"}}


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_health_is_503_when_redis_is_down(client, db):
    response = client.get("/api/edge/health/")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["redis"] != "ok"


def test_an_unknown_address_is_a_json_404(client, db):
    response = client.get("/api/edge/nothing-here/")

    assert response.status_code == 404
    assert response.json()["detail"] == "Not found."


def test_the_gateway_request_id_is_kept_and_echoed(client, db):
    response = client.get("/api/edge/health/", HTTP_X_REQUEST_ID="abc-123")

    assert response["X-Request-ID"] == "abc-123"


def test_a_request_without_an_id_gets_one(client, db):
    response = client.get("/api/edge/health/", HTTP_X_REQUEST_ID="bad id; with spaces")

    assert len(response["X-Request-ID"]) == 32


def test_the_openapi_schema_and_docs_are_public(client, db):
    schema = client.get("/api/edge/schema/")
    docs = client.get("/api/edge/docs/")

    assert schema.status_code == 200
    assert b"bearerAuth" in schema.content
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
