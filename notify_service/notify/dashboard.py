"""The notify admin's dashboard: emails sent and failed, the failed ones to resend, staff alerts."""

from collections import defaultdict

from django.http import HttpRequest

from edge.charts import Series, bar_chart
from edge.dashboard import (
    Figure,
    Panel,
    Row,
    RowAction,
    Table,
    change_url,
    changelist_url,
    day_labels,
    last_days,
    panel,
    per_day,
    since,
    when,
)
from notify import selectors
from notify.models import Notification

FAILED_SHOWN = 10
ALERTS_SHOWN = 10


@panel(permission="notify.view_notification")
def emails(request: HttpRequest) -> Panel:
    days = last_days()
    by_status: dict[str, dict] = defaultdict(dict)
    for row in selectors.emails_per_day(since=since(days)):
        by_status[row["status"]][row["day"]] = row["emails"]
    sent = per_day(days, by_status[Notification.Status.SENT].items())
    failed_per_day = per_day(days, by_status[Notification.Status.FAILED].items())
    failed = selectors.emails_failed()
    failed_list = changelist_url(
        Notification, channel__exact=Notification.Channel.EMAIL, status__exact=Notification.Status.FAILED
    )
    may_resend = request.user.has_perm("notify.change_notification")
    return Panel(
        key="emails",
        title=f"Emails, last {len(days)} days",
        wide=True,
        figures=[
            Figure(key="emails-sent", label="Sent", value=sum(sent)),
            Figure(key="emails-failed", label="Failed", value=sum(failed_per_day)),
            Figure(
                key="emails-failed-waiting",
                label="Failed, waiting for a resend (all time)",
                value=failed.count(),
                url=failed_list,
                alarming=True,
            ),
        ],
        charts=[
            bar_chart(
                key="emails-per-day",
                title="Emails sent and failed per day",
                labels=day_labels(days),
                series=[Series("sent", sent), Series("failed", failed_per_day)],
            )
        ],
        tables=[
            Table(
                key="emails-failed",
                title="Failed, the latest first",
                columns=["To", "Kind", "Error", "When"],
                rows=[
                    Row(
                        cells=[
                            notification.email,
                            notification.get_kind_display(),
                            notification.error.splitlines()[0] if notification.error else "",
                            when(notification.created_at),
                        ],
                        url=change_url(notification),
                        pk=notification.pk,
                    )
                    for notification in failed[:FAILED_SHOWN]
                ],
                empty="None: every email went.",
                more_url=failed_list,
                more_label="All failed, to resend",
                action=RowAction(changelist_url(Notification), "resend", "Resend") if may_resend else None,
            )
        ],
    )


@panel(permission="notify.view_notification")
def staff_alerts(request: HttpRequest) -> Panel:
    return Panel(
        key="staff-alerts",
        title="Staff alerts",
        tables=[
            Table(
                key="staff-alerts",
                title="The latest",
                columns=["Subject", "Status", "When"],
                rows=[
                    Row(
                        cells=[alert.subject, alert.get_status_display(), when(alert.created_at)],
                        url=change_url(alert),
                        pk=alert.pk,
                    )
                    for alert in selectors.staff_alert_list()[:ALERTS_SHOWN]
                ],
                empty="No alert yet.",
                more_url=changelist_url(Notification, channel__exact=Notification.Channel.LOG),
                more_label="All alerts",
            )
        ],
    )
