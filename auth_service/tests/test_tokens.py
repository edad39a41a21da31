from io import StringIO

import jwt
from django.core.management import call_command

from edge.conf import edge_settings
from tests.factories import PASSWORD

TOKEN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
LOGOUT = "/api/auth/logout/"
ME = "/api/auth/me/"
JWKS = "/api/auth/.well-known/jwks.json"


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
    assert (claims["iss"], claims["aud"]) == (edge_settings.JWT_ISSUER, edge_settings.JWT_AUDIENCE)


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


def _tokens(api_client, user) -> dict:
    return api_client.post(TOKEN, {"email": user.email, "password": PASSWORD}, format="json").json()


def test_refreshing_rotates_the_refresh_token_and_the_used_one_is_refused(api_client, customer):
    first = _tokens(api_client, customer)["refresh"]

    rotated = api_client.post(REFRESH, {"refresh": first}, format="json")
    replayed = api_client.post(REFRESH, {"refresh": first}, format="json")

    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first
    assert replayed.status_code == 401
    assert api_client.post(REFRESH, {"refresh": rotated.json()["refresh"]}, format="json").status_code == 200


def test_a_deactivated_user_cannot_refresh(api_client, customer):
    refresh = _tokens(api_client, customer)["refresh"]
    customer.is_active = False
    customer.save()

    response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 401


def test_a_refreshed_access_token_carries_the_users_current_name_and_flags(api_client, customer):
    refresh = _tokens(api_client, customer)["refresh"]
    customer.email = "renamed@example.com"
    customer.save()

    access = api_client.post(REFRESH, {"refresh": refresh}, format="json").json()["access"]

    assert jwt.decode(access, options={"verify_signature": False})["email"] == "renamed@example.com"


def test_an_access_token_as_refresh_token_is_401(api_client, customer):
    access = _tokens(api_client, customer)["access"]

    assert api_client.post(REFRESH, {"refresh": access}, format="json").status_code == 401


def test_logout_revokes_the_access_token_and_the_refresh_token(api_client, customer):
    tokens = _tokens(api_client, customer)
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {tokens['access']}"}

    response = api_client.post(LOGOUT, {"refresh": tokens["refresh"]}, format="json", **bearer)

    assert response.status_code == 204
    assert api_client.get(ME, **bearer).status_code == 401
    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_logout_without_the_refresh_token_revokes_the_one_issued_with_the_access_token(api_client, customer):
    tokens = _tokens(api_client, customer)

    api_client.post(LOGOUT, HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    assert api_client.post(REFRESH, {"refresh": tokens["refresh"]}, format="json").status_code == 401


def test_logout_refuses_to_revoke_another_users_refresh_token(api_client, customer, staff):
    mine, theirs = _tokens(api_client, customer), _tokens(api_client, staff)

    response = api_client.post(
        LOGOUT, {"refresh": theirs["refresh"]}, format="json", HTTP_AUTHORIZATION=f"Bearer {mine['access']}"
    )

    assert response.status_code == 403
    assert api_client.post(REFRESH, {"refresh": theirs["refresh"]}, format="json").status_code == 200


def test_too_many_wrong_passwords_lock_the_account_with_429(api_client, customer, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        assert (
            api_client.post(TOKEN, {"email": customer.email, "password": "x"}, format="json").status_code
            == 401
        )

    response = api_client.post(TOKEN, {"email": customer.email, "password": PASSWORD}, format="json")

    assert response.status_code == 429
    assert response.json()["detail"]
    assert "access" not in response.json()


def test_failures_for_one_account_do_not_lock_another(api_client, customer, staff, settings):
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        api_client.post(TOKEN, {"email": customer.email, "password": "x"}, format="json")

    response = api_client.post(TOKEN, {"email": staff.email, "password": PASSWORD}, format="json")

    assert response.status_code == 200


def test_tokens_name_the_key_that_signed_them_and_the_jwks_publishes_it(api_client, customer):
    access = _tokens(api_client, customer)["access"]

    jwks = api_client.get(JWKS).json()

    kid = jwt.get_unverified_header(access)["kid"]
    published = {key["kid"]: key for key in jwks["keys"]}
    assert published[kid]["kty"] == "RSA"
    assert published[kid]["alg"] == "RS256"
    assert "d" not in published[kid]
    public_key = jwt.PyJWK(published[kid]).key
    claims = jwt.decode(access, public_key, algorithms=["RS256"], audience=edge_settings.JWT_AUDIENCE)
    assert claims["user_id"] == str(customer.pk)


def test_after_a_key_rotation_old_tokens_still_work_and_new_ones_use_the_new_key(
    api_client, customer, key_dir
):
    old = _tokens(api_client, customer)
    old_kid = jwt.get_unverified_header(old["access"])["kid"]

    call_command("rotate_signing_key", stdout=StringIO())
    new = _tokens(api_client, customer)

    new_kid = jwt.get_unverified_header(new["access"])["kid"]
    assert new_kid != old_kid
    assert {key["kid"] for key in api_client.get(JWKS).json()["keys"]} == {old_kid, new_kid}
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {old['access']}").status_code == 200
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {new['access']}").status_code == 200
    assert api_client.post(REFRESH, {"refresh": old["refresh"]}, format="json").status_code == 200
    # The retired private key is gone; its public half stays, to verify what it signed.
    assert sorted(path.name for path in key_dir.iterdir()) == sorted(
        ["current", f"{new_kid}.pem", f"{old_kid}.pub"]
    )


def test_the_rotation_command_only_creates_a_missing_key_when_asked_to(key_dir):
    current = (key_dir / "current").read_text()

    call_command("rotate_signing_key", "--if-missing", stdout=StringIO())

    assert (key_dir / "current").read_text() == current
