"""edge.json_fields: a JSON body's values must be of the type the schema says; a form's are text."""

import pytest
from rest_framework.test import APIClient

NOTICES = "/api/edge/notices/"


@pytest.fixture
def staff_client(make_token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_token(1, is_staff=True)}")
    return client


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": 12}, "text"),
        ({"text": True}, "text"),
        ({"text": "Open", "pinned": "yes"}, "pinned"),
        ({"text": "Open", "pinned": 1}, "pinned"),
        ({"text": "Open", "order": "3"}, "order"),
        ({"text": "Open", "order": 3.0}, "order"),
        ({"text": "Open", "order": True}, "order"),
    ],
)
def test_a_json_value_of_another_type_is_a_400_naming_the_field(staff_client, db, body, field):
    response = staff_client.post(NOTICES, body, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_json_values_of_the_documented_types_are_taken(staff_client, db):
    response = staff_client.post(NOTICES, {"text": "Open", "pinned": True, "order": 3}, format="json")

    assert response.status_code == 201
    assert response.json() == {"text": "Open", "pinned": True, "order": 3}


def test_a_form_posts_its_values_as_text(staff_client, db):
    response = staff_client.post(NOTICES, {"text": "Open", "pinned": "true", "order": "3"})

    assert response.status_code == 201
    assert response.json() == {"text": "Open", "pinned": True, "order": 3}
