"""Registering, tokens and the welcome email: one event all the way through the real parts."""

from tests.support import CONFIRMATION_SUBJECT, confirm_email, eventually, log_in_api, sign_up, text_of


def test_a_new_customer_confirms_their_address_and_only_then_gets_the_welcome_with_their_name(gateway, mail):
    email = sign_up(gateway, full_name="Grace Hopper")

    confirmation = mail.wait_for(email, CONFIRMATION_SUBJECT)
    assert "Grace Hopper" not in text_of(confirmation) + str(confirmation["Subject"])
    assert not mail.to(email, "Welcome")
    confirm_email(gateway, mail, email)

    welcome = mail.wait_for(email, "Welcome to Commerce")
    assert "Grace Hopper" in text_of(welcome)
    account = log_in_api(gateway, email)

    def both_sent():
        rows = gateway.get("/api/notify/notifications/", headers=account.auth).json()["results"]
        return rows if len(rows) == 2 and {row["status"] for row in rows} == {"sent"} else None

    rows = eventually(both_sent)
    assert sorted((row["kind"], row["email"]) for row in rows) == [
        ("email_confirmation", email),
        ("welcome", email),
    ]


def test_me_through_the_gateway_shows_the_caller(gateway, customer):
    response = gateway.get("/api/auth/me/", headers=customer.auth)

    assert response.status_code == 200
    assert response.json()["email"] == customer.email


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
