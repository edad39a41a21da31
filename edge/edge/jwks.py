"""auth's public keys, learnt from its JSON Web Key Set over HTTP and kept in the process.

No service holds a file of auth's: each fetches ``JWT_JWKS_URL`` when it meets a kid it does
not know yet (its first token, or the first one signed after a key rotation). PyJWT's
``PyJWKClient`` refetches for every unknown kid and forgets its keys when they age out; here
the keys stay until auth publishes a new set, and

- fetches are at most one per ``JWT_JWKS_REFETCH_INTERVAL_SECONDS`` across the process's
  threads, so a flood of tokens with made-up kids cannot hammer auth;
- a failed fetch (auth down, a timeout, a garbled answer) keeps the keys already known: tokens
  they signed still verify, and a token with an unknown kid is refused like any invalid token.
"""

import http.client
import json
import logging
import threading
import time
import urllib.request
from typing import Any

import jwt

logger = logging.getLogger(__name__)


class JwksUnavailable(Exception):
    """The key set could not be fetched or held no usable key."""


class JwksKeys:
    """The public keys of one JWKS URL, by kid."""

    def __init__(self, url: str, *, algorithm: str, refetch_interval: float, timeout: float) -> None:
        self.url = url
        self.algorithm = algorithm
        self.refetch_interval = refetch_interval
        self.timeout = timeout
        # Replaced whole by a successful fetch, never mutated: readers need no lock.
        self._keys: dict[str, Any] = {}
        self._last_fetch: float | None = None
        self._fetching = threading.Lock()

    def key(self, kid: str) -> Any | None:
        """The public key named ``kid``; None when auth publishes none, or cannot say right now."""
        key = self._keys.get(kid)
        if key is not None:
            return key
        with self._fetching:
            # The fetch another thread made while this one waited may have brought the key.
            if kid in self._keys:
                return self._keys[kid]
            now = time.monotonic()
            if self._last_fetch is not None and now - self._last_fetch < self.refetch_interval:
                return None
            self._last_fetch = now
            try:
                self._keys = self._fetch()
            except JwksUnavailable as error:
                logger.warning("JWKS not refreshed, keeping %d known keys: %s", len(self._keys), error)
            return self._keys.get(kid)

    def _fetch(self) -> dict[str, Any]:
        # urllib would open file: and ftp: URLs too; a key set only ever comes over HTTP(S).
        if not self.url.startswith(("http://", "https://")):
            raise JwksUnavailable(f"{self.url!r} is not an http(s) URL")
        request = urllib.request.Request(self.url, headers={"Accept": "application/json"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                document = json.load(response)
            published = document["keys"]
        except (OSError, http.client.HTTPException, ValueError, KeyError, TypeError) as error:
            raise JwksUnavailable(f"{self.url}: {error!r}") from error
        keys = {}
        for jwk in published if isinstance(published, list) else ():
            try:
                parsed = jwt.PyJWK.from_dict(jwk)
            except (jwt.PyJWTError, AttributeError, KeyError, TypeError, ValueError):
                continue
            # Only keys of the one algorithm tokens are verified with: never an HMAC secret.
            if parsed.key_id and parsed.algorithm_name == self.algorithm:
                keys[parsed.key_id] = parsed.key
        # An empty set is more likely a broken answer than auth retiring every key at once.
        if not keys:
            raise JwksUnavailable(f"{self.url}: no usable key")
        return keys


_key_sets: dict[tuple[str, str, float, float], JwksKeys] = {}
_key_sets_lock = threading.Lock()


def jwks_keys(url: str, *, algorithm: str, refetch_interval: float, timeout: float) -> JwksKeys:
    """The one key cache of the process for ``url`` (shared by its threads)."""
    configuration = (url, algorithm, refetch_interval, timeout)
    key_set = _key_sets.get(configuration)
    if key_set is None:
        # Under a lock: threads that meet their first token at once must share one cache, or
        # each would fetch.
        with _key_sets_lock:
            key_set = _key_sets.get(configuration)
            if key_set is None:
                key_set = _key_sets[configuration] = JwksKeys(
                    url, algorithm=algorithm, refetch_interval=refetch_interval, timeout=timeout
                )
    return key_set
