"""Sealing secrets that must travel or wait in a database: a password reset link in its event,
its outbox row, the queue and notify's row of the email, until the email has gone.

A sealed value is a Fernet token (AES-128-CBC with an HMAC-SHA256, from ``cryptography``) made
with the first of edge's ``SEAL_KEYS``; any of them opens one, so a new key can be put first
while values sealed with the old one are still on their way. Only the services that seal or open
such values hold the keys (auth and notify); a database dump, a log line or a look at the admin
shows the ciphertext alone.
"""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.core.exceptions import ImproperlyConfigured

from edge.conf import edge_settings

NO_SEAL_KEYS = "EDGE_SEAL_KEYS is not set: this service cannot seal or open secrets."
CANNOT_OPEN = "The sealed value was not made with any of this service's seal keys, or was altered."


class SealBroken(ValueError):
    """A sealed value that none of the keys opens: forged, altered or sealed elsewhere."""


def _fernet() -> MultiFernet:
    keys = edge_settings.SEAL_KEYS
    if not keys:
        raise ImproperlyConfigured(NO_SEAL_KEYS)
    return MultiFernet([Fernet(key) for key in keys])


def seal(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken as error:
        raise SealBroken(CANNOT_OPEN) from error
