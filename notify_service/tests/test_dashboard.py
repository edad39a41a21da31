"""The notify admin's dashboard: emails sent and failed per day, the failed ones with a button that
resends each, and the latest staff alerts."""

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from edge.dashboard import day_labels, last_days
from edge.testing import chart_values, dashboard_figures, dashboard_panel
from notify.models import Notification
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

INDEX = "/admin/notify/"


def made(days_ago: int, **fields) -> Notification:
    notification = NotificationFactory(**fields)
    Notification.objects.filter(pk=notification.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    return notification


def test_the_dashboard_counts_the_emails_sent_and_failed_each_day(superuser_admin_client):
    made(0, status=Notification.Status.SENT)
    made(0, status=Notification.Status.SENT)
    made(0, status=Notification.Status.FAILED, error="SMTPServerDisconnected")
    made(1, status=Notification.Status.SENT)
    made(0, status=Notification.Status.PENDING)
    made(0, status=Notification.Status.SENT, channel=Notification.Channel.LOG)
    made(45, status=Notification.Status.FAILED, error="SMTPServerDisconnected")

    emails = dashboard_panel(superuser_admin_client.get(INDEX), "emails")

    # The failure of 45 days ago is off the chart, but still waits for a resend.
    assert dashboard_figures(emails) == {"emails-sent": 3, "emails-failed": 1, "emails-failed-waiting": 2}
    *_, yesterday, today = day_labels(last_days())
    sent, failed = chart_values(emails.charts[0], "sent"), chart_values(emails.charts[0], "failed")
    assert (sent[today], sent[yesterday], failed[today], failed[yesterday]) == ("2", "1", "1", "0")


def test_a_failed_email_on_the_dashboard_is_resent_by_its_button(
    superuser_admin_client, django_capture_on_commit_callbacks
):
    failed = made(0, status=Notification.Status.FAILED, error="SMTPServerDisconnected\nat line 3")

    page = superuser_admin_client.get(INDEX)

    (table,) = dashboard_panel(page, "emails").tables
    assert [row.cells[:3] for row in table.rows] == [[failed.email, "Welcome", "SMTPServerDisconnected"]]
    assert table.action.changelist_url == "/admin/notify/notify/notification/"
    with django_capture_on_commit_callbacks(execute=True):
        resent = superuser_admin_client.post(
            table.action.changelist_url,
            {"action": table.action.action, "_selected_action": failed.pk},
            follow=True,
        )
    assert "1 notification(s) queued again." in resent.content.decode()
    failed.refresh_from_db()
    assert failed.status == Notification.Status.SENT
    assert len(mail.outbox) == 1


def test_staff_who_may_only_view_notifications_get_no_resend_button(staff_admin_client):
    # Fulfilment sees the emails; resending one is support's.
    viewer = staff_admin_client("fulfilment")
    made(0, status=Notification.Status.FAILED, error="SMTPServerDisconnected")

    (table,) = dashboard_panel(viewer.get(INDEX), "emails").tables

    assert len(table.rows) == 1
    assert table.action is None


def test_the_dashboard_shows_the_latest_staff_alerts(superuser_admin_client):
    made(1, channel=Notification.Channel.LOG, subject="Dead letters are waiting")
    made(0, channel=Notification.Channel.LOG, subject="Outbox backlog")
    made(0, subject="Welcome to Commerce")

    (alerts,) = dashboard_panel(superuser_admin_client.get(INDEX), "staff-alerts").tables

    assert [row.cells[0] for row in alerts.rows] == ["Outbox backlog", "Dead letters are waiting"]
    assert alerts.more_url == "/admin/notify/notify/notification/?channel__exact=log"
