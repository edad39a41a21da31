"""Publishing through the outbox, relaying what is unsent, handling an event once, and the
dead letters: the messages a service could not handle, kept for staff to replay.
"""

import json
import logging
import random
from datetime import timedelta
from typing import Any

from celery import current_app
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from edge.conf import edge_settings
from edge.events import EVENT_TYPES, Event, EventRejected, event_from_message
from edge.logging import request_id_var
from edge.messaging.handlers import registration_for
from edge.messaging.models import DeadLetter, InboxMessage, OutboxMessage
from edge.messaging.signing import message_sign, signature_check
from edge.tracing import current_traceparent, traceparent_context

logger = logging.getLogger(__name__)

HANDLE_EVENT_TASK = "edge.handle_event"
PUBLISH_OUTSIDE_TRANSACTION = "publish() must run inside transaction.atomic(), with the change it announces."

# The InboxMessage row in one statement where get_or_create takes four (select, savepoint,
# insert, release): it runs for every event every service handles.
INBOX_INSERT_SQL = (
    "INSERT INTO messaging_inboxmessage (event_id, event_type, received_at) "
    "VALUES (%s, %s, %s) ON CONFLICT (event_id) DO NOTHING RETURNING event_id"
)
# Runs after every event sent, where the ORM's update() would cost more CPU than the round trip.
OUTBOX_MARK_SENT_SQL = (
    "UPDATE messaging_outboxmessage SET sent_at = %s, attempts = attempts + 1 "
    "WHERE event_id = %s AND sent_at IS NULL"
)


