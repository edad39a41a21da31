from accounts.models import User
from edge.events import UserRegistered
from edge.messaging.models import OutboxMessage

REGISTER = "/api/auth/register/"


def test_registering_creates_the_user_and_announces_it(api_client, db):
    response = api_client.post(
        REGISTER,
        {"email": "New@Example.com", "password": "a-long-enough-secret", "full_name": "New Person"},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["email"] == "New@example.com"
    user = User.objects.get(email="New@example.com")
    assert user.check_password("a-long-enough-secret")
    message = OutboxMessage.objects.get(event_type=UserRegistered.type)
    assert message.payload["user_id"] == user.pk
    assert message.payload["email"] == "New@example.com"


def test_registering_a_taken_email_answers_400_and_creates_nothing(api_client, customer):
    response = api_client.post(
        REGISTER, {"email": customer.email.upper(), "password": "a-long-enough-secret"}, format="json"
    )

    assert response.status_code == 400
    assert "email" in response.json()
    assert User.objects.count() == 1
    assert not OutboxMessage.objects.exists()


def test_registering_with_a_malformed_email_answers_400_with_the_field(api_client, db):
    response = api_client.post(
        REGISTER, {"email": "not-an-email", "password": "a-long-enough-secret"}, format="json"
    )

    assert response.status_code == 400
    assert list(response.json()) == ["email"]


def test_registering_with_a_weak_password_answers_400_with_the_reasons(api_client, db):
    response = api_client.post(REGISTER, {"email": "weak@example.com", "password": "12345678"}, format="json")

    assert response.status_code == 400
    reasons = response.json()["password"]
    assert any("too common" in reason for reason in reasons)
    assert not User.objects.filter(email="weak@example.com").exists()


def test_registering_with_no_body_lists_the_required_fields(api_client, db):
    response = api_client.post(REGISTER, "not json", content_type="application/json")

    assert response.status_code == 400
    assert "detail" in response.json()
