"""auth's signing keys: the current one signs, every published one verifies, rotation adds the next.

They are auth's alone, in ``JWT_PRIVATE_KEY_DIR``: the private ``<kid>.pem`` with a ``current``
file naming the one that signs, and ``<kid>.pub``, the public half of each retired key. Other
services learn the public keys from the JWKS (``jwks``, served at
``/api/auth/.well-known/jwks.json``); auth verifies with them directly (``public_key``, its
``JWT_PUBLIC_KEY_LOADER``). A rotation publishes the new key before anything is signed with it,
and keeps the retired public halves, so tokens signed earlier stay valid until they expire.
A retired key is published until every token it signed has expired (``retired_key_lifetime``
after its retirement), then no more, and the next rotation deletes its file: nobody has to.
Files are read keyed by their mtime: no process needs a restart.
"""

import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from django.conf import settings
from jwt.algorithms import RSAAlgorithm

CURRENT = "current"
PRIVATE_SUFFIX = ".pem"
# What a rotation keeps of a retired key: its public half, to verify the tokens it signed.
RETIRED_SUFFIX = ".pub"
# The first line of a retired key's file: when it was retired (RFC 7468 lets text stand before
# the PEM block). The time travels with the file, into a Kubernetes Secret too, where the files'
# own times are when the Secret was mounted.
RETIRED_AT = "Retired-At: "
# How long after a rotation auth's processes may still sign with the retired key: a Secret
# replaced in Kubernetes reaches every pod within a minute or two of the `kubectl apply`.
ROTATION_PROPAGATION = timedelta(hours=1)


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_pem: str


def _key_dir() -> Path:
    return Path(settings.JWT_PRIVATE_KEY_DIR)


@lru_cache(maxsize=8)
def _read(path: str, mtime: float) -> str:
    with open(path) as key_file:
        return key_file.read()


def _read_fresh(path: Path) -> str:
    return _read(str(path), path.stat().st_mtime)


@lru_cache(maxsize=8)
def _load_public(path: str, mtime: float) -> PublicKeyTypes:
    # Loading a private key checks it, which costs milliseconds: once per file version.
    pem = _read(path, mtime).encode()
    if path.endswith(PRIVATE_SUFFIX):
        return serialization.load_pem_private_key(pem, password=None).public_key()
    return serialization.load_pem_public_key(pem)


def retired_key_lifetime() -> timedelta:
    """How long a retired key stays published: the longest a token it signed may live (a
    refresh token, or a staff session if that may be longer), plus the rotation's propagation."""
    longest_token = max(
        settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"],
        settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"],
        settings.STAFF_SESSION_MAX_AGE,
    )
    return longest_token + ROTATION_PROPAGATION


def _retired_at(path: Path) -> datetime:
    first_line = _read_fresh(path).partition("\n")[0]
    if first_line.startswith(RETIRED_AT):
        return datetime.fromisoformat(first_line.removeprefix(RETIRED_AT))
    # Retired before the files said when: its time of change is when the rotation wrote it.
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _expired(path: Path) -> bool:
    """Whether ``path``, a retired key, has outlived every token it signed."""
    return datetime.now(UTC) - _retired_at(path) > retired_key_lifetime()


def _published() -> Iterator[Path]:
    """The files of every published key: each private key, and each retired one still young
    enough to have signed a token that lives. Mid-rotation a key has both files for a moment."""
    for path in sorted(_key_dir().iterdir()):
        if path.suffix == PRIVATE_SUFFIX or (path.suffix == RETIRED_SUFFIX and not _expired(path)):
            yield path


def signing_key() -> SigningKey:
    """The key new tokens are signed with, and its kid."""
    kid = _read_fresh(_key_dir() / CURRENT).strip()
    return SigningKey(kid=kid, private_pem=_read_fresh(_key_dir() / f"{kid}{PRIVATE_SUFFIX}"))


def public_key(kid: str) -> PublicKeyTypes | None:
    """The public key named ``kid`` (edge.tokens has checked it is a plain name); None if none."""
    for suffix in (PRIVATE_SUFFIX, RETIRED_SUFFIX):
        path = _key_dir() / f"{kid}{suffix}"
        try:
            if suffix == RETIRED_SUFFIX and _expired(path):
                return None
            return _load_public(str(path), path.stat().st_mtime)
        except FileNotFoundError:
            continue
    return None


def jwks() -> dict:
    """Every published public key as a JSON Web Key Set (RFC 7517)."""
    published = {}
    for path in _published():
        # Mid-rotation a key has both files for a moment: it is published once.
        if path.stem not in published:
            jwk = RSAAlgorithm.to_jwk(_load_public(str(path), path.stat().st_mtime), as_dict=True)
            jwk.update(kid=path.stem, use="sig", alg="RS256")
            published[path.stem] = jwk
    return {"keys": list(published.values())}


def _write(path: Path, content: bytes, mode: int) -> None:
    # Written aside and renamed: a reader never sees half a key.
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(content)
    partial.chmod(mode)
    os.replace(partial, path)


def signing_key_rotate() -> str:
    """Make a new signing key current; the kid of the new key.

    The retired private keys are deleted: verifying needs only their public half, which stays
    published (``<kid>.pub``, stamped with the time) for ``retired_key_lifetime``. The retired
    keys older than that are deleted.
    """
    key_dir = _key_dir()
    key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for path in key_dir.glob(f"*{RETIRED_SUFFIX}"):
        if _expired(path):
            path.unlink()
    retired = list(key_dir.glob(f"*{PRIVATE_SUFFIX}"))
    retired_at = f"{RETIRED_AT}{datetime.now(UTC).isoformat(timespec='seconds')}\n".encode()
    for path in retired:
        public_half = _load_public(str(path), path.stat().st_mtime)
        _write(
            path.with_suffix(RETIRED_SUFFIX),
            retired_at
            + public_half.public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            ),
            0o644,
        )
    kid = f"k{time.strftime('%Y%m%d%H%M%S')}{secrets.token_hex(3)}"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # In the JWKS before it is current, so every service can verify the first token it signs.
    _write(key_dir / f"{kid}{PRIVATE_SUFFIX}", private_pem, 0o600)
    _write(key_dir / CURRENT, kid.encode(), 0o600)
    for path in retired:
        path.unlink()
    return kid


def signing_key_exists() -> bool:
    return (_key_dir() / CURRENT).exists()
