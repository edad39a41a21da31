"""Traces: OpenTelemetry in every process of every service, off unless an OTLP endpoint is set.

The gateway starts each request's trace: it sends the services a W3C ``traceparent`` whose trace
id is its own request id (nginx/proxy_headers.conf). The web process continues it (Django's
instrumentation), and so do the Celery tasks it sends: the context travels in each task
message's headers (Celery's instrumentation). An event does not always leave from the request
that published it (the outbox relay resends what the broker refused), so the outbox row keeps
the ``traceparent`` of its publisher (``current_traceparent``) and the relay sends the event
under it (``traceparent_context``). One order's trace thus runs gateway, orders, catalog's
worker, orders' worker, notify's worker. Database (psycopg) and Redis calls are spans of the
request or task that makes them.

Each process starts tracing once, after it forked (an exporting thread does not survive a
fork): gunicorn's workers in ``post_fork`` (edge.gunicorn), Celery's worker in ``worker_init``
(edge.celery), the relay as its command starts.

Configured by OpenTelemetry's own variables:
- ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``): where the spans
  go, over OTLP/HTTP. Without it nothing is set up or instrumented and tracing costs nothing.
- ``OTEL_SDK_DISABLED=true`` turns it off again with an endpoint set.
- ``OTEL_SERVICE_NAME``: the process's name in the traces, by default ``<service>-<kind>``
  (``orders-web``, ``catalog-worker``, ``notify-relay``).
- ``OTEL_BSP_SCHEDULE_DELAY`` and the rest of ``OTEL_BSP_*``: the batching of the exports
  (spans leave in batches from a thread of their own, never on the request's time).
- ``OTEL_TRACES_SAMPLER``: another sampler than ours (``ROOTS_OF_WORK``, below).
"""

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.conf import settings
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind
from opentelemetry.util.types import Attributes

from edge.service_table import WEB

TRACEPARENT = "traceparent"
ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


class RootsOfWork(Sampler):
    """Starts a trace at a unit of work alone: a request, a task, an event sent.

    A database or Redis call outside any of them (the relay polling its outbox every second,
    Celery's own upkeep of the broker) would otherwise be a trace of one span, many a second.
    """

    def should_sample(
        self,
        parent_context: context.Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: trace.TraceState | None = None,
    ) -> SamplingResult:
        sampler = ALWAYS_OFF if kind in (SpanKind.CLIENT, SpanKind.INTERNAL) else ALWAYS_ON
        return sampler.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)

    def get_description(self) -> str:
        return "RootsOfWork"


# A span whose parent is sampled is sampled too, whatever its kind.
ROOTS_OF_WORK = ParentBased(root=RootsOfWork())

_started = False


def tracing_configured() -> bool:
    """Whether this process's environment asks for traces: an OTLP endpoint, and the SDK not
    disabled."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def tracing_start(*, kind: str) -> bool:
    """Trace this process (a ``kind`` of edge.service_table: web, worker, relay) when its
    environment asks for it; True if it does. Once per process: later calls do nothing."""
    global _started
    if _started or not tracing_configured():
        return _started
    # Imported by the processes that trace alone: the exporter brings protobuf, and each
    # instrumentation the library it instruments.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    # Django's instrumentation reads the settings; gunicorn's workers have not loaded them yet.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    provider = tracer_provider(kind=kind)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    instrument(provider, web=kind == WEB)
    _started = True
    return True


def tracer_provider(*, kind: str) -> TracerProvider:
    """A provider for this process, named ``<service>-<kind>`` unless OTEL_SERVICE_NAME says."""
    name = {} if os.environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: f"{settings.SERVICE_NAME}-{kind}"}
    sampler = None if os.environ.get("OTEL_TRACES_SAMPLER") else ROOTS_OF_WORK
    return TracerProvider(resource=Resource.create(name), sampler=sampler)


def instrument(provider: TracerProvider, *, web: bool) -> None:
    """Spans for Celery's tasks sent and run, psycopg's queries, Redis' commands and, in a web
    process, Django's requests."""
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    CeleryInstrumentor().instrument(tracer_provider=provider)
    PsycopgInstrumentor().instrument(tracer_provider=provider)
    RedisInstrumentor().instrument(tracer_provider=provider)
    if web:
        DjangoInstrumentor().instrument(tracer_provider=provider)


def uninstrument() -> None:
    """Undo ``instrument`` (for tests)."""
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    for instrumentor in (
        CeleryInstrumentor(),
        PsycopgInstrumentor(),
        RedisInstrumentor(),
        DjangoInstrumentor(),
    ):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


def current_traceparent() -> str:
    """The W3C traceparent of the span this code runs in; empty when it runs in none (or this
    process does not trace)."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT, "")


@contextmanager
def traceparent_context(traceparent: str) -> Iterator[None]:
    """Run the block as part of the trace that ``traceparent`` names (nothing changes for an
    empty one)."""
    if not traceparent:
        yield
        return
    token = context.attach(propagate.extract({TRACEPARENT: traceparent}))
    try:
        yield
    finally:
        context.detach(token)
