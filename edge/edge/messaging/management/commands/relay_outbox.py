"""The outbox relay: resends events that were not sent on commit, until stopped, and now and
then prunes the outbox and inbox rows kept long enough and runs the service's periodic jobs
(``EDGE["RELAY_PERIODIC_JOBS"]``).

With ``--heartbeat-file`` it touches that file after every pass, so a container's health check
(compose, Kubernetes) can tell a relay that goes round from one that hangs: the file is the
process's own, in its container's /tmp, never shared.
"""

import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils.module_loading import import_string

from edge.conf import edge_settings
from edge.messaging.services import messages_prune, outbox_relay_pending
from edge.service_table import RELAY
from edge.tracing import tracing_start

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Relay unsent outbox events to their subscribers' queues until SIGTERM or SIGINT."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Relay what is pending, then exit.")
        parser.add_argument(
            "--heartbeat-file", type=Path, help="Touch this file after every pass (for health checks)."
        )

    def handle(
        self, *args: Any, once: bool = False, heartbeat_file: Path | None = None, **options: Any
    ) -> None:
        self.running = True
        tracing_start(kind=RELAY)
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        pruned_at = float("-inf")
        jobs = [
            PeriodicJob(path, import_string(path), interval)
            for path, interval in edge_settings.RELAY_PERIODIC_JOBS.items()
        ]
        while self.running:
            try:
                sent = outbox_relay_pending()
                if time.monotonic() - pruned_at >= edge_settings.MESSAGES_PRUNE_INTERVAL_SECONDS:
                    outbox, inbox = messages_prune()
                    pruned_at = time.monotonic()
                    logger.info("messages pruned", extra={"outbox": outbox, "inbox": inbox})
            except DatabaseError:
                logger.exception("outbox relay could not read the outbox")
                close_old_connections()
                sent = 0
            if sent:
                logger.info("outbox relayed", extra={"sent": sent})
            for job in jobs:
                job.run_if_due()
            if heartbeat_file:
                heartbeat_file.touch()
            if once:
                return
            time.sleep(edge_settings.OUTBOX_RELAY_INTERVAL_SECONDS)

    def _stop(self, signum: int, frame: object) -> None:
        self.running = False


class PeriodicJob:
    """One of the service's periodic jobs, run at most once per interval by this relay."""

    def __init__(self, path: str, function: Callable[[], object], interval: float) -> None:
        self.path, self.function, self.interval = path, function, interval
        self.ran_at = float("-inf")

    def run_if_due(self) -> None:
        if time.monotonic() - self.ran_at < self.interval:
            return
        self.ran_at = time.monotonic()
        # A failing job waits for its next turn: it must not stop the relay sending events. (A
        # connection it broke fails the next relay pass, which reconnects.)
        try:
            result = self.function()
        except Exception:
            logger.exception("periodic job failed", extra={"job": self.path})
            return
        if result:
            logger.info("periodic job ran", extra={"job": self.path, "result": result})
