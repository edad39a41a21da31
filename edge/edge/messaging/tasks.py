"""The one Celery task through which a service receives events from its queue.

A message that no producer of its type signed (edge.messaging.signing), or that no retry could handle (unknown type, newer version, invalid payload) goes to the dead
letters at once; one whose handler fails is retried with backoff, ``EVENT_MAX_RETRIES`` times,
then goes there too, and staff are alerted (edge.alerts). Nothing is retried for ever, and
nothing is dropped without a trace.
"""

from typing import Any

from celery import Task, shared_task
from django.db import DatabaseError, transaction

from edge.alerts import dead_letter_alert_raise
from edge.conf import edge_settings
from edge.events import EventRejected
from edge.messaging.models import DeadLetter
from edge.messaging.services import (
    HANDLE_EVENT_TASK,
    dead_letter_record,
    event_receive,
    event_retry_delay,
    failure_text,
)


# max_retries=None turns Celery's own limit off: EVENT_MAX_RETRIES is the bound, read per message.
@shared_task(name=HANDLE_EVENT_TASK, bind=True, max_retries=None)
def handle_event(self: Task, message: Any, producer: object = None, signature: object = None) -> bool:
    retries = self.request.retries
    try:
        return event_receive(message=message, producer=producer, signature=signature)
    except EventRejected as rejection:
        reason, error = rejection.reason, str(rejection)
    except Exception as failure:
        if retries < edge_settings.EVENT_MAX_RETRIES:
            raise self.retry(exc=failure, countdown=event_retry_delay(retries=retries)) from failure
        reason, error = DeadLetter.Reason.RETRIES_EXHAUSTED, failure_text(failure)
    queue = (self.request.delivery_info or {}).get("routing_key") or edge_settings.SERVICE_NAME
    try:
        # Staff hear of it (edge.alerts) in the transaction that keeps it.
        with transaction.atomic():
            dead_letter = dead_letter_record(
                message=message,
                reason=reason,
                error=error,
                queue=queue,
                attempts=retries + 1,
                producer=producer,
                signature=signature,
            )
            dead_letter_alert_raise(dead_letter=dead_letter)
    except DatabaseError as failure:
        # With no database to keep the dead letter in, the message is kept on the queue instead:
        # it comes back until the database does, then fails or succeeds as it would have.
        raise self.retry(exc=failure, countdown=event_retry_delay(retries=retries)) from failure
    return False
