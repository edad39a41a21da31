"""The Celery app of a service: one shape for all four, tuned so that no event is lost."""

import os
from typing import Any

from celery import Celery, signals

from edge.logging import request_id_var

REQUEST_ID_HEADER = "request_id"


def create_app(service: str) -> Celery:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    app = Celery(service)
    # Broker URL, visibility timeout and the like come from the service's settings (CELERY_*).
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks()
    return app


def celery_settings(*, service: str, broker_url: str, visibility_timeout: int) -> dict[str, Any]:
    """The ``CELERY_*`` settings shared by every service."""
    return {
        "CELERY_BROKER_URL": broker_url,
        "CELERY_BROKER_TRANSPORT_OPTIONS": {
            "visibility_timeout": visibility_timeout,
            # kombu sweeps for messages lost with their worker every interval x throttle
            # seconds (100 by default): sweep often enough to honour the visibility timeout.
            "unacked_restore_interval": max(1, min(10, visibility_timeout // 2)),
            "unacked_restore_throttle": 1,
        },
        "CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP": True,
        "CELERY_TASK_DEFAULT_QUEUE": service,
        # A task is acknowledged after it ran: a worker killed mid-task leaves it for another.
        "CELERY_TASK_ACKS_LATE": True,
        # Handlers mostly wait on Postgres and Redis. Threads in one process serve them without
        # prefork's pipe between parent and children, which cost as much CPU as the handlers.
        "CELERY_WORKER_POOL": "threads",
        "CELERY_WORKER_PREFETCH_MULTIPLIER": 1,
        "CELERY_TASK_SERIALIZER": "json",
        "CELERY_ACCEPT_CONTENT": ["json"],
        "CELERY_RESULT_BACKEND": None,
        "CELERY_TASK_IGNORE_RESULT": True,
        # Celery closes Django's database connections around every task unless told to reuse
        # them: a new Postgres connection (and SCRAM handshake) per event was most of its cost.
        "CELERY_DB_REUSE_MAX": 500,
        # Django's LOGGING (JSON, with the request id) stays in charge in the worker.
        "CELERY_WORKER_HIJACK_ROOT_LOGGER": False,
    }


@signals.before_task_publish.connect
def _attach_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if headers is not None and request_id_var.get():
        headers[REQUEST_ID_HEADER] = request_id_var.get()


@signals.task_prerun.connect
def _restore_request_id(task: Any = None, **kwargs: Any) -> None:
    request_id_var.set(getattr(task.request, REQUEST_ID_HEADER, None) if task else None)
