"""Claiming a key for a request, storing the response of the first, and pruning expired keys."""

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from edge.conf import edge_settings
from edge.idempotency.errors import IdempotencyKeyReused, RequestInProgress
from edge.idempotency.models import IdempotencyKey

CLAIM_OUTSIDE_TRANSACTION = "idempotency_key_claim() must run inside transaction.atomic(), with the request."
# A lock for the key that lasts until the transaction ends, taken without waiting.
TRY_LOCK_SQL = "SELECT pg_try_advisory_xact_lock(hashtextextended(%s, 0))"
# The most rows one automatic prune deletes, so that a backlog never holds up one request long.
PRUNE_BATCH = 10_000


@dataclass(frozen=True)
class KeyScope:
    """A key is one user's, on one endpoint (method and path)."""

    user_id: int
    endpoint: str
    key: str


def request_fingerprint(data: Any) -> str:
    """SHA-256 of the parsed body: the same JSON with its keys in another order is the same request."""
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def idempotency_key_claim(*, scope: KeyScope, fingerprint: str) -> IdempotencyKey | None:
    """Take the key for this request until its transaction ends; the stored key to replay, if any.

    None means this request is the first with the key: the caller runs it and stores its
    response with ``idempotency_key_store`` in the same transaction. The lock, not a row, says
    a request is in flight: Postgres drops it with the transaction, so a request that failed
    or a process that died leaves nothing behind and the client may retry with the same key.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(CLAIM_OUTSIDE_TRANSACTION)
    with connection.cursor() as cursor:
        cursor.execute(TRY_LOCK_SQL, [f"idempotency:{scope.user_id}:{scope.endpoint}:{scope.key}"])
        if not cursor.fetchone()[0]:
            raise RequestInProgress
    # A separate statement after the lock: it sees what the request that held the lock committed.
    stored = IdempotencyKey.objects.filter(
        user_id=scope.user_id, endpoint=scope.endpoint, key=scope.key
    ).first()
    if stored is None:
        return None
    if stored.created_at < _expired_before():
        # Not pruned yet, but expired all the same: the key is free again.
        stored.delete()
        return None
    if stored.request_fingerprint != fingerprint:
        raise IdempotencyKeyReused
    return stored


def idempotency_key_store(
    *, scope: KeyScope, fingerprint: str, started_at: datetime, status: int, body: Any
) -> IdempotencyKey:
    """Keep the first response, in the transaction that holds the key and the request's effects."""
    return IdempotencyKey.objects.create(
        user_id=scope.user_id,
        endpoint=scope.endpoint,
        key=scope.key,
        request_fingerprint=fingerprint,
        response_status=status,
        response_body=body,
        created_at=started_at,
        completed_at=timezone.now(),
    )


def idempotency_keys_prune(*, limit: int | None = None) -> int:
    """Delete expired keys, the oldest first and at most ``limit`` of them; the number deleted."""
    expired = IdempotencyKey.objects.filter(created_at__lt=_expired_before())
    if limit is not None:
        expired = IdempotencyKey.objects.filter(pk__in=expired.order_by("created_at").values("pk")[:limit])
    deleted, _ = expired.delete()
    return deleted


# When this process prunes next (time.monotonic()). Threads of one process may race past it
# together: they prune twice, which is harmless.
_next_prune_at = 0.0


def idempotency_keys_prune_if_due() -> int:
    """Prune a batch if this process has not for IDEMPOTENCY_PRUNE_INTERVAL_SECONDS.

    Called after a request stored a key: keys are only added by such requests, so pruning
    where they are added keeps the table to about a day's keys with no scheduler of its own.
    """
    global _next_prune_at
    now = time.monotonic()
    if now < _next_prune_at:
        return 0
    _next_prune_at = now + edge_settings.IDEMPOTENCY_PRUNE_INTERVAL_SECONDS
    return idempotency_keys_prune(limit=PRUNE_BATCH)


def _expired_before() -> datetime:
    return timezone.now() - timedelta(seconds=edge_settings.IDEMPOTENCY_KEY_TTL_SECONDS)
