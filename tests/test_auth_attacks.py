"""The attacks a reviewer tries on the tokens, each refused at the gateway and at a service reached directly."""

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from devstack.stack import DEMO_STAFF_EMAIL
from tests.support import DEMO_STAFF_PASSWORD, Account, log_in, register

PROTECTED = "/api/notify/notifications/"


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(account: Account, **overrides: object) -> dict:
    return {
        "token_type": "access",
        "user_id": str(account.id),
        "email": account.email,
        "is_staff": True,
        "is_superuser": True,
        "jti": uuid.uuid4().hex,
        "exp": int(time.time()) + 300,
        # Whom auth's tokens come from and are for, as a real one of the account says.
        **{claim: _unverified(account.access)[claim] for claim in ("iss", "aud")},
        **overrides,
    }


def _unverified(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _current_key(stack) -> tuple[str, str]:
    private_dir = stack.state / "keys" / "private"
    kid = (private_dir / "current").read_text().strip()
    return kid, (private_dir / f"{kid}.pem").read_text()


def alg_none(stack, gateway, account: Account) -> str:
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(account))}."


def hs256_signed_with_the_public_key(stack, gateway, account: Account) -> str:
    # Algorithm confusion: the published public key (from the JWKS, in PEM) used as an HMAC
    # secret, signed by hand.
    kid, _ = _current_key(stack)
    published = {key["kid"]: key for key in gateway.get("/api/auth/.well-known/jwks.json").json()["keys"]}
    secret = jwt.PyJWK(published[kid]).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT', 'kid': kid})}.{_b64(_claims(account))}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def tampered_payload(stack, gateway, account: Account) -> str:
    header, _, signature = account.access.split(".")
    return f"{header}.{_b64(_claims(account, user_id='1'))}.{signature}"


def expired(stack, gateway, account: Account) -> str:
    kid, private_pem = _current_key(stack)
    claims = _claims(account, exp=int(time.time()) - 30, is_staff=False, is_superuser=False)
    return jwt.encode(claims, private_pem, "RS256", headers={"kid": kid})


def of_a_deleted_user(stack, gateway, account: Account) -> str:
    stack.manage(
        "auth",
        "shell",
        "-c",
        "from accounts.models import User; from accounts.services import user_delete; "
        "from edge.grants import SHELL; "
        f"user_delete(user=User.objects.get(pk={account.id}), actor=SHELL)",
    )
    return account.access


def a_refresh_token(stack, gateway, account: Account) -> str:
    tokens = gateway.post("/api/auth/token/", json={"email": account.email, "password": account.password})
    return tokens.json()["refresh"]


ATTACKS: list[Callable[..., str]] = [
    alg_none,
    hs256_signed_with_the_public_key,
    tampered_payload,
    expired,
    of_a_deleted_user,
    a_refresh_token,
]


@pytest.fixture(params=["gateway", "notify directly", "auth directly"])
def target(request, stack) -> tuple[str, str]:
    """(base URL, a protected path) at the gateway or at a service's own port."""
    if request.param == "gateway":
        return stack.gateway_url, PROTECTED
    if request.param == "auth directly":
        return stack.service_url("auth"), "/api/auth/users/"
    return stack.service_url("notify"), PROTECTED


@pytest.mark.parametrize("forge", ATTACKS, ids=lambda forge: forge.__name__)
def test_a_forged_or_unfit_token_is_refused(stack, gateway, mail, target, forge):
    token = forge(stack, gateway, register(gateway, mail))
    base_url, path = target

    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.get(path, headers={"Authorization": f"Bearer {token}"})

    assert response.status_code in (401, 403), response.text


def test_spoofed_identity_headers_alone_are_refused(target, customer):
    base_url, path = target
    spoofed = {"X-User-Id": str(customer.id), "X-User-Email": customer.email, "X-User-Staff": "true"}

    with httpx.Client(base_url=base_url, timeout=10) as client:
        response = client.get(path, headers=spoofed)

    assert response.status_code == 401


@pytest.mark.parametrize(
    "base", ["gateway", "catalog directly"], ids=["at the gateway", "at a service reached directly"]
)
def test_an_admin_post_without_a_csrf_token_is_refused(stack, browser, base):
    log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)
    url = stack.gateway_url if base == "gateway" else stack.service_url("catalog")

    with httpx.Client(base_url=url, cookies={"access_token": browser.cookies["access_token"]}) as forged:
        response = forged.post(
            "/admin/catalog/catalog/category/add/", data={"name": "made-by-a-forged-form", "active": "on"}
        )

    assert response.status_code == 403
    assert "made-by-a-forged-form" not in browser.get("/admin/catalog/catalog/category/").text


@pytest.mark.parametrize(
    "next_page", ["https://elsewhere.example/", "//elsewhere.example/", "https:elsewhere"]
)
def test_login_and_renewal_never_send_the_browser_to_another_site(browser, next_page):
    landed = log_in(browser, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, next_page=next_page)
    renewed = browser.get("/login/refresh", params={"next": next_page})

    assert landed.headers["location"] == "/admin/auth/"
    assert renewed.headers["location"] == "/admin/auth/"
