"""notify's own metrics, read from its database at scrape time (edge.metrics serves them)."""

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from notify.selectors import notification_counts_by_status


class NotificationCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        family = GaugeMetricFamily("notifications", "Notifications by status.", labels=["status"])
        for status, count in notification_counts_by_status().items():
            family.add_metric([status], count)
        yield family
