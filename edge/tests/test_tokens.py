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
