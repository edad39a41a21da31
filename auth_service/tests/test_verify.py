"""The gateway's token check, and the attacks it must refuse."""

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.core.cache import caches

from accounts.keys import public_key, signing_key
from accounts.models import User
from accounts.services import token_pair_issue, user_access_set, user_delete
from edge.conf import edge_settings
from edge.grants import SHELL, StaffActor

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
        "iss": edge_settings.JWT_ISSUER,
        "aud": edge_settings.JWT_AUDIENCE,
    }
    claims.update(overrides)
    return claims


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_valid_token_gets_204_with_the_identity(client, staff):
    token = str(token_pair_issue(user=staff).access)

    response = client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 204
    assert response["X-User-Id"] == str(staff.pk)
    assert response["X-User-Email"] == staff.email
    assert response["X-User-Staff"] == "true"


def test_the_access_cookie_is_accepted_like_the_header(client, customer):
    client.cookies["access_token"] = str(token_pair_issue(user=customer).access)

    response = client.get(VERIFY)

    assert response.status_code == 204
    assert response["X-User-Staff"] == "false"


def test_no_token_gets_401_json(client, db):
    response = client.get(VERIFY)

    assert response.status_code == 401
    assert response.json()["detail"]


def test_a_staff_check_refuses_a_customer_with_403(client, customer):
    token = str(token_pair_issue(user=customer).access)

    response = client.get(VERIFY, {"staff": "1"}, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 403


def _alg_none(user) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(user, is_staff=True))}."


def _hs256_with_public_key(user) -> str:
    # Algorithm confusion: the public key used as an HMAC secret. PyJWT refuses to sign
    # with a PEM key, so the signature is made by hand, as an attacker would.
    import hashlib
    import hmac

    kid = signing_key().kid
    public_pem = public_key(kid).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64(_claims(user, is_staff=True))}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{base64.urlsafe_b64encode(signature.digest()).rstrip(b'=').decode()}"


def _tampered(user) -> str:
    header, _, signature = str(token_pair_issue(user=user).access).split(".")
    return f"{header}.{_b64(_claims(user, is_staff=True))}.{signature}"


def _expired(user) -> str:
    key = signing_key()
    return jwt.encode(
        _claims(user, exp=int(time.time()) - 10), key.private_pem, "RS256", headers={"kid": key.kid}
    )


def _signed_by_another_key(user) -> str:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(_claims(user), other, "RS256", headers={"kid": signing_key().kid})


def _refresh_token(user) -> str:
    return str(token_pair_issue(user=user).refresh)


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


def test_the_hot_path_makes_no_database_query(client, customer, django_assert_num_queries):
    token = str(token_pair_issue(user=customer).access)

    with django_assert_num_queries(0):
        response = client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}")

    assert response.status_code == 204


def test_a_standing_missing_from_redis_is_filled_from_the_database_once(
    client, customer, django_assert_num_queries, settings
):
    token = str(token_pair_issue(user=customer).access)
    caches["tokens"].clear()

    with django_assert_num_queries(1):
        assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 204
    with django_assert_num_queries(0):
        assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 204


def test_a_deactivated_users_token_is_refused_at_once(client, customer, superuser, committing):
    token = str(token_pair_issue(user=customer).access)

    with committing():
        user_access_set(user=customer, actor=StaffActor.for_user(superuser), is_active=False)

    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_a_reactivated_user_does_not_get_their_old_tokens_back(client, customer, superuser, committing):
    token = str(token_pair_issue(user=customer).access)
    with committing():
        user_access_set(user=customer, actor=StaffActor.for_user(superuser), is_active=False)

    with committing():
        user_access_set(user=customer, actor=StaffActor.for_user(superuser), is_active=True)

    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_a_token_still_claiming_staff_after_staff_was_removed_is_refused(
    client, staff, superuser, committing
):
    token = str(token_pair_issue(user=staff).access)

    with committing():
        user_access_set(user=staff, actor=StaffActor.for_user(superuser), is_staff=False)

    assert client.get(VERIFY, {"staff": "1"}, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    fresh = str(token_pair_issue(user=staff).access)
    assert client.get(VERIFY, {"staff": "1"}, HTTP_AUTHORIZATION=f"Bearer {fresh}").status_code == 403


def test_a_deleted_users_token_is_refused(client, customer, committing):
    token = str(token_pair_issue(user=customer).access)

    with committing():
        user_delete(user=customer, actor=SHELL)

    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_a_token_signed_with_an_unpublished_kid_is_refused(client, customer):
    key = signing_key()
    token = jwt.encode(_claims(customer), key.private_pem, "RS256", headers={"kid": "retired-long-ago"})

    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_with_redis_down_the_gateway_check_reads_the_standing_from_the_database(
    client, customer, staff, take_redis_down
):
    active = str(token_pair_issue(user=customer).access)
    deactivated = str(token_pair_issue(user=staff).access)
    User.objects.filter(pk=staff.pk).update(is_active=False)

    take_redis_down()

    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {active}").status_code == 204
    assert client.get(VERIFY, HTTP_AUTHORIZATION=f"Bearer {deactivated}").status_code == 401
