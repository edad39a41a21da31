"""The Celery app of a service: one shape for all four, tuned so that no event is lost."""

import os
from typing import Any

from celery import Celery, signals

from edge.logging import request_id_var
from edge.service_table import WORKER
from edge.tracing import tracing_start

REQUEST_ID_HEADER = "request_id"


def create_app(service: str) -> Celery:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    app = Celery(service)
    # Broker URL, visibility timeout and the like come from the service's settings (CELERY_*,
    # in edge.settings.base).
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.autodiscover_tasks()
    return app


@signals.before_task_publish.connect
def _attach_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if headers is not None and request_id_var.get():
        headers[REQUEST_ID_HEADER] = request_id_var.get()


@signals.task_prerun.connect
def _restore_request_id(task: Any = None, **kwargs: Any) -> None:
    request_id_var.set(getattr(task.request, REQUEST_ID_HEADER, None) if task else None)


@signals.worker_init.connect
def _start_tracing(**kwargs: Any) -> None:
    # The worker runs its tasks in threads of this process (edge.settings.base: the thread pool).
    tracing_start(kind=WORKER)
