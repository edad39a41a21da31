"""Staff opt in to staff alerts by email, in their account or in the users admin; notify hears
whenever that, their address or their standing changes where the alerts go."""

import pytest

from accounts.services import user_access_set, user_change, user_delete, user_profile_update
from edge.events import StaffAlertsSubscriptionChanged
from edge.grants import SHELL
from edge.messaging.models import OutboxMessage
from tests.factories import PASSWORD, UserFactory

ME = "/api/auth/me/"

pytestmark = pytest.mark.django_db


def announced() -> list[tuple[str, bool]]:
    rows = OutboxMessage.objects.filter(event_type=StaffAlertsSubscriptionChanged.type).order_by("created_at")
    return [(row.payload["email"], row.payload["subscribed"]) for row in rows]


@pytest.fixture
def subscribed_staff():
    return UserFactory(email="keeper@example.com", is_staff=True, email_staff_alerts=True)


def test_staff_opt_in_through_their_account_and_notify_hears(api_client, staff, access_token_for):
    response = api_client.patch(
        ME,
        {"email_staff_alerts": True},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access_token_for(staff)}",
    )

    assert response.status_code == 200
    assert response.json()["email_staff_alerts"] is True
    staff.refresh_from_db()
    assert staff.email_staff_alerts
    [payload] = OutboxMessage.objects.filter(event_type=StaffAlertsSubscriptionChanged.type).values_list(
        "payload", flat=True
    )
    assert (payload["user_id"], payload["email"], payload["subscribed"]) == (staff.pk, staff.email, True)


def test_staff_opt_out_and_notify_hears(subscribed_staff):
    user_profile_update(user=subscribed_staff, email_staff_alerts=False)

    assert announced() == [("keeper@example.com", False)]


def test_a_customer_who_opts_in_gets_no_alerts_until_made_staff(customer):
    user_profile_update(user=customer, email_staff_alerts=True)
    assert announced() == []

    user_access_set(user=customer, actor=SHELL, is_staff=True)
    assert announced() == [(customer.email, True)]


def test_a_subscriber_who_stops_being_staff_or_active_is_unsubscribed(subscribed_staff):
    user_access_set(user=subscribed_staff, actor=SHELL, is_active=False)

    assert announced() == [("keeper@example.com", False)]


def test_a_subscribers_new_address_is_announced(subscribed_staff):
    user_change(actor=SHELL, user=subscribed_staff, email="stock@example.com")

    assert announced() == [("stock@example.com", True)]


def test_a_deleted_subscriber_is_unsubscribed(subscribed_staff):
    user_delete(user=subscribed_staff, actor=SHELL)

    assert announced() == [("keeper@example.com", False)]


def test_changes_that_leave_the_alerts_where_they_were_announce_nothing(subscribed_staff, staff):
    user_profile_update(user=subscribed_staff, full_name="Kim Keeper")
    user_change(actor=SHELL, user=staff, email="not.subscribed@example.com")

    assert announced() == []


def test_an_opt_in_that_is_not_a_boolean_is_400(api_client, staff, access_token_for):
    response = api_client.patch(
        ME,
        {"email_staff_alerts": "yes"},
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {access_token_for(staff)}",
    )

    assert response.status_code == 400
    assert "email_staff_alerts" in response.json()
    assert announced() == []


def test_a_superuser_subscribes_a_colleague_in_the_users_admin(client, staff, committing):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.post("/login/", {"username": superuser.email, "password": PASSWORD})

    response = client.post(
        f"/admin/auth/accounts/user/{staff.pk}/change/",
        {
            "email": staff.email,
            "full_name": staff.full_name,
            "email_staff_alerts": "on",
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "00:00:00",
        },
    )

    assert response.status_code == 302, response.content
    staff.refresh_from_db()
    assert staff.email_staff_alerts
    assert announced() == [(staff.email, True)]
