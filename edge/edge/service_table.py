"""The services of the system, said once: their names, apps, ports, queues, events and processes.

Everything that needs to know which services exist (the local launcher, the nginx render, the
end-to-end helpers, the bench, the checks on compose.yml and the Kubernetes manifests) reads
this table; none lists the services again. Which events a service consumes is not written here
a second time either: it is read from the subscribers of each contract in ``edge.events``.
"""

from dataclasses import dataclass
from functools import cached_property

from edge.events import EVENT_TYPES

# The gateway's port; each service's own port is in the table below. Gateway replicas on one
# machine (the end-to-end stack's) take the ports after it: 8080, 8081...
GATEWAY_PORT = 8080
# Each gateway's internal port, never published nor routed: catalog pushes its cache version
# there (nginx/catalog_version.lua). Replicas on one machine take the ports after it too.
GATEWAY_INTERNAL_PORT = 8090
# Flower, Celery in view for staff: one for the whole system, behind the gateway at /admin/flower/
# (its URL prefix), reached by no one else. It logs in to the broker as its own user.
FLOWER = "flower"
FLOWER_PORT = 5555
FLOWER_URL_PREFIX = "admin/flower"

WEB = "web"
WORKER = "worker"
RELAY = "relay"


@dataclass(frozen=True)
class Service:
    name: str
    # The Django app that holds the service's models, services and API.
    app: str
    # Where its gunicorn listens (inside compose's network and on the local stack alike).
    port: int

    @property
    def directory(self) -> str:
        """The folder of its Django project, relative to the repository's root."""
        return f"{self.name}_service"

    @cached_property
    def consumes(self) -> tuple[str, ...]:
        """The event types delivered to this service's queue, from the contracts' subscribers."""
        return tuple(sorted(type_ for type_, event in EVENT_TYPES.items() if self.name in event.subscribers))

    @cached_property
    def produces(self) -> tuple[str, ...]:
        """The event types it may send, from the contracts' producers: it signs each one."""
        return tuple(sorted(type_ for type_, event in EVENT_TYPES.items() if self.name in event.producers))

    @property
    def queue(self) -> str | None:
        """Its Celery queue, named after it; None when it consumes nothing."""
        return self.name if self.consumes else None

    @property
    def processes(self) -> tuple[str, ...]:
        """What runs of it: gunicorn, a Celery worker when it has a queue, and its outbox relay."""
        return (WEB, WORKER, RELAY) if self.queue else (WEB, RELAY)


SERVICES: tuple[Service, ...] = (
    Service(name="auth", app="accounts", port=8001),
    Service(name="catalog", app="catalog", port=8002),
    Service(name="orders", app="orders", port=8003),
    Service(name="notify", app="notify", port=8004),
)

SERVICE_NAMES: tuple[str, ...] = tuple(service.name for service in SERVICES)


def service_named(name: str) -> Service:
    for service in SERVICES:
        if service.name == name:
            return service
    raise LookupError(f"No service named {name!r}; the services are {', '.join(SERVICE_NAMES)}.")
