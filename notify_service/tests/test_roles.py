"""What the staff roles of a token give in the notify admin (notify.roles)."""

import pytest

from notify.models import Notification
from tests.factories import NotificationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/notify/notify/notification/"
RESEND = "Resend selected notifications that were not sent"


def test_support_may_resend_an_email_and_fulfilment_only_sees_them(staff_admin_client):
    NotificationFactory(status=Notification.Status.FAILED)
    support = staff_admin_client("support").get(CHANGELIST)
    fulfilment = staff_admin_client("fulfilment").get(CHANGELIST)

    assert (support.status_code, fulfilment.status_code) == (200, 200)
    assert RESEND in support.text
    assert RESEND not in fulfilment.text


def test_a_catalog_editor_sees_no_notify_admin(staff_admin_client):
    editor = staff_admin_client("catalog_editor")

    assert editor.get("/admin/notify/").status_code == 403
    assert editor.get(CHANGELIST).status_code == 403
