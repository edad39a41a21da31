import jwt

from tests.factories import PASSWORD

TOKEN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
ME = "/api/auth/me/"


def test_a_user_gets_tokens_whose_claims_every_service_reads(api_client, staff):
    response = api_client.post(TOKEN, {"email": staff.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200
    claims = jwt.decode(response.json()["access"], options={"verify_signature": False})
    assert jwt.get_unverified_header(response.json()["access"])["alg"] == "RS256"
    assert int(claims["user_id"]) == staff.pk
    assert claims["email"] == staff.email
    assert claims["is_staff"] is True
    assert claims["is_superuser"] is False
    assert claims["jti"]


def test_a_wrong_password_gets_401(api_client, customer):
    response = api_client.post(TOKEN, {"email": customer.email, "password": "wrong"}, format="json")

    assert response.status_code == 401
    assert "detail" in response.json()


def test_a_missing_password_gets_400_naming_the_field(api_client, customer):
    response = api_client.post(TOKEN, {"email": customer.email}, format="json")

    assert response.status_code == 400
    assert "password" in response.json()


def test_a_refresh_token_gives_a_new_access_token(api_client, customer):
    refresh = api_client.post(TOKEN, {"email": customer.email, "password": PASSWORD}, format="json").json()[
        "refresh"
    ]

    response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 200
    claims = jwt.decode(response.json()["access"], options={"verify_signature": False})
    assert claims["email"] == customer.email


def test_me_shows_the_caller(api_client, customer, access_token_for):
    response = api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access_token_for(customer)}")

    assert response.status_code == 200
    assert response.json()["email"] == customer.email
    assert "password" not in response.json()


def test_me_without_a_token_is_401(api_client, db):
    response = api_client.get(ME)

    assert response.status_code == 401
    assert response.json()["detail"]
