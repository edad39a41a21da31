"""One trace from the request that publishes an event to the task that handles it: the outbox
row keeps its publisher's trace context, the task message carries it, the consumer continues it."""

import json
from datetime import timedelta

import pytest
import redis
from celery import current_app
from celery.worker.request import Request
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from edge.events import UserRegistered
from edge.messaging.models import OutboxMessage
from edge.messaging.services import HANDLE_EVENT_TASK, outbox_relay_pending, publish
from edge.tracing import ROOTS_OF_WORK, current_traceparent, instrument, tracing_configured, uninstrument
from tests.shop.models import Greeting

SEND_SPAN = f"apply_async/{HANDLE_EVENT_TASK}"
RUN_SPAN = f"run/{HANDLE_EVENT_TASK}"


@pytest.fixture
def provider():
    """This process traced as a service's is, its spans kept in memory."""
    provider = TracerProvider(sampler=ROOTS_OF_WORK)
    provider.exported = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(provider.exported))
    instrument(provider, web=False)
    yield provider
    uninstrument()


@pytest.fixture
def broker():
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete("notify")
    yield client
    client.delete("notify")


def _request_span(provider: TracerProvider) -> trace.Span:
    """A span as the Django instrumentation opens for a request the gateway sent."""
    return provider.get_tracer("test").start_span("POST /api/things/", kind=SpanKind.SERVER)


def _traceparent(span: trace.Span | ReadableSpan) -> str:
    context = span.get_span_context()
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def _queued_headers(broker) -> list[dict]:
    return [json.loads(raw)["headers"] for raw in broker.lrange("notify", 0, -1)]


def _finished(provider: TracerProvider, name: str) -> list[ReadableSpan]:
    return [span for span in provider.exported.get_finished_spans() if span.name == name]


def _run_as_the_worker_does(broker) -> None:
    """Take the oldest message off notify's queue and run its task as a Celery worker would."""
    raw = broker.rpop("notify")
    with current_app.connection_for_read() as connection:
        channel = connection.default_channel
        message = channel.Message(json.loads(raw), channel=channel)
        task = current_app.tasks[message.headers["task"]]
        Request(message, app=current_app, task=task).execute()


def test_an_event_keeps_the_trace_context_of_the_request_that_published_it(db, provider):
    request = _request_span(provider)

    with trace.use_span(request), transaction.atomic():
        message = publish(UserRegistered(user_id=1, email="a@example.com"))

    assert OutboxMessage.objects.get(pk=message.pk).traceparent == _traceparent(request)


def test_an_event_published_outside_any_trace_keeps_none(db, provider):
    with transaction.atomic():
        message = publish(UserRegistered(user_id=1, email="a@example.com"))

    assert OutboxMessage.objects.get(pk=message.pk).traceparent == ""


def test_the_task_message_carries_the_trace_of_the_request_that_published_the_event(
    db, provider, broker, django_capture_on_commit_callbacks
):
    request = _request_span(provider)

    with trace.use_span(request):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            publish(UserRegistered(user_id=1, email="a@example.com"))
        # The send's span ended: the request's own spans that follow are not its children.
        assert trace.get_current_span() is request

    [send] = _finished(provider, SEND_SPAN)
    assert send.parent.span_id == request.get_span_context().span_id
    assert [headers["traceparent"] for headers in _queued_headers(broker)] == [_traceparent(send)]


def test_the_relay_sends_an_event_in_the_trace_of_the_request_that_published_it(db, provider, broker):
    request = _request_span(provider)
    with trace.use_span(request), transaction.atomic():
        # The broker was down then: the row waits for the relay, which runs in no request.
        publish(UserRegistered(user_id=1, email="a@example.com"))
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=1))

    assert outbox_relay_pending() == 1

    [send] = _finished(provider, SEND_SPAN)
    assert send.context.trace_id == request.get_span_context().trace_id
    assert send.parent.span_id == request.get_span_context().span_id
    assert [headers["traceparent"] for headers in _queued_headers(broker)] == [_traceparent(send)]


def test_the_consumers_task_continues_the_trace_the_message_carries(
    db, provider, broker, settings, django_capture_on_commit_callbacks
):
    # Sent as auth, user.registered's producer, so that this service's handler takes it.
    settings.SERVICE_NAME = "auth"
    request = _request_span(provider)
    with (
        trace.use_span(request),
        django_capture_on_commit_callbacks(execute=True),
        transaction.atomic(),
    ):
        publish(UserRegistered(user_id=1, email="a@example.com"))
    [headers] = _queued_headers(broker)

    _run_as_the_worker_does(broker)

    [run] = _finished(provider, RUN_SPAN)
    assert _traceparent(run).split("-")[1] == headers["traceparent"].split("-")[1]
    assert f"{run.parent.span_id:016x}" == headers["traceparent"].split("-")[2]
    assert run.kind == SpanKind.CONSUMER
    assert Greeting.objects.filter(email="a@example.com").exists()


def test_a_call_outside_any_request_or_task_starts_no_trace(provider):
    tracer = provider.get_tracer("test")

    with tracer.start_as_current_span("SELECT", kind=SpanKind.CLIENT):
        pass
    with (
        tracer.start_as_current_span("POST /api/things/", kind=SpanKind.SERVER),
        tracer.start_as_current_span("INSERT", kind=SpanKind.CLIENT),
    ):
        pass

    assert sorted(span.name for span in provider.exported.get_finished_spans()) == [
        "INSERT",
        "POST /api/things/",
    ]


def test_no_trace_context_is_made_where_tracing_is_off():
    assert current_traceparent() == ""


@pytest.mark.parametrize(
    ("environment", "configured"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_on_only_with_an_otlp_endpoint_and_the_sdk_not_disabled(
    monkeypatch, environment, configured
):
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)

    assert tracing_configured() is configured
