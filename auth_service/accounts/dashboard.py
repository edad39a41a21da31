"""The auth admin's dashboard: sign-ups, accounts that cannot log in yet or any more, and the staff.

Nothing locks an account after failed logins (the delays live in Redis, accounts.throttling):
the accounts shown are those waiting for their email confirmation and those deactivated.
"""

from django.http import HttpRequest

from accounts import selectors
from accounts.models import User
from edge.charts import Series, bar_chart
from edge.dashboard import (
    Figure,
    Panel,
    Row,
    Table,
    change_url,
    changelist_url,
    day_labels,
    last_days,
    panel,
    per_day,
    since,
)

STAFF_SHOWN = 20


@panel(permission="accounts.view_user")
def sign_ups(request: HttpRequest) -> Panel:
    days = last_days()
    counts = per_day(
        days, ((row["day"], row["sign_ups"]) for row in selectors.sign_ups_per_day(since=since(days)))
    )
    return Panel(
        key="sign-ups",
        title=f"Accounts, last {len(days)} days",
        wide=True,
        figures=[
            Figure(key="sign-ups", label="Signed up", value=sum(counts)),
            Figure(
                key="waiting-for-confirmation",
                label="Waiting for their email confirmation",
                value=selectors.accounts_waiting_for_confirmation().count(),
                url=changelist_url(User, is_active__exact=1, email_confirmed_at__isempty=1),
            ),
            Figure(
                key="inactive",
                label="Inactive (cannot log in)",
                value=selectors.accounts_inactive().count(),
                url=changelist_url(User, is_active__exact=0),
            ),
        ],
        charts=[
            bar_chart(
                key="sign-ups-per-day",
                title="Sign-ups per day",
                labels=day_labels(days),
                series=[Series("sign-ups", counts)],
            )
        ],
    )


@panel(permission="accounts.view_user")
def staff(request: HttpRequest) -> Panel:
    members = list(selectors.staff_with_access()[:STAFF_SHOWN])
    return Panel(
        key="staff",
        title="Staff and what they may do",
        tables=[
            Table(
                key="staff",
                title="Active staff",
                columns=["Email", "Name", "May do"],
                rows=[
                    Row(
                        cells=[member.email, member.full_name, access_of(member)],
                        url=change_url(member),
                        pk=member.pk,
                    )
                    for member in members
                ],
                empty="No active staff.",
                more_url=changelist_url(User, is_staff__exact=1, is_active__exact=1),
                more_label="All staff",
            )
        ],
    )


def access_of(member: User) -> str:
    """What a staff member may do, in words: everything, or their roles (every admin site), and
    auth's groups and their own permissions (this one)."""
    if member.is_superuser:
        return "Everything (superuser)"
    granted = [role.name for role in member.roles.all()]
    granted += [group.name for group in member.groups.all()]
    if member.own_permissions:
        granted.append(f"{member.own_permissions} permission(s) of their own")
    return ", ".join(granted) or "Nothing yet"
