"""What the staff roles of a token give in the notify admin (notify.roles)."""

import pytest
from django.test import Client

from notify.models import Notification
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notify/notify/notification/"
RESEND = "Resend selected notifications that were not sent"


@pytest.fixture
def with_roles(make_token):
    def client_for(*roles: str) -> Client:
        client = Client()
        client.cookies["access_token"] = make_token(12, is_staff=True, roles=list(roles))
        return client

    return client_for


def test_support_may_resend_an_email_and_fulfilment_only_sees_them(with_roles):
    NotificationFactory(status=Notification.Status.FAILED)
    support = with_roles("support").get(CHANGELIST)
    fulfilment = with_roles("fulfilment").get(CHANGELIST)

    assert (support.status_code, fulfilment.status_code) == (200, 200)
    assert RESEND in support.text
    assert RESEND not in fulfilment.text


def test_a_catalog_editor_sees_no_notify_admin(with_roles):
    editor = with_roles("catalog_editor")

    assert editor.get("/admin/notify/").status_code == 403
    assert editor.get(CHANGELIST).status_code == 403
