"""The Celery app of a service: one shape for all four, tuned so that no event is lost, and its
tasks counted and timed by name and outcome (edge.metrics)."""

import os
from typing import Any

from celery import Celery, signals

from edge.conf import edge_settings
from edge.logging import request_id_var
from edge.metrics import TaskTimer, ensure_multiprocess_dir, serve_worker_metrics
from edge.service_table import WORKER
from edge.tracing import tracing_start

REQUEST_ID_HEADER = "request_id"
_task_timer = TaskTimer()


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


@signals.task_prerun.connect
def _start_task_timer(task_id: str | None = None, **kwargs: Any) -> None:
    if task_id:
        _task_timer.started(task_id)


@signals.task_postrun.connect
def _count_task(
    task_id: str | None = None, task: Any = None, state: str | None = None, **kwargs: Any
) -> None:
    if task_id and task is not None:
        _task_timer.ended(task_id, task.name, state)


@signals.worker_init.connect
def _serve_metrics(**kwargs: Any) -> None:
    ensure_multiprocess_dir()
    if edge_settings.WORKER_METRICS_PORT:
        serve_worker_metrics(edge_settings.WORKER_METRICS_PORT)


@signals.worker_init.connect
def _start_tracing(**kwargs: Any) -> None:
    # The worker runs its tasks in threads of this process (edge.settings.base: the thread pool).
    tracing_start(kind=WORKER)
