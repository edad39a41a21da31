"""Whether a deployment runs what the table of services says (``edge.service_table``).

A deployment's test (``tests/test_compose.py`` today, Kubernetes manifests later) reads its own
format into ``Process`` values and hands them to ``disagreements_with_the_table``: the table is
the one statement of which services run which processes, on which port and queue.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from edge.service_table import RELAY, SERVICES, WEB, WORKER, Service

# The name of the process of a service in a deployment: "catalog", "catalog-worker", ...
PROCESS_NAMES = {WEB: "{service}", WORKER: "{service}-worker", RELAY: "{service}-relay"}


def health_path(service: Service) -> str:
    """What a web process answers its health on (edge.urls)."""
    return f"/api/{service.name}/health/"


@dataclass(frozen=True)
class Process:
    """One process of a service as a deployment runs it, whatever the deployment's format."""

    # The service whose image it runs (the SERVICE the image was built with).
    service: str
    # WEB, WORKER or RELAY, as the deployment starts it (gunicorn, a Celery worker, relay_outbox).
    role: str
    # A web process: the port it listens on, and the path and port its health check asks.
    port: int | None = None
    health: tuple[str, int] | None = None
    # A worker: the queues it consumes.
    queues: tuple[str, ...] = ()


def disagreements_with_the_table(processes: Mapping[str, Process]) -> list[str]:
    """Everything that ``processes`` (by their name in the deployment) gets wrong about the table:
    each process the table says, named after its service and role, once; nothing else."""
    by_name = {service.name: service for service in SERVICES}
    problems = [
        f"{name} runs {process.service!r}, which is no service of the table"
        for name, process in processes.items()
        if process.service not in by_name
    ]
    for service in SERVICES:
        for role in (WEB, WORKER, RELAY):
            expected_name = PROCESS_NAMES[role].format(service=service.name)
            found = {
                name: process
                for name, process in processes.items()
                if process.service == service.name and process.role == role
            }
            if role not in service.processes:
                problems += [f"{name}: {service.name} has no {role} in the table" for name in found]
                continue
            if list(found) != [expected_name]:
                problems.append(
                    f"{service.name}'s {role} should be one process named {expected_name}: {list(found)}"
                )
                continue
            process = found[expected_name]
            if role == WEB:
                if process.port != service.port:
                    problems.append(f"{expected_name} listens on {process.port}, not {service.port}")
                if process.health != (health_path(service), service.port):
                    problems.append(
                        f"{expected_name}'s health check asks {process.health}, "
                        f"not {(health_path(service), service.port)}"
                    )
            if role == WORKER and process.queues != (service.queue,):
                problems.append(f"{expected_name} consumes {process.queues}, not ({service.queue!r},)")
    return problems
