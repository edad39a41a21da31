"""The gateway's token check, and the attacks it must refuse."""

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings

from accounts.services import token_pair_for

VERIFY = "/internal/verify"


def _claims(user, **overrides) -> dict:
    claims = {
        "token_type": "access",
        "user_id": str(user.pk),
        "email": user.email,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "jti": uuid.uuid4().hex,
        "exp": int(time.time()) + 300,
    }
    claims.update(overrides)
    return claims


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_token_gets_204_with_the_identity(client, staff):
    token = str(token_pair_for(staff).access_token)

    response = client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 204
    assert response["X-User-Id"] == str(staff.pk)
    assert response["X-User-Email"] == staff.email
    assert response["X-User-Staff"] == "true"


def test_the_access_cookie_is_accepted_like_the_header(client, customer):
    client.cookies["access_token"] = str(token_pair_for(customer).access_token)

    response = client.get(VERIFY)

    assert response.status_code == 204
    assert response["X-User-Staff"] == "false"


def test_no_token_gets_401_json(client, db):
    response = client.get(VERIFY)

    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_staff_check_refuses_a_customer_with_403(client, customer):
    token = str(token_pair_for(customer).access_token)

    response = client.get(VERIFY, {"staff": "1"}, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 403


def _alg_none(user) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user, is_staff=True))}."


def _hs256_with_public_key(user) -> str:
    # Algorithm confusion: the public key used as an HMAC secret. PyJWT refuses to sign
    # with a PEM key, so the signature is made by hand, as an attacker would.
    import hashlib
    import hmac

    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64(_claims(user, is_staff=True))}"
    signature = hmac.new(
        settings.SIMPLE_JWT["VERIFYING_KEY"].encode(), signing_input.encode(), hashlib.sha256
    )
    return f"{signing_input}.{base64.urlsafe_b64encode(signature.digest()).rstrip(b'=').decode()}"


def _tampered(user) -> str:
    header, _, signature = str(token_pair_for(user).access_token).split(".")
    return f"{header}.{_b64(_claims(user, is_staff=True))}.{signature}"


def _expired(user) -> str:
    return jwt.encode(_claims(user, exp=int(time.time()) - 10), settings.SIMPLE_JWT["SIGNING_KEY"], "RS256")


def _signed_by_another_key(user) -> str:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_claims(user), other, "RS256")


def _refresh_token(user) -> str:
    return str(token_pair_for(user))


def _malformed(user) -> str:
    return "not.a.token"


@pytest.mark.parametrize(
    "forge",
    [
        _alg_none,
        _hs256_with_public_key,
        _tampered,
        _expired,
        _signed_by_another_key,
        _refresh_token,
        _malformed,
    ],
)
def test_a_forged_or_unfit_token_gets_401(client, customer, forge):
    response = client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {forge(customer)}")

    assert response.status_code == 401


@pytest.mark.parametrize("forge", [_alg_none, _hs256_with_public_key, _tampered, _expired, _refresh_token])
def test_the_api_refuses_the_same_tokens(client, customer, forge):
    response = client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {forge(customer)}")

    assert response.status_code == 401


def test_identity_headers_sent_by_a_client_are_ignored(client, customer):
    response = client.get("/api/auth/me/", HTTP_X_USER_ID=str(customer.pk), HTTP_X_USER_STAFF="true")

    assert response.status_code == 401