def publish(event: Event) -> OutboxMessage:
    """Write the event to the outbox in the current transaction; send it once that commits."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError(PUBLISH_OUTSIDE_TRANSACTION)
    payload = event.to_message()
    if edge_settings.VALIDATE_PUBLISHED_EVENTS:
        # Checked as consumers will read it: the JSON the broker carries, not the Python values.
        event_from_message(json.loads(json.dumps(payload, cls=DjangoJSONEncoder)))
    message = OutboxMessage.objects.create(
        event_id=event.event_id, event_type=event.type, payload=payload, traceparent=current_traceparent()
    )
    # If the broker is down now, the row stays unsent and the relay delivers it later.
    transaction.on_commit(lambda: _send(message, subscribers=event.subscribers), robust=True)
    return message


def outbox_send(*, message_id: object) -> bool:
    """Send one unsent outbox row to every subscriber's queue; True once it is marked sent.

    False also when a relay holds the row: that relay is sending it.
    """
    with transaction.atomic():
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(event_id=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return False
        return _send(message, subscribers=EVENT_TYPES[message.event_type].subscribers)


def _send(message: OutboxMessage, *, subscribers: tuple[str, ...]) -> bool:
    # The on-commit fast path: no row lock, one UPDATE after the broker took the event.
    if not _deliver(message, subscribers=subscribers):
        return False
    with connection.cursor() as cursor:
        cursor.execute(OUTBOX_MARK_SENT_SQL, [timezone.now(), message.pk])
        return cursor.rowcount == 1


def _deliver(message: OutboxMessage, *, subscribers: tuple[str, ...]) -> bool:
    """Hand the event to the broker for every subscriber's queue; False (and the error kept on
    the row) when the broker refused it."""
    try:
        # Signed as it is sent, not as it is written: a row the relay resends after this
        # service's key changed goes out under the new key.
        signed = message_sign(message.payload)
        # Sent in its publisher's trace, from the relay too: the task messages carry it in their
        # headers (Celery's instrumentation) and the consumers' spans continue it.
        with traceparent_context(message.traceparent):
            for queue in subscribers:
                current_app.send_task(
                    HANDLE_EVENT_TASK,
                    args=[signed.message],
                    kwargs=signed.task_kwargs,
                    queue=queue,
                    retry=False,
                    # What the worker shows of the task; Celery's own repr of the payload is slow.
                    argsrepr=f"({message.event_type} {message.pk})",
                    kwargsrepr=f"{{producer: {signed.producer}}}",
                )
    except Exception as error:
        # A broker outage must not fail the request that published: the relay retries.
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=F("attempts") + 1, last_error=failure_text(error)
        )
        logger.warning("outbox send failed", extra={"event_id": str(message.pk), "error": str(error)})
        return False
    return True


def outbox_relay_pending(*, limit: int = 100) -> int:
    """Resend rows still unsent after a grace period (broker down, process died); the count sent.

    Any number of relays may run side by side. Each claims a batch with ``FOR UPDATE SKIP
    LOCKED``, sends it and marks it sent before it commits, so another relay skips the rows it
    holds and, once it commits, finds them sent: relays never send a row twice between them.
    The send on commit takes no lock (it is every request's path), so it may race a relay for
    a row whose publishing transaction outlasted the grace period: both send it. Delivery is
    therefore at least once overall, and each consumer's inbox makes the second one harmless.
    """
    grace = timedelta(seconds=edge_settings.OUTBOX_RELAY_AFTER_SECONDS)
    with transaction.atomic():
        claimed = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(sent_at__isnull=True, created_at__lte=timezone.now() - grace)
            .only("event_id", "event_type", "payload", "traceparent")
            .order_by("created_at")[:limit]
        )
        sent = [
            message.pk
            for message in claimed
            if _deliver(message, subscribers=EVENT_TYPES[message.event_type].subscribers)
        ]
        # One UPDATE for the batch: the claim is the lock, so no row can have been sent meanwhile.
        if sent:
            OutboxMessage.objects.filter(pk__in=sent).update(
                sent_at=timezone.now(), attempts=F("attempts") + 1
            )
    return len(sent)


def messages_prune() -> tuple[int, int]:
    """Delete sent outbox rows and handled inbox rows past their keeping time (edge's
    ``OUTBOX_KEEP_SENT_SECONDS`` and ``INBOX_KEEP_SECONDS``); how many of each.

    The tables grow with every event, and a row says what a customer did (an email address, an
    order): kept only while it guards against sending or handling an event twice.
    """
    now = timezone.now()
    outbox, _ = OutboxMessage.objects.filter(
        sent_at__lt=now - timedelta(seconds=edge_settings.OUTBOX_KEEP_SENT_SECONDS)
    ).delete()
    inbox, _ = InboxMessage.objects.filter(
        received_at__lt=now - timedelta(seconds=edge_settings.INBOX_KEEP_SECONDS)
    ).delete()
    return outbox, inbox


def event_receive(*, message: Any, producer: object, signature: object) -> bool:
    """Handle a message from the queue (or a dead letter) once its signature shows that one of
    its contract's producers sent it; False when it was handled before.

    Raises what ``signature_check`` and ``event_handle`` raise.
    """
    signature_check(message=message, producer=producer, signature=signature)
    return event_handle(message=message)


def event_handle(*, message: dict) -> bool:
    """Run this service's handler for the event, once: False when it was handled before.

    Raises ``EventRejected`` for a message that no retry could handle (unknown type, newer
    version, invalid payload), and whatever the handler raises.
    """
    event = event_from_message(message)
    registration = registration_for(event.type)
    token = request_id_var.set(event.request_id)
    try:
        with transaction.atomic():
            first_time = _inbox_record(event)
            if first_time:
                registration.handler(event)
        if not first_time:
            logger.info("event already handled", extra={"event_id": str(event.event_id), "type": event.type})
            if registration.on_repeat is not None:
                registration.on_repeat(event)
            return False
        logger.info("event handled", extra={"event_id": str(event.event_id), "type": event.type})
        return True
    finally:
        request_id_var.reset(token)


def _inbox_record(event: Event) -> bool:
    """Record the event as handled, in the handler's transaction; False if it was already.

    A concurrent redelivery waits on this row until the first transaction ends, then finds
    it, or takes it over if that one rolled back.
    """
    with connection.cursor() as cursor:
        cursor.execute(INBOX_INSERT_SQL, [event.event_id, event.type, timezone.now()])
        return cursor.fetchone() is not None


def event_retry_delay(*, retries: int) -> float:
    """Seconds before the next delivery of a failed message: exponential backoff, full jitter.

    The jitter spreads the retries of messages that failed together (a database restart), so
    they do not all come back at the same moment and fail together again.
    """
    ceiling = edge_settings.EVENT_RETRY_BACKOFF_SECONDS * 2**retries
    # A jitter, not a secret: the standard generator is the right one.
    return random.uniform(0, min(edge_settings.EVENT_RETRY_BACKOFF_MAX_SECONDS, ceiling))  # noqa: S311


def dead_letter_record(
    *,
    message: Any,
    reason: str,
    error: str,
    queue: str,
    attempts: int,
    producer: object = None,
    signature: object = None,
) -> DeadLetter:
    """Keep a message this service could not handle, with why and who signed it, for staff to
    see and replay."""
    fields = message if isinstance(message, dict) else {}
    dead_letter = DeadLetter.objects.create(
        message=message,
        event_id=_text(fields.get("event_id")),
        event_type=_text(fields.get("type")),
        producer=_text(producer),
        signature=_text(signature, limit=128),
        queue=queue,
        reason=DeadLetter.Reason(reason),
        error=error,
        attempts=attempts,
        failed_at=timezone.now(),
    )
    logger.error(
        "event dead-lettered",
        extra={
            "event_id": dead_letter.event_id,
            "type": dead_letter.event_type,
            "producer": dead_letter.producer,
            "reason": reason,
            "error": error,
        },
    )
    return dead_letter


def dead_letter_replay(*, dead_letter: DeadLetter) -> bool:
    """Run the message through this service's handler again; True once it is handled.

    Its signature is checked again: a message no producer signed stays refused, and one signed
    by a producer whose key this service lacked passes once the key is there. A message handled
    meanwhile (its inbox row is there) counts as handled. A replay that fails keeps the dead
    letter, with the reason and error of this latest failure.
    """
    try:
        event_receive(
            message=dead_letter.message, producer=dead_letter.producer, signature=dead_letter.signature
        )
    except EventRejected as rejection:
        reason, error = rejection.reason, str(rejection)
    except Exception as failure:
        reason, error = DeadLetter.Reason.RETRIES_EXHAUSTED, failure_text(failure)
    else:
        DeadLetter.objects.filter(pk=dead_letter.pk).update(
            replays=F("replays") + 1, replayed_at=timezone.now()
        )
        logger.info(
            "dead letter replayed", extra={"event_id": dead_letter.event_id, "type": dead_letter.event_type}
        )
        return True
    DeadLetter.objects.filter(pk=dead_letter.pk).update(
        replays=F("replays") + 1, reason=reason, error=error, failed_at=timezone.now()
    )
    logger.warning(
        "dead letter replay failed",
        extra={
            "event_id": dead_letter.event_id,
            "type": dead_letter.event_type,
            "reason": reason,
            "error": error,
        },
    )
    return False


def failure_text(failure: BaseException) -> str:
    return f"{type(failure).__name__}: {failure}"


def _text(value: object, *, limit: int = 64) -> str:
    return value[:limit] if isinstance(value, str) else ""
