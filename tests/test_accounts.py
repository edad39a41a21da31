"""Registering, tokens and the welcome email: one event all the way through the real parts."""

from tests.support import eventually, register


def test_a_new_customer_gets_a_welcome_email_and_sees_it_in_notify(gateway, mail):
    account = register(gateway, full_name="Grace Hopper")

    emails = eventually(lambda: mail.to(account.email))
    assert len(emails) == 1
    assert emails[0]["Subject"] == "Welcome to Commerce"
    plain = next(part for part in emails[0].walk() if part.get_content_type() == "text/plain")
    assert "Grace Hopper" in plain.get_payload(decode=True).decode()

    def sent_notification():
        rows = gateway.get("/api/notify/notifications/", headers=account.auth).json()["results"]
        return rows if rows and rows[0]["status"] == "sent" else None

    rows = eventually(sent_notification)
    assert [(row["kind"], row["email"]) for row in rows] == [("welcome", account.email)]


def test_me_through_the_gateway_shows_the_caller(gateway, customer):
    response = gateway.get("/api/auth/me/", headers=customer.auth)

    assert response.status_code == 200
    assert response.json()["email"] == customer.email


def test_registering_a_taken_email_is_400_with_the_field(gateway, customer):
    response = gateway.post(
        "/api/auth/register/", json={"email": customer.email, "password": "another-long-secret"}
    )

    assert response.status_code == 400
    assert response.json()["email"] == ["A user with this email already exists."]


def test_registering_with_a_malformed_email_or_weak_password_is_400_per_field(gateway):
    malformed = gateway.post(
        "/api/auth/register/", json={"email": "nobody", "password": "another-long-secret"}
    )
    weak = gateway.post("/api/auth/register/", json={"email": "weak@example.com", "password": "password"})

    assert malformed.status_code == 400
    assert "email" in malformed.json()
    assert weak.status_code == 400
    assert "password" in weak.json()


def test_a_broken_json_body_is_400_not_500(gateway):
    response = gateway.post(
        "/api/auth/register/", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_a_refreshed_access_token_works_at_the_gateway(gateway, customer):
    tokens = gateway.post(
        "/api/auth/token/", json={"email": customer.email, "password": customer.password}
    ).json()
    refreshed = gateway.post("/api/auth/token/refresh/", json={"refresh": tokens["refresh"]})

    assert refreshed.status_code == 200
    me = gateway.get("/api/auth/me/", headers={"Authorization": f"Bearer {refreshed.json()['access']}"})
    assert me.json()["email"] == customer.email


def test_a_refresh_token_is_not_an_access_token_at_the_gateway(gateway, customer):
    tokens = gateway.post(
        "/api/auth/token/", json={"email": customer.email, "password": customer.password}
    ).json()

    response = gateway.get("/api/auth/me/", headers={"Authorization": f"Bearer {tokens['refresh']}"})

    assert response.status_code == 401
