"""The dashboard every admin site opens on: charts drawn as SVG on the server, and the event health
of the service with its dead letters, each replayed by a button."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from edge.charts import Series, bar_chart, line_chart
from edge.events import UserRegistered
from edge.messaging.models import DeadLetter, OutboxMessage
from edge.messaging.services import dead_letter_record, publish
from edge.testing import chart_values, dashboard_figures, dashboard_panel, signed_by_producer
from tests.shop.models import Greeting

INDEX = "/admin/edge/"


def test_a_bar_chart_stacks_its_series_and_carries_each_value():
    chart = bar_chart(
        key="mail",
        title="Mail",
        labels=["Mon", "Tue"],
        series=[Series("sent", [3, 0]), Series("failed", [1, 2])],
    )

    assert chart.startswith('<svg class="chart" data-chart="mail"')
    assert chart_values(chart, "sent") == {"Mon": "3", "Tue": "0"}
    assert chart_values(chart, "failed") == {"Mon": "1", "Tue": "2"}
    # The tallest stack (Mon: 4) reaches the top of the plot; Tue's 2 half of it.
    assert '<rect class="series-1" x="73.4" y="38" width="235.2" height="34.5"' in chart
    assert '<rect class="series-1" x="367.4" y="107" width="235.2" height="69"' in chart


def test_a_line_chart_has_a_point_for_each_value():
    chart = line_chart(
        key="revenue",
        title="Revenue",
        labels=["Mon", "Tue", "Wed"],
        series=[Series("EUR", [Decimal("1.50"), 0, 3])],
    )

    assert chart_values(chart, "EUR") == {"Mon": "1.50", "Tue": "0", "Wed": "3"}
    assert chart.count("<polyline ") == 1


def test_a_chart_escapes_what_it_is_given():
    chart = bar_chart(key="k", title="<b>", labels=['"><script>'], series=[Series("<i>", [1])])

    assert "<script>" not in chart
    assert "<b>" not in chart
    assert "&lt;script&gt;" in chart


def test_an_empty_chart_still_draws():
    chart = bar_chart(key="empty", title="Nothing", labels=[], series=[Series("none", [])])

    assert chart.startswith("<svg ")
    assert chart_values(chart, "none") == {}


@pytest.mark.django_db
def test_the_event_health_counts_what_waits_and_lists_dead_letters_to_replay(superuser_admin_client):
    publish(UserRegistered(user_id=1, email="ann@example.com", full_name="Ann"))
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=3))
    message = UserRegistered(user_id=2, email="back@example.com", full_name="Bo").to_message()
    dead = dead_letter_record(
        message=message,
        **signed_by_producer(message),
        reason="retries_exhausted",
        error="OperationalError: down",
        queue="edge",
        attempts=9,
    )

    health = dashboard_panel(superuser_admin_client.get(INDEX), "event-health")

    assert dashboard_figures(health) == {
        "outbox-unsent": 1,
        "oldest-unsent-age": "3 min",
        "inbox-handled": 0,
        "dead-letters-waiting": 1,
    }
    (table,) = health.tables
    assert [row.pk for row in table.rows] == [dead.pk]
    assert table.more_url == "/admin/edge/messaging/deadletter/?replayed_at__isempty=1"
    assert list(superuser_admin_client.get(table.more_url).context["cl"].result_list) == [dead]
    replayed = superuser_admin_client.post(
        table.action.changelist_url, {"action": table.action.action, "_selected_action": dead.pk}, follow=True
    )
    assert "1 dead letter(s) handled." in replayed.content.decode()
    assert Greeting.objects.filter(email="back@example.com").exists()
    after = dashboard_panel(superuser_admin_client.get(INDEX), "event-health")
    assert dashboard_figures(after)["dead-letters-waiting"] == 0
    assert dashboard_figures(after)["inbox-handled"] == 1
    assert DeadLetter.objects.get().replayed_at is not None
