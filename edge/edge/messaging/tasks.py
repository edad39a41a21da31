"""The one Celery task through which a service receives events from its queue."""

from celery import shared_task

from edge.messaging.services import HANDLE_EVENT_TASK, event_handle


@shared_task(
    name=HANDLE_EVENT_TASK,
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=60,
    max_retries=None,
)
def handle_event(message: dict) -> bool:
    return event_handle(message=message)
