"""edge.schema: what every service's OpenAPI schema documents alike (refusals, security, headers)."""

import pytest


@pytest.fixture
def schema(client, db) -> dict:
    response = client.get("/api/edge/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def test_public_reads_need_no_token_and_writes_need_one(schema):
    notices = schema["paths"]["/api/edge/notices/"]

    assert {} in notices["get"]["security"]
    assert {} not in notices["post"]["security"]


def test_every_refusal_an_operation_can_meet_is_documented_with_a_json_body(schema):
    read = schema["paths"]["/api/edge/notices/"]["get"]["responses"]
    write = schema["paths"]["/api/edge/notices/"]["post"]["responses"]

    # Anyone reads: a bad token is 401, never 403; nothing to validate, no 400.
    assert sorted(read) == ["200", "401", "503"]
    assert sorted(write) == ["201", "400", "401", "403", "503"]
    error = write["403"]["content"]["application/json"]["schema"]["$ref"]
    assert error == "#/components/schemas/Error"
    assert schema["components"]["schemas"]["Error"]["required"] == ["detail"]
    invalid = write["400"]["content"]["application/json"]["schema"]["$ref"]
    assert invalid == "#/components/schemas/ValidationError"


def test_a_refusal_to_retry_later_documents_retry_after(schema):
    unavailable = schema["paths"]["/api/edge/notices/"]["post"]["responses"]["503"]

    assert unavailable["headers"]["Retry-After"]["schema"] == {"type": "integer"}


def test_an_idempotent_post_documents_its_key_and_the_replayed_header(schema):
    greetings = schema["paths"]["/api/edge/greetings/"]["post"]

    key = next(parameter for parameter in greetings["parameters"] if parameter["name"] == "Idempotency-Key")
    assert key["required"] is True
    replayed = greetings["responses"]["201"]["headers"]["Idempotent-Replayed"]
    assert replayed["schema"] == {"type": "string", "enum": ["true"]}
