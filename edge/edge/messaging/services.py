"""Publishing through the outbox, relaying what is unsent, and handling an event once."""

import logging
from datetime import timedelta

from celery import current_app
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from edge.conf import edge_settings
from edge.events import Event, event_from_message
from edge.logging import request_id_var
from edge.messaging.handlers import handler_for
from edge.messaging.models import OutboxMessage

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
    message = OutboxMessage.objects.create(
        event_id=event.event_id, event_type=event.type, payload=event.to_message()
    )
    # If the broker is down now, the row stays unsent and the relay delivers it later.
    transaction.on_commit(lambda: _send(message, subscribers=event.subscribers), robust=True)
    return message


def outbox_send(*, message_id: object) -> bool:
    """Send one unsent outbox row to every subscriber's queue; True once it is marked sent."""
    message = OutboxMessage.objects.filter(event_id=message_id, sent_at__isnull=True).first()
    if message is None:
        return False
    return _send(message, subscribers=event_from_message(message.payload).subscribers)


def _send(message: OutboxMessage, *, subscribers: tuple[str, ...]) -> bool:
    # Delivery is at least once (a relay may resend what was just sent); the inbox of each
    # consumer makes a second delivery harmless, so no row lock is taken on this hot path.
    try:
        for queue in subscribers:
            current_app.send_task(
                HANDLE_EVENT_TASK,
                args=[message.payload],
                queue=queue,
                retry=False,
                # What the worker shows of the task; Celery's own repr of the payload is slow.
                argsrepr=f"({message.event_type} {message.pk})",
                kwargsrepr="{}",
            )
    except Exception as error:
        # A broker outage must not fail the request that published: the relay retries.
        OutboxMessage.objects.filter(pk=message.pk).update(
            attempts=F("attempts") + 1, last_error=f"{type(error).__name__}: {error}"
        )
        logger.warning("outbox send failed", extra={"event_id": str(message.pk), "error": str(error)})
        return False
    with connection.cursor() as cursor:
        cursor.execute(OUTBOX_MARK_SENT_SQL, [timezone.now(), message.pk])
        return cursor.rowcount == 1


def outbox_relay_pending(*, limit: int = 100) -> int:
    """Resend rows still unsent after a grace period (broker down, process died); the count sent."""
    grace = timedelta(seconds=edge_settings.OUTBOX_RELAY_AFTER_SECONDS)
    pending = OutboxMessage.objects.filter(
        sent_at__isnull=True, created_at__lte=timezone.now() - grace
    ).values_list("event_id", flat=True)[:limit]
    return sum(outbox_send(message_id=message_id) for message_id in list(pending))


def event_handle(*, message: dict) -> bool:
    """Run this service's handler for the event, once: False when it was handled before."""
    event = event_from_message(message)
    handler = handler_for(event.type)
    token = request_id_var.set(event.request_id)
    try:
        with transaction.atomic():
            if not _inbox_record(event):
                logger.info(
                    "event already handled", extra={"event_id": str(event.event_id), "type": event.type}
                )
                return False
            handler(event)
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
