"""The event health panel on every service's admin dashboard: what waits to be sent, what came in,
and the dead letters waiting for a replay, each with a button that replays it."""

from django.http import HttpRequest

from edge.dashboard import (
    Figure,
    Panel,
    Row,
    RowAction,
    Table,
    change_url,
    changelist_url,
    panel,
    seconds_as_age,
    when,
)
from edge.messaging import selectors
from edge.messaging.models import DeadLetter, InboxMessage, OutboxMessage

DEAD_LETTERS_SHOWN = 5


@panel(permission="messaging.view_deadletter")
def event_health(request: HttpRequest) -> Panel:
    health = selectors.event_health()
    waiting = changelist_url(DeadLetter, replayed_at__isempty=1)
    may_replay = request.user.has_perm("messaging.change_deadletter")
    hours = int(selectors.INBOX_THROUGHPUT_WINDOW.total_seconds() // 3600)
    return Panel(
        key="event-health",
        title="Event health",
        figures=[
            Figure(
                key="outbox-unsent",
                label="Events not sent yet",
                value=health.outbox_unsent,
                url=changelist_url(OutboxMessage, sent_at__isempty=1),
            ),
            Figure(
                key="oldest-unsent-age",
                label="Oldest unsent waited",
                value=(
                    seconds_as_age(health.oldest_unsent_age_seconds)
                    if health.oldest_unsent_age_seconds is not None
                    else "none waiting"
                ),
            ),
            Figure(
                key="inbox-handled",
                label=f"Events handled in the last {hours} h",
                value=health.inbox_handled_last_hour,
                url=changelist_url(InboxMessage),
            ),
            Figure(
                key="dead-letters-waiting",
                label="Dead letters waiting",
                value=health.dead_letters_waiting,
                url=waiting,
                alarming=True,
            ),
        ],
        tables=[
            Table(
                key="dead-letters",
                title="Dead letters waiting for a replay",
                columns=["Event", "Reason", "Failed"],
                rows=[
                    Row(
                        cells=[
                            dead_letter.event_type or "(not an event)",
                            dead_letter.get_reason_display(),
                            when(dead_letter.failed_at),
                        ],
                        url=change_url(dead_letter),
                        pk=dead_letter.pk,
                    )
                    for dead_letter in selectors.dead_letters_waiting()[:DEAD_LETTERS_SHOWN]
                ],
                empty="None: every message was handled.",
                more_url=waiting,
                more_label="All waiting, to replay",
                action=RowAction(changelist_url(DeadLetter), "replay", "Replay") if may_replay else None,
            )
        ],
    )
