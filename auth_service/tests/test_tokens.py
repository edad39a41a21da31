import os
import time
from io import StringIO
from unittest.mock import patch

import jwt
import pytest
import time_machine
from django.core.management import call_command
from rest_framework_simplejwt.exceptions import TokenError

from accounts.services import REFRESH_REUSED, SESSION_TOO_OLD, token_refresh
from accounts.tokens import RefreshToken
from edge.conf import edge_settings
from tests.factories import PASSWORD

TOKEN = "/api/auth/token/"
REFRESH = "/api/auth/token/refresh/"
LOGOUT = "/api/auth/logout/"
ME = "/api/auth/me/"
JWKS = "/api/auth/.well-known/jwks.json"
VERIFY = "/internal/verify"


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


@pytest.mark.parametrize(
    "body", [{"email": 12, "password": PASSWORD}, {"email": "a@example.com", "password": 12}]
)
def test_credentials_that_are_not_text_get_400(api_client, customer, body):
    response = api_client.post(TOKEN, body, format="json")

    assert response.status_code == 400


def test_a_logout_with_a_refresh_token_that_is_not_text_is_400_and_revokes_nothing(
    api_client, customer, access_token_for
):
    access = access_token_for(customer)

    response = api_client.post(LOGOUT, {"refresh": 0}, format="json", HTTP_AUTHORIZATION=f"Bearer {access}")

    assert response.status_code == 400
    assert api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 200


def test_the_schema_documents_the_token_pair_that_login_and_refresh_answer(api_client, db):
    schema = api_client.get("/api/auth/schema/", HTTP_ACCEPT="application/json").json()

    for path in (TOKEN, REFRESH):
        answer = schema["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer == {"$ref": "#/components/schemas/TokenPair"}
        assert {"401"} <= set(schema["paths"][path]["post"]["responses"])
    assert set(schema["components"]["schemas"]["TokenPair"]["properties"]) == {"access", "refresh"}
    assert "429" in schema["paths"][TOKEN]["post"]["responses"]


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


def test_refreshing_rotates_the_refresh_token(api_client, customer):
    first = _tokens(api_client, customer)["refresh"]

    rotated = api_client.post(REFRESH, {"refresh": first}, format="json")

    assert rotated.status_code == 200
    assert rotated.json()["refresh"] != first
    assert api_client.post(REFRESH, {"refresh": rotated.json()["refresh"]}, format="json").status_code == 200


def test_reusing_a_rotated_refresh_token_revokes_every_token_of_the_user(
    api_client, client, customer, committing
):
    first = _tokens(api_client, customer)
    other_device = _tokens(api_client, customer)
    rotated = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json").json()

    with committing():
        replayed = api_client.post(REFRESH, {"refresh": first["refresh"]}, format="json")

    assert replayed.status_code == 401
    assert replayed.json()["detail"] == REFRESH_REUSED
    for refresh in (rotated["refresh"], other_device["refresh"]):
        assert api_client.post(REFRESH, {"refresh": refresh}, format="json").status_code == 401
    for access in (rotated["access"], other_device["access"]):
        assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {access}").status_code == 401
    assert _tokens(api_client, customer)["access"]


def test_two_refreshes_racing_with_one_token_count_as_reuse(api_client, client, customer, committing):
    pair = _tokens(api_client, customer)
    token_refresh(raw_refresh=pair["refresh"])

    # The second request got past the blacklist check before the first one rotated the token.
    with (
        committing(),
        patch.object(RefreshToken, "check_blacklist"),
        pytest.raises(TokenError, match="used before"),
    ):
        token_refresh(raw_refresh=pair["refresh"])

    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {pair['access']}").status_code == 401


def test_an_old_refresh_token_replayed_after_a_new_login_leaves_the_new_session_alone(
    api_client, client, customer, committing
):
    stolen = _tokens(api_client, customer)["refresh"]
    api_client.post(REFRESH, {"refresh": stolen}, format="json")
    with committing():
        api_client.post(REFRESH, {"refresh": stolen}, format="json")  # every token revoked
    fresh = _tokens(api_client, customer)

    with committing():
        assert api_client.post(REFRESH, {"refresh": stolen}, format="json").status_code == 401

    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {fresh['access']}").status_code == 204


def test_a_staff_session_ends_after_twelve_hours_on_the_api_refresh_path_too(api_client, staff):
    with time_machine.travel("2026-01-01 08:00", tick=False) as traveller:
        refresh = _tokens(api_client, staff)["refresh"]
        # Working all day with API tokens: refreshed every ten minutes.
        for _ in range(12 * 6 - 1):
            traveller.shift(600)
            answer = api_client.post(REFRESH, {"refresh": refresh}, format="json")
            assert answer.status_code == 200
            refresh = answer.json()["refresh"]
        traveller.shift(601)

        response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 401
    assert response.json()["detail"] == SESSION_TOO_OLD


def test_a_customer_refreshes_past_twelve_hours_within_the_refresh_tokens_lifetime(api_client, customer):
    with time_machine.travel("2026-01-01 08:00", tick=False) as traveller:
        refresh = _tokens(api_client, customer)["refresh"]
        traveller.shift(13 * 3600)

        response = api_client.post(REFRESH, {"refresh": refresh}, format="json")

    assert response.status_code == 200


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


def _published_kids(api_client) -> set[str]:
    return {key["kid"] for key in api_client.get(JWKS).json()["keys"]}


def test_a_retired_key_stays_published_while_a_token_it_signed_lives_and_leaves_after(
    api_client, customer, key_dir
):
    with time_machine.travel("2026-01-01 08:00", tick=False) as traveller:
        old = _tokens(api_client, customer)
        old_kid = jwt.get_unverified_header(old["access"])["kid"]
        traveller.shift(60)
        call_command("rotate_signing_key", stdout=StringIO())
        # The refresh token signed with the retired key, a minute before its day is over.
        traveller.shift(24 * 3600 - 120)
        assert old_kid in _published_kids(api_client)
        assert api_client.post(REFRESH, {"refresh": old["refresh"]}, format="json").status_code == 200
        # A day (the longest token lifetime) and an hour (a rotation's way to every pod) after it.
        traveller.shift(120 + 3600 + 1)

        published = _published_kids(api_client)

    assert old_kid not in published
    assert published == {(key_dir / "current").read_text()}


def test_a_rotation_deletes_the_retired_keys_that_no_token_needs_any_more(key_dir):
    first_kid = (key_dir / "current").read_text()
    with time_machine.travel("2026-01-01 08:00", tick=False) as traveller:
        call_command("rotate_signing_key", stdout=StringIO())
        second_kid = (key_dir / "current").read_text()
        traveller.shift(25 * 3600 + 1)
        call_command("rotate_signing_key", stdout=StringIO())
        third_kid = (key_dir / "current").read_text()

    assert sorted(path.name for path in key_dir.iterdir()) == sorted(
        ["current", f"{third_kid}.pem", f"{second_kid}.pub"]
    )
    assert not (key_dir / f"{first_kid}.pub").exists()


def test_a_retired_key_without_its_retirement_time_counts_from_when_its_file_was_written(api_client, key_dir):
    old_kid = (key_dir / "current").read_text()
    call_command("rotate_signing_key", stdout=StringIO())
    retired = key_dir / f"{old_kid}.pub"
    # As rotations wrote it before they stamped the time.
    retired.write_text(retired.read_text().partition("\n")[2])
    assert old_kid in _published_kids(api_client)

    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(retired, (two_days_ago, two_days_ago))

    assert old_kid not in _published_kids(api_client)
