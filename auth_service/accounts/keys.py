"""auth's signing keys: the current one signs, every published one verifies, rotation adds the next.

The private keys live in ``JWT_PRIVATE_KEY_DIR`` as ``<kid>.pem`` with a ``current`` file naming
the one that signs; the public keys in the directory every service verifies with
(``JWT_PUBLIC_KEY_PATH``). A rotation publishes the new public key before anything is signed
with it, and keeps the retired public keys, so tokens signed earlier stay valid until they
expire. Files are read keyed by their mtime: no process needs a restart.
"""

import os
import secrets
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.conf import settings
from jwt.algorithms import RSAAlgorithm

from edge.conf import edge_settings

CURRENT = "current"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str


def _private_dir() -> Path:
    return Path(settings.JWT_PRIVATE_KEY_DIR)


def _public_dir() -> Path:
    return Path(edge_settings.JWT_PUBLIC_KEY_PATH)


@lru_cache(maxsize=8)
def _read(path: str, mtime: float) -> str:
    with open(path) as key_file:
        return key_file.read()


def _read_fresh(path: Path) -> str:
    return _read(str(path), path.stat().st_mtime)


def signing_key() -> SigningKey:
    """The key new tokens are signed with, and its kid."""
    kid = _read_fresh(_private_dir() / CURRENT).strip()
    return SigningKey(kid=kid, private_pem=_read_fresh(_private_dir() / f"{kid}.pem"))


def jwks() -> dict:
    """Every published public key as a JSON Web Key Set (RFC 7517)."""
    keys = []
    for path in sorted(_public_dir().glob("*.pem")):
        public_key = serialization.load_pem_public_key(_read_fresh(path).encode())
        jwk = RSAAlgorithm.to_jwk(public_key, as_dict=True)
        jwk.update(kid=path.stem, use="sig", alg="RS256")
        keys.append(jwk)
    return {"keys": keys}


def _write(path: Path, content: bytes, mode: int) -> None:
    # Written aside and renamed: a reader never sees half a key.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    partial.chmod(mode)
    os.replace(partial, path)


def signing_key_rotate() -> str:
    """Make a new signing key current; the kid of the new key.

    The retired private keys are deleted (verifying needs only their public half, which
    stays published until someone removes it after the longest token lifetime).
    """
    private_dir, public_dir = _private_dir(), _public_dir()
    private_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    public_dir.mkdir(parents=True, exist_ok=True)
    kid = f"k{time.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(3)}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Published first, so every service can verify the first token the new key signs.
    _write(public_dir / f"{kid}.pem", public_pem, 0o644)
    _write(private_dir / f"{kid}.pem", private_pem, 0o600)
    _write(private_dir / CURRENT, kid.encode(), 0o600)
    for retired in private_dir.glob("*.pem"):
        if retired.stem != kid:
            retired.unlink()
    return kid


def signing_key_exists() -> bool:
    return (_private_dir() / CURRENT).exists()
