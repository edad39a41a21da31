"""Whether a deployment runs what the table of services says (``edge.service_table``).

A deployment's test (``tests/test_compose.py``, ``tests/test_kubernetes.py``) reads its own
format into ``Process`` values and hands them to ``disagreements_with_the_table``: the table is
the one statement of which services run which processes, on which port and queue; each
service's settings module says which variables of the environment it reads.
"""

import ast
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from edge.service_table import RELAY, SERVICES, WEB, WORKER, Service

REPO = Path(__file__).resolve().parent.parent
SHARED_SETTINGS = REPO / "edge" / "edge" / "settings" / "base.py"
# Settings whose default holds on one machine only: addresses on 127.0.0.1 or localhost (the
# broker, auth's JWKS, the catalog's API, the mail server, the gateway's public address), the
# origins and hosts of the local gateway, and the broker's visibility timeout, which every
# service must set alike (on a shared broker the shortest wins). A deployment across machines
# sets each one that a service reads, and every setting that has no default at all.
OFF_ONE_HOST = frozenset(
    {
        "REDIS_URL",
        "REDIS_CACHE_URL",
        "JWT_JWKS_URL",
        "CATALOG_API_URL",
        "EMAIL_URL",
        "PUBLIC_BASE_URL",
        "CSRF_TRUSTED_ORIGINS",
        "DJANGO_ALLOWED_HOSTS",
        "CELERY_VISIBILITY_TIMEOUT",
        "GATEWAY_ADDRESSES",
    }
)

# What the gateway image's command (nginx/render-and-run.sh) makes of its environment before it
# renders the template, as devstack/gateway.py does: each variable it derives, and from which.
GATEWAY_DERIVED_VARIABLES = {"GATEWAY_REAL_IP_FROM": "GATEWAY_TRUSTED_PROXIES"}

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
    # The names of the variables its environment sets; None when the deployment's test leaves
    # the environment unchecked.
    environment: frozenset[str] | None = None


def _settings_read(path: Path) -> dict[str, bool]:
    """The variables a settings module reads with django-environ (``env.str("NAME", ...)``),
    each with whether it has a default."""
    read = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call) or not node.args or not isinstance(node.args[0], ast.Constant):
            continue
        function = node.func
        receiver = function.value if isinstance(function, ast.Attribute) else function
        if isinstance(receiver, ast.Name) and receiver.id == "env" and isinstance(node.args[0].value, str):
            read[node.args[0].value] = any(keyword.arg == "default" for keyword in node.keywords)
    return read


@cache
def environment_needed(service: Service) -> frozenset[str]:
    """What every process of ``service`` must find in its environment off the local stack:
    the settings it reads without a default, and those of OFF_ONE_HOST it reads."""
    read = {
        **_settings_read(SHARED_SETTINGS),
        **_settings_read(REPO / service.directory / "config" / "settings.py"),
    }
    return frozenset(name for name, has_default in read.items() if not has_default or name in OFF_ONE_HOST)


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
            if process.environment is not None and (
                missing := environment_needed(service) - process.environment
            ):
                problems.append(f"{expected_name}'s environment lacks {sorted(missing)}")
    return problems
