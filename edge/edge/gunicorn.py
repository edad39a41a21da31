"""The gunicorn settings of every service's web process: ``gunicorn -c python:edge.gunicorn``.

Threads, with connections kept alive: the gateway keeps its connections to each service
open (``keepalive`` in its upstreams), so a request costs neither a TCP handshake nor a
worker's accept, and while one request waits on Postgres or Redis its process serves others.
The number of processes is gunicorn's own ``WEB_CONCURRENCY`` or ``--workers``.
"""

import os
from typing import Any

from prometheus_client import multiprocess

worker_class = "gthread"
threads = 4
# Longer than the gateway keeps an idle upstream connection (nginx: 60 s), so it closes first
# and never sends a request down a connection gunicorn is closing.
keepalive = 75
# gunicorn (25+) opens a control socket at $HOME/.gunicorn/gunicorn.ctl unless told not to: every
# service's gunicorn on a host would share that one path, and the image's user has no home.
control_socket_disable = True


# Each worker writes its metrics in this folder, which /metrics sums (edge.metrics).
METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def on_starting(server: Any) -> None:
    if METRICS_DIR:
        os.makedirs(METRICS_DIR, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    # A dead worker's live gauges leave the sum; its counters stay in it.
    if METRICS_DIR:
        multiprocess.mark_process_dead(worker.pid)


def post_fork(server: Any, worker: Any) -> None:
    # In each worker, before it loads the application: the exporting thread of a tracer set up
    # in the master would not survive the fork, and Django's instrumentation must add its
    # middleware before the application is built. Imported here, in the worker: the master, which
    # only forks and watches, loads neither Django nor OpenTelemetry.
    from edge.service_table import WEB
    from edge.tracing import tracing_start

    tracing_start(kind=WEB)
