"""The auth admin's dashboard: sign-ups per day, accounts that cannot log in, and the staff."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from edge.dashboard import day_labels, last_days
from edge.testing import chart_values, dashboard_figures, dashboard_panel
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

INDEX = "/admin/auth/"


@pytest.fixture
def admin_client(client, superuser):
    client.post("/login/", {"username": superuser.email, "password": PASSWORD})
    return client


def test_the_dashboard_counts_sign_ups_per_day_and_the_accounts_that_cannot_log_in(admin_client, superuser):
    now = timezone.now()
    UserFactory(date_joined=now, email_confirmed_at=now)
    UserFactory(date_joined=now)
    UserFactory(date_joined=now - timedelta(days=3), is_active=False)
    UserFactory(date_joined=now - timedelta(days=60), email_confirmed_at=now)

    accounts = dashboard_panel(admin_client.get(INDEX), "sign-ups")

    # Today's sign-ups include the superuser the test logs in as (made unconfirmed by the factory).
    assert dashboard_figures(accounts) == {"sign-ups": 4, "waiting-for-confirmation": 2, "inactive": 1}
    *_, three_days_ago, _, _, today = day_labels(last_days())
    sign_ups = chart_values(accounts.charts[0], "sign-ups")
    assert (sign_ups[today], sign_ups[three_days_ago]) == ("3", "1")
    assert sum(int(value) for value in sign_ups.values()) == 4
    waiting = next(figure for figure in accounts.figures if figure.key == "waiting-for-confirmation")
    listed = admin_client.get(waiting.url).context["cl"].result_list
    assert len(listed) == 2


def test_the_dashboard_lists_active_staff_with_what_they_may_do(admin_client, superuser):
    packers = Group.objects.create(name="Packers")
    packer = UserFactory(is_staff=True, email="packer@example.com")
    packer.groups.add(packers)
    UserFactory(is_staff=True, is_active=False, email="gone@example.com")
    UserFactory(email="customer@example.com")

    (table,) = dashboard_panel(admin_client.get(INDEX), "staff").tables

    assert [(row.cells[0], row.cells[2]) for row in table.rows] == [
        (superuser.email, "Everything (superuser)"),
        ("packer@example.com", "Packers"),
    ]
    assert table.rows[1].url == f"/admin/auth/accounts/user/{packer.pk}/change/"
