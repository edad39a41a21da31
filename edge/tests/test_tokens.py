"""Token verification, as every service does it."""

import os
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from edge.tokens import InvalidToken, verify_access_token


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
    ],
    ids=["expired", "refresh-token", "bad-user-id"],
)
def test_an_unfit_token_is_refused(make_token, overrides):
    with pytest.raises(InvalidToken):
        verify_access_token(make_token(**overrides))


def test_a_token_without_a_jti_is_refused(signing_key, public_key_file):
    token = jwt.encode(
        {"token_type": "access", "user_id": "1", "exp": int(time.time()) + 60}, signing_key, "RS256"
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


def test_a_replaced_public_key_file_is_used_without_a_restart(make_token, public_key_file):
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert verify_access_token(make_token())

    public_key_file.write_bytes(
        new_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    # A new mtime, even within the file system's time resolution.
    stat = public_key_file.stat()
    os.utime(public_key_file, (stat.st_atime, stat.st_mtime + 5))

    assert verify_access_token(make_token(key=new_key)).user_id == 7
    with pytest.raises(InvalidToken):
        verify_access_token(make_token())


def _publish(directory, kid: str, key: rsa.RSAPrivateKey) -> None:
    (directory / f"{kid}.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )


@pytest.fixture
def key_directory(settings, tmp_path, signing_key):
    directory = tmp_path / "public"
    directory.mkdir()
    _publish(directory, "first", signing_key)
    settings.EDGE = {**settings.EDGE, "JWT_PUBLIC_KEY_PATH": str(directory)}
    return directory


def _signed(key, kid: str | None, **claims) -> str:
    payload = {"token_type": "access", "user_id": "3", "jti": "j", "exp": int(time.time()) + 60, **claims}
    return jwt.encode(payload, key, "RS256", headers={"kid": kid} if kid else None)


def test_the_kid_picks_the_key_from_a_directory_of_keys(key_directory, signing_key):
    newer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _publish(key_directory, "second", newer)

    assert verify_access_token(_signed(signing_key, "first")).user_id == 3
    assert verify_access_token(_signed(newer, "second")).user_id == 3


@pytest.mark.parametrize("kid", [None, "unknown", "../public/first", "first.pem"])
def test_a_token_whose_kid_names_no_published_key_is_refused(key_directory, signing_key, kid):
    with pytest.raises(InvalidToken):
        verify_access_token(_signed(signing_key, kid))


def test_a_token_signed_by_another_key_under_a_known_kid_is_refused(key_directory):
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    with pytest.raises(InvalidToken):
        verify_access_token(_signed(other, "first"))
