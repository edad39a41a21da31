"""Token verification, as every service does it, with the keys auth publishes as JWKS."""

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from edge.conf import edge_settings
from edge.testing import TEST_KID
from edge.tokens import UNKNOWN_KEY, InvalidToken, verify_access_token

WHOAMI = "/api/edge/whoami/"


def test_a_valid_token_gives_its_claims(make_token):
    claims = verify_access_token(make_token(42, is_staff=True))

    assert claims.user_id == 42
    assert claims.is_staff is True
    assert claims.email == "user42@example.com"


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 1},
        {"token_type": "refresh"},
        {"user_id": "not-a-number"},
        {"iss": "another-auth"},
        {"aud": "another-api"},
        {"iss": None},
        {"aud": None},
    ],
    ids=[
        "expired",
        "refresh-token",
        "bad-user-id",
        "another-issuer",
        "another-audience",
        "no-issuer",
        "no-audience",
    ],
)
def test_an_unfit_token_is_refused(make_token, overrides):
    with pytest.raises(InvalidToken):
        verify_access_token(make_token(**overrides))


def test_a_token_without_a_jti_is_refused(signing_key, jwks_server):
    token = jwt.encode(
        {"token_type": "access", "user_id": "1", "exp": int(time.time()) + 60},
        signing_key,
        "RS256",
        headers={"kid": TEST_KID},
    )

    with pytest.raises(InvalidToken):
        verify_access_token(token)


def test_a_token_signed_with_another_key_is_refused(make_token):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with pytest.raises(InvalidToken):
        verify_access_token(make_token(key=other))


def test_an_hmac_token_is_refused_whatever_its_secret(make_token):
    with pytest.raises(InvalidToken):
        verify_access_token(make_token(key="a-secret-long-enough-for-hmac-sha256!", algorithm="HS256"))


def _signed(key, kid: str | None, **claims) -> str:
    payload = {
        "token_type": "access",
        "user_id": "3",
        "jti": "j",
        "exp": int(time.time()) + 60,
        "iss": edge_settings.JWT_ISSUER,
        "aud": edge_settings.JWT_AUDIENCE,
        **claims,
    }
    return jwt.encode(payload, key, "RS256", headers={"kid": kid} if kid else None)


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def refetch_interval(settings):
    """``refetch_interval(seconds)``: how often an unknown kid may refetch the key set."""

    def set_interval(seconds: float) -> None:
        settings.EDGE = {**settings.EDGE, "JWT_JWKS_REFETCH_INTERVAL_SECONDS": seconds}

    return set_interval


def test_a_token_verifies_with_the_key_fetched_from_the_jwks_once(make_token, jwks_server):
    assert verify_access_token(make_token(4)).user_id == 4
    assert verify_access_token(make_token(5)).user_id == 5

    assert jwks_server.fetches == 1


def test_a_new_kid_refetches_the_key_set_once_and_then_verifies(make_token, jwks_server, refetch_interval):
    refetch_interval(1)
    # Made before the fetch: a new RSA key can take longer than the interval on a busy machine.
    rotated = _new_key()
    rotated_token = _signed(rotated, "rotated")
    verify_access_token(make_token())
    jwks_server.publish("rotated", rotated)

    # Within the interval of the last fetch the new kid waits, unknown...
    with pytest.raises(InvalidToken, match="unknown key"):
        verify_access_token(rotated_token)
    time.sleep(1)
    # ...then its first token fetches the set again, and the next ones find the key known.
    assert verify_access_token(rotated_token).user_id == 3
    assert verify_access_token(_signed(rotated, "rotated", user_id="4")).user_id == 4
    assert verify_access_token(make_token()).user_id == 7
    assert jwks_server.fetches == 2


def test_a_flood_of_unknown_kids_fetches_the_key_set_at_most_once_per_interval(
    signing_key, jwks_server, refetch_interval
):
    refetch_interval(60)
    forger = _new_key()
    forged = [_signed(forger, f"forged-{number}") for number in range(40)]

    def verify(token: str) -> str:
        try:
            verify_access_token(token)
        except InvalidToken as error:
            return str(error)
        return "accepted"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(verify, forged))

    assert set(answers) == {UNKNOWN_KEY}
    assert jwks_server.fetches == 1
    assert verify_access_token(_signed(signing_key, TEST_KID)).user_id == 3
    assert jwks_server.fetches == 1


def test_with_auth_down_known_keys_still_verify_and_unknown_kids_are_refused(
    make_token, jwks_server, refetch_interval
):
    refetch_interval(0)
    verify_access_token(make_token())
    jwks_server.stop()

    assert verify_access_token(make_token(8)).user_id == 8
    with pytest.raises(InvalidToken, match="unknown key"):
        verify_access_token(_signed(_new_key(), "rotated-while-down"))
    # The failed fetch forgot nothing.
    assert verify_access_token(make_token(9)).user_id == 9


def test_with_auth_down_an_unknown_kid_is_a_401_with_json(client, make_token, jwks_server, refetch_interval):
    refetch_interval(0)
    assert client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {make_token()}").status_code == 200
    jwks_server.stop()

    known = client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {make_token(8)}")
    unknown = client.get(WHOAMI, HTTP_AUTHORIZATION=f"Bearer {_signed(_new_key(), 'rotated-while-down')}")

    assert known.status_code == 200
    assert unknown.status_code == 401
    assert unknown.json()["detail"] == UNKNOWN_KEY


def test_a_key_set_that_never_answers_is_given_up_after_the_timeout(settings, signing_key):
    # A socket that accepts connections (the kernel's backlog) and never answers them.
    silent = socket.create_server(("127.0.0.1", 0))
    settings.EDGE = {
        **settings.EDGE,
        "JWT_JWKS_URL": f"http://127.0.0.1:{silent.getsockname()[1]}/jwks.json",
        "JWT_JWKS_TIMEOUT_SECONDS": 0.3,
    }
    started = time.monotonic()

    with silent, pytest.raises(InvalidToken, match="unknown key"):
        verify_access_token(_signed(signing_key, TEST_KID))

    assert time.monotonic() - started < 2


@pytest.mark.parametrize("kid", [None, "unknown", "../public/test-key", "test-key.pem"])
def test_a_token_whose_kid_names_no_published_key_is_refused(jwks_server, signing_key, kid):
    with pytest.raises(InvalidToken):
        verify_access_token(_signed(signing_key, kid))


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(jwks_server):
    with pytest.raises(InvalidToken):
        verify_access_token(_signed(_new_key(), TEST_KID))
