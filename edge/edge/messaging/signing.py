"""Who sent an event: a consumer handles a message only from a service the contract names as a
producer of its type.

Each service signs the events it sends with its own Ed25519 private key (edge's
``EVENT_SIGNING_KEY``); each consumer holds the producers' public keys (``EVENT_VERIFY_KEYS``,
``<service>=<hex>``). Asymmetric, so a consumer holding a producer's public key cannot forge that
producer's events, and a key taken from one service sends only the events that service may
send. Anyone else who can reach the broker, a stolen Redis password included, can put a message
on a queue, but not one that gets handled: it goes to the dead letters with its reason.

The signature is over the message as JSON carries it, in one canonical form (keys sorted, no
spaces, ASCII), with the producer's name before it. It travels beside the message, as the task's
``producer`` and ``signature`` arguments, and stays with a dead letter, so that a replay checks
it again.

``python -m edge.messaging.signing`` prints a new private key, ``... --public <private key>`` its
public key.
"""

import base64
import binascii
import json
import sys
from dataclasses import dataclass
from functools import cache
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from django.core.exceptions import ImproperlyConfigured

from edge.conf import edge_settings
from edge.events import EVENT_TYPES, EventRejected

NO_SIGNING_KEY = "EVENT_SIGNING_KEY is not set: this service cannot sign the events it sends."
BAD_KEY = "{name} holds {value!r}, not the hex of a 32-byte Ed25519 key."
BAD_VERIFY_KEY_ENTRY = "EVENT_VERIFY_KEYS: {entry!r} is not <service>=<hex public key>."
UNSIGNED = "The message carries no signature; only a producer the contract names may send it."
UNKNOWN_SIGNER = "Signed as {producer!r}, whose public key this service does not hold."
BAD_SIGNATURE = "The signature is not {producer!r}'s over this message: forged or altered."
NOT_A_PRODUCER = "{producer!r} may not send {type!r}; its producers are {producers}."


class UnsignedEvent(EventRejected):
    reason = "unsigned"


class ForgedEvent(EventRejected):
    reason = "bad_signature"


class NotAProducer(EventRejected):
    reason = "not_a_producer"


@dataclass(frozen=True)
class SignedMessage:
    # The message as the broker carries it (JSON's types), and who signed it with what.
    message: Any
    producer: str
    signature: str

    @property
    def task_kwargs(self) -> dict[str, str]:
        """The arguments of the ``edge.handle_event`` task that carry the signature."""
        return {"producer": self.producer, "signature": self.signature}


def message_sign(message: Any, *, producer: str | None = None, key: str | None = None) -> SignedMessage:
    """The message signed as ``producer`` (this service) with ``key`` (its EVENT_SIGNING_KEY)."""
    producer = producer or edge_settings.SERVICE_NAME
    key = key if key is not None else edge_settings.EVENT_SIGNING_KEY
    if not key:
        raise ImproperlyConfigured(NO_SIGNING_KEY)
    canonical = _canonical(message)
    # Signed as it will be carried: the consumer's JSON gives back exactly these bytes' values.
    signature = _private_key(key).sign(_signed_bytes(canonical, producer))
    return SignedMessage(
        json.loads(canonical), producer, base64.urlsafe_b64encode(signature).decode().rstrip("=")
    )


def signature_check(*, message: Any, producer: object, signature: object) -> None:
    """Refuse the message unless one of its contract's producers signed it.

    Raises ``UnsignedEvent``, ``ForgedEvent`` (a signature that is not the named producer's,
    or of a producer whose key this service lacks) or ``NotAProducer``. A message of a type no
    contract names is left to the contract's own check.
    """
    if not isinstance(producer, str) or not isinstance(signature, str) or not producer or not signature:
        raise UnsignedEvent(UNSIGNED)
    keys = verify_keys().get(producer)
    if not keys:
        raise ForgedEvent(UNKNOWN_SIGNER.format(producer=producer))
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except (binascii.Error, ValueError):
        raise ForgedEvent(BAD_SIGNATURE.format(producer=producer)) from None
    signed = _signed_bytes(_canonical(message), producer)
    if not any(_verifies(key, raw, signed) for key in keys):
        raise ForgedEvent(BAD_SIGNATURE.format(producer=producer))
    event_type = message.get("type") if isinstance(message, dict) else None
    event_class = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
    if event_class is not None and producer not in event_class.producers:
        raise NotAProducer(
            NOT_A_PRODUCER.format(
                producer=producer, type=event_type, producers=", ".join(event_class.producers)
            )
        )


def verify_keys() -> dict[str, tuple[Ed25519PublicKey, ...]]:
    """The producers' public keys, by service: several for one while its key is rotated."""
    return _parsed_verify_keys(tuple(edge_settings.EVENT_VERIFY_KEYS))


def key_pair() -> tuple[str, str]:
    """A new private key and its public key, as hex."""
    private = (
        Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()).hex()
    )
    return private, public_key_of(private)


def public_key_of(private_key: str) -> str:
    return _private_key(private_key).public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _canonical(message: Any) -> bytes:
    return json.dumps(message, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _signed_bytes(canonical: bytes, producer: str) -> bytes:
    # The producer's name is signed too: a signature holds for the name it was made under.
    return producer.encode() + b"\n" + canonical


def _verifies(key: Ed25519PublicKey, signature: bytes, signed: bytes) -> bool:
    try:
        key.verify(signature, signed)
    except InvalidSignature:
        return False
    return True


@cache
def _private_key(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(_key_bytes("EVENT_SIGNING_KEY", text))


@cache
def _parsed_verify_keys(entries: tuple[str, ...]) -> dict[str, tuple[Ed25519PublicKey, ...]]:
    keys: dict[str, tuple[Ed25519PublicKey, ...]] = {}
    for entry in entries:
        producer, separator, text = entry.strip().partition("=")
        if not separator or not producer:
            raise ImproperlyConfigured(BAD_VERIFY_KEY_ENTRY.format(entry=entry))
        public = Ed25519PublicKey.from_public_bytes(_key_bytes("EVENT_VERIFY_KEYS", text))
        keys[producer] = (*keys.get(producer, ()), public)
    return keys


def _key_bytes(name: str, text: str) -> bytes:
    try:
        raw = bytes.fromhex(text.strip())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured(BAD_KEY.format(name=name, value=text[:8] + "..."))
    return raw


if __name__ == "__main__":
    if sys.argv[1:2] == ["--public"]:
        print(public_key_of(sys.argv[2]))
    else:
        print(key_pair()[0])
