"""/metrics: what a service counted and what its database holds, on its own port alone."""

import socket
import urllib.request
from datetime import timedelta

from django.utils import timezone
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from edge.events import UserRegistered
from edge.messaging.models import OutboxMessage
from edge.metrics import TaskTimer, serve_worker_metrics


def scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def test_metrics_count_requests_by_view_and_status(client, db):
    client.get("/api/edge/health/")

    samples = scrape(client)

    responses = {
        labels: value
        for (name, labels), value in samples.items()
        if name == "django_http_responses_total_by_status_view_method_total"
    }
    assert responses[(("method", "GET"), ("status", "200"), ("view", "health"))] >= 1
    assert any(name == "django_http_requests_latency_seconds_by_view_method_bucket" for name, _ in samples)


def test_metrics_give_the_outbox_backlog_and_its_oldest_age(client, db):
    event = UserRegistered(user_id=1, email="a@example.com")
    OutboxMessage.objects.create(event_id=event.event_id, event_type=event.type, payload=event.to_message())
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=2))

    samples = scrape(client)

    assert samples[("events_outbox_unsent", ())] == 1
    assert samples[("events_outbox_oldest_unsent_age_seconds", ())] >= 120
    assert samples[("events_dead_letters_waiting", ())] == 0


def test_metrics_through_the_gateway_are_not_found(client, db):
    response = client.get("/metrics", HTTP_X_REAL_IP="203.0.113.9", HTTP_X_FORWARDED_FOR="203.0.113.9")

    assert response.status_code == 404
    assert response.json()["detail"] == "Not found."


def test_metrics_refuse_a_post_in_json(client, db):
    response = client.post("/metrics")

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


def test_a_task_is_counted_and_timed_with_its_outcome():
    def count(outcome: str) -> float:
        return REGISTRY.get_sample_value("celery_tasks_total", {"task": "shop.ship", "outcome": outcome}) or 0

    def timed(outcome: str) -> float:
        labels = {"task": "shop.ship", "outcome": outcome}
        return REGISTRY.get_sample_value("celery_task_duration_seconds_count", labels) or 0

    before = count("success"), count("failure"), timed("failure")
    timer = TaskTimer()

    timer.started("task-1")
    timer.ended("task-1", "shop.ship", "SUCCESS")
    timer.started("task-2")
    timer.ended("task-2", "shop.ship", "FAILURE")

    assert (count("success"), count("failure"), timed("failure")) == (
        before[0] + 1,
        before[1] + 1,
        before[2] + 1,
    )


def test_a_worker_of_its_own_serves_its_counts_on_its_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server, _ = serve_worker_metrics(port, "127.0.0.1")
    try:
        TaskTimer().ended("task-3", "shop.pack", "SUCCESS")

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            body = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()

    assert 'celery_tasks_total{outcome="success",task="shop.pack"}' in body
