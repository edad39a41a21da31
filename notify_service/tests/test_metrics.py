"""notify's /metrics: its notifications by status, read from its database."""

from prometheus_client.parser import text_string_to_metric_families

from notify.models import Notification
from tests.factories import NotificationFactory


def test_metrics_count_notifications_by_status(client, db):
    NotificationFactory.create_batch(2, status=Notification.Status.SENT)
    NotificationFactory(status=Notification.Status.FAILED)

    response = client.get("/metrics")

    assert response.status_code == 200
    by_status = {
        sample.labels["status"]: sample.value
        for family in text_string_to_metric_families(response.content.decode())
        if family.name == "notifications"
        for sample in family.samples
    }
    assert by_status == {"pending": 0, "sent": 2, "failed": 1}
