"""A service's Prometheus metrics, served at ``/metrics`` on its own port and never through the gateway.

What is counted as it happens lives in ``prometheus_client`` metrics: requests by view and status
(django-prometheus' middleware) and Celery tasks by name and outcome (the signals in
``edge.celery``). Several processes count at once (gunicorn's workers, web replicas, the Celery
worker), so with ``PROMETHEUS_MULTIPROC_DIR`` set each writes its own files there and a scrape sums
every file of that folder: all the service's processes that share it, which on the local stack are
all of them on one host. What the database knows (the outbox, the dead letters, a service's own
rows such as notify's notifications) is read at scrape time by the collectors named in
``EDGE["METRICS_COLLECTORS"]``, so it is right whichever process answers.
"""

import os
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.module_loading import import_string
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
    start_http_server,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from edge.conf import edge_settings
from edge.views import not_found

MULTIPROCESS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
# Set by the gateway on every request it passes on (nginx/proxy_headers.conf), and by no scraper:
# a scrape that came through the gateway, by whatever route, is refused as if /metrics were not there.
GATEWAY_HEADERS = ("HTTP_X_REAL_IP", "HTTP_X_FORWARDED_FOR")

CELERY_TASKS = Counter(
    "celery_tasks",
    "Celery tasks this service's workers ran, by task name and outcome (success, failure, retry...).",
    ["task", "outcome"],
)
CELERY_TASK_DURATION = Histogram(
    "celery_task_duration_seconds",
    "How long this service's Celery tasks ran, by task name and outcome.",
    ["task", "outcome"],
)


class TaskTimer:
    """Times each Celery task from its start to its end, by task id (the worker's threads run
    several at once), and counts it with its outcome."""

    def __init__(self) -> None:
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()

    def started(self, task_id: str) -> None:
        with self._lock:
            self._started[task_id] = time.perf_counter()

    def ended(self, task_id: str, task_name: str, state: str | None) -> None:
        with self._lock:
            started = self._started.pop(task_id, None)
        outcome = (state or "unknown").lower()
        CELERY_TASKS.labels(task=task_name, outcome=outcome).inc()
        if started is not None:
            CELERY_TASK_DURATION.labels(task=task_name, outcome=outcome).observe(
                time.perf_counter() - started
            )


class EventHealthCollector(Collector):
    """The service's events as its database has them (edge.messaging.selectors.event_health)."""

    def collect(self) -> Iterator[Metric]:
        from edge.messaging.selectors import event_health

        health = event_health()
        yield GaugeMetricFamily(
            "events_outbox_unsent", "Outbox rows not sent to the broker yet.", value=health.outbox_unsent
        )
        yield GaugeMetricFamily(
            "events_outbox_oldest_unsent_age_seconds",
            "How long the oldest unsent outbox row has waited (0: none waits).",
            value=health.oldest_unsent_age_seconds or 0.0,
        )
        yield GaugeMetricFamily(
            "events_dead_letters_waiting",
            "Events that could not be handled, waiting for staff to replay them.",
            value=health.dead_letters_waiting,
        )
        yield GaugeMetricFamily(
            "events_inbox_handled_last_hour",
            "Events this service handled in the last hour.",
            value=health.inbox_handled_last_hour,
        )


def ensure_multiprocess_dir() -> None:
    """Create the processes' folder of metrics (an empty volume may not hold it yet)."""
    if path := os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        os.makedirs(path, exist_ok=True)


def process_registry() -> CollectorRegistry:
    """What the processes counted: every process's files in multiprocess mode, else this one's."""
    if not os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def scrape_registry() -> CollectorRegistry:
    """The processes' counts and the database's gauges, read now."""
    registry = CollectorRegistry()
    registry.register(process_registry())
    for path in edge_settings.METRICS_COLLECTORS:
        registry.register(import_string(path)())
    return registry


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus' scrape: the service's own port only; through the gateway it is not there."""
    if any(header in request.META for header in GATEWAY_HEADERS):
        return not_found(request)
    if request.method not in ("GET", "HEAD"):
        return JsonResponse(
            {"detail": f'Method "{request.method}" not allowed.'}, status=405, headers={"Allow": "GET, HEAD"}
        )
    return HttpResponse(generate_latest(scrape_registry()), content_type=CONTENT_TYPE_LATEST)


def serve_worker_metrics(port: int, address: str = "") -> Any:
    """The Celery worker's own endpoint (``EDGE["WORKER_METRICS_PORT"]``), for a worker that
    shares no metrics folder with its service's web process (a container, a pod of its own)."""
    ensure_multiprocess_dir()
    return start_http_server(port, addr=address or "0.0.0.0", registry=process_registry())  # noqa: S104
