"""The catalog's OpenAPI schema says what the API answers (tests/test_fuzz.py holds it to that)."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(api_client) -> dict:
    response = api_client.get("/api/catalog/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    return response.json()


def _answer(schema: dict, path: str, method: str, status: str = "200") -> dict:
    return schema["paths"][f"/api/catalog/{path}"][method]["responses"][status]["content"][
        "application/json"
    ]["schema"]


def test_stock_and_its_ledger_are_documented_as_what_they_answer(schema):
    # Both were documented as a product.
    assert _answer(schema, "products/{id}/stock/", "get") == {"$ref": "#/components/schemas/Stock"}
    assert _answer(schema, "products/{id}/stock/", "post") == {"$ref": "#/components/schemas/Stock"}
    movements = _answer(schema, "products/{id}/movements/", "get")
    assert movements == {"$ref": "#/components/schemas/PaginatedStockMovementList"}


def test_the_category_list_is_documented_as_a_tree(schema):
    assert _answer(schema, "categories/", "get") == {
        "type": "array",
        "items": {"$ref": "#/components/schemas/CategoryNode"},
    }
    node = schema["components"]["schemas"]["CategoryNode"]
    assert node["properties"]["children"]["items"] == {"$ref": "#/components/schemas/CategoryNode"}
    assert "active" not in node["required"]


@pytest.mark.parametrize("path", ["products/", "products/{id}/", "products/slug/{slug}/", "categories/"])
def test_public_reads_need_no_token(schema, path):
    assert {} in schema["paths"][f"/api/catalog/{path}"]["get"]["security"]


def test_staff_reads_and_writes_need_a_token(schema):
    assert {} not in schema["paths"]["/api/catalog/products/{id}/stock/"]["get"]["security"]
    assert {} not in schema["paths"]["/api/catalog/products/"]["post"]["security"]


def test_a_refused_write_is_documented(schema):
    responses = schema["paths"]["/api/catalog/products/"]["post"]["responses"]

    assert {"400", "401", "403", "409"} <= set(responses)
    assert responses["409"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


def test_the_in_stock_filter_is_documented_as_the_words_it_takes(schema):
    in_stock = next(
        parameter
        for parameter in schema["paths"]["/api/catalog/products/"]["get"]["parameters"]
        if parameter["name"] == "in_stock"
    )

    assert in_stock["schema"]["type"] == "string"
    assert sorted(in_stock["schema"]["enum"]) == ["0", "1", "false", "true"]
