"""Staff alerts: each is a notification on the log channel and a JSON log line, and an email to
every staff member who subscribed; and the list of subscribers, kept from auth's events."""

import json
import logging
import uuid
from datetime import timedelta

import pytest
from celery import current_app
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone
from pythonjsonlogger.json import JsonFormatter

from edge.events import OrderRejected, StaffAlertRaised, StaffAlertsSubscriptionChanged
from edge.logging import RequestIdFilter, logging_config
from edge.messaging.models import DeadLetter
from edge.messaging.services import event_handle
from edge.messaging.tasks import handle_event
from edge.testing import signed_by_producer
from notify.models import Notification, StaffAlertSubscriber
from notify.tasks import send_notification
from tests.factories import NotificationFactory, StaffAlertSubscriberFactory

pytestmark = pytest.mark.django_db

OUT_OF_STOCK = StaffAlertRaised(
    kind="out_of_stock",
    service="catalog",
    subject="Out of stock: Espresso cup (CUP-01)",
    detail="0 unit(s) available (4 on hand, 4 reserved); running low at 5 or fewer.",
    object_type="product",
    object_id="40",
    link="/admin/catalog/catalog/product/40/change/",
)


@pytest.fixture
def json_log(caplog):
    """The log lines as the service writes them: JSON, with the alert's fields."""
    config = logging_config(service="notify")["formatters"]["json"]
    caplog.handler.setFormatter(JsonFormatter(config["format"], rename_fields=config["rename_fields"]))
    caplog.handler.addFilter(RequestIdFilter(service="notify"))
    with caplog.at_level(logging.INFO, logger="notify.services"):
        yield lambda: [json.loads(line) for line in caplog.text.splitlines()]


def _handle(event, capture) -> None:
    with capture(execute=True):
        event_handle(message=event.to_message())


def _logged_alerts() -> list[Notification]:
    return list(Notification.objects.filter(channel=Notification.Channel.LOG))


def test_an_alert_is_a_log_notification_staff_see_in_the_admin(django_capture_on_commit_callbacks):
    _handle(OUT_OF_STOCK, django_capture_on_commit_callbacks)

    [alert] = _logged_alerts()
    assert alert.kind == Notification.Kind.ALERT_OUT_OF_STOCK
    assert alert.subject == "Out of stock: Espresso cup (CUP-01)"
    assert alert.body_text.startswith("0 unit(s) available")
    assert alert.link == "/admin/catalog/catalog/product/40/change/"
    assert (alert.status, alert.user_id, alert.email) == (Notification.Status.SENT, None, "")
    assert alert.event_id == OUT_OF_STOCK.event_id


def test_an_alert_is_a_json_log_line_with_its_fields(django_capture_on_commit_callbacks, json_log):
    _handle(OUT_OF_STOCK, django_capture_on_commit_callbacks)

    [line] = [line for line in json_log() if line["message"] == "staff alert"]
    assert line["level"] == "WARNING"
    assert line["kind"] == "out_of_stock"
    assert line["raised_by"] == "catalog"
    assert line["subject"] == "Out of stock: Espresso cup (CUP-01)"
    assert (line["object_type"], line["object_id"]) == ("product", "40")
    assert line["link"] == "/admin/catalog/catalog/product/40/change/"
    assert line["event_id"] == str(OUT_OF_STOCK.event_id)


def test_every_subscribed_staff_member_gets_the_alert_by_email(django_capture_on_commit_callbacks):
    StaffAlertSubscriberFactory(email="keeper@example.com")
    StaffAlertSubscriberFactory(email="boss@example.com")
    StaffAlertSubscriberFactory(email="former@example.com", subscribed=False)

    _handle(OUT_OF_STOCK, django_capture_on_commit_callbacks)

    assert sorted(email.to[0] for email in mail.outbox) == ["boss@example.com", "keeper@example.com"]
    email = mail.outbox[0]
    assert email.subject == "[Staff alert] Out of stock: Espresso cup (CUP-01)"
    assert "0 unit(s) available" in email.body
    assert "/admin/catalog/catalog/product/40/change/" in email.body
    emailed = Notification.objects.filter(channel=Notification.Channel.EMAIL)
    assert {(n.kind, n.status) for n in emailed} == {(Notification.Kind.ALERT_OUT_OF_STOCK, "sent")}


def test_an_alert_with_no_subscribers_is_logged_and_emails_nobody(django_capture_on_commit_callbacks):
    _handle(OUT_OF_STOCK, django_capture_on_commit_callbacks)

    assert len(_logged_alerts()) == 1
    assert mail.outbox == []


def test_an_alert_delivered_twice_is_logged_and_emailed_once(django_capture_on_commit_callbacks):
    StaffAlertSubscriberFactory()
    with django_capture_on_commit_callbacks(execute=True):
        event_handle(message=OUT_OF_STOCK.to_message())
        event_handle(message=OUT_OF_STOCK.to_message())

    assert len(_logged_alerts()) == 1
    assert len(mail.outbox) == 1


def test_a_rejected_order_tells_the_customer_and_alerts_staff(django_capture_on_commit_callbacks):
    StaffAlertSubscriberFactory(email="keeper@example.com")
    event = OrderRejected(
        order_id=10,
        customer_id=3,
        customer_email="ann@example.com",
        total="25.90",
        currency="EUR",
        reason="insufficient stock",
    )

    _handle(event, django_capture_on_commit_callbacks)

    [alert] = _logged_alerts()
    assert alert.kind == Notification.Kind.ALERT_ORDER_REJECTED
    assert alert.subject == "Order 10 rejected"
    assert "insufficient stock" in alert.body_text
    assert alert.link == "/admin/orders/orders/order/10/change/"
    assert sorted((email.to[0], email.subject) for email in mail.outbox) == [
        ("ann@example.com", "Your order #10 could not be accepted"),
        ("keeper@example.com", "[Staff alert] Order 10 rejected"),
    ]


@pytest.fixture
def refusing_mail_server(monkeypatch, settings):
    settings.NOTIFY_SEND_MAX_RETRIES = 1
    settings.NOTIFY_RETRY_BACKOFF_SECONDS = 0
    current_app.conf.task_eager_propagates = False

    def refuse(self, messages):
        raise ConnectionRefusedError("Connection refused")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)


def test_an_email_that_fails_after_its_last_retry_alerts_staff(refusing_mail_server):
    notification = NotificationFactory(email="ann@example.com")

    send_notification.delay(notification.pk)

    [alert] = _logged_alerts()
    assert alert.kind == Notification.Kind.ALERT_EMAIL_FAILED
    assert alert.subject == "Email failed: Welcome to ann@example.com"
    assert "Connection refused" in alert.body_text
    assert alert.link == f"/admin/notify/notify/notification/{notification.pk}/change/"


def test_an_email_still_being_retried_alerts_nobody(refusing_mail_server, settings):
    settings.NOTIFY_SEND_MAX_RETRIES = 3
    notification = NotificationFactory()
    current_app.conf.task_eager_propagates = True

    with pytest.raises(Exception):  # noqa: B017  the retry eager Celery raises to its caller
        send_notification.apply(args=[notification.pk], throw=True, retries=0)

    assert _logged_alerts() == []


def test_a_failed_alert_email_raises_no_alert_of_itself(refusing_mail_server):
    notification = NotificationFactory(kind=Notification.Kind.ALERT_DEAD_LETTER)

    send_notification.delay(notification.pk)

    notification.refresh_from_db()
    assert notification.status == Notification.Status.FAILED
    assert _logged_alerts() == []


def _subscription(user_id=4, email="keeper@example.com", subscribed=True, at=None):
    return StaffAlertsSubscriptionChanged(
        user_id=user_id, email=email, subscribed=subscribed, occurred_at=at or timezone.now()
    )


def test_staff_who_opt_in_are_subscribed_and_those_who_opt_out_are_not():
    event_handle(message=_subscription().to_message())
    assert list(StaffAlertSubscriber.objects.values_list("email", "subscribed")) == [
        ("keeper@example.com", True)
    ]

    event_handle(message=_subscription(subscribed=False).to_message())
    assert list(StaffAlertSubscriber.objects.values_list("email", "subscribed")) == [
        ("keeper@example.com", False)
    ]


def test_a_new_address_of_a_subscriber_is_where_alerts_go():
    event_handle(message=_subscription().to_message())
    event_handle(message=_subscription(email="new@example.com").to_message())

    assert list(StaffAlertSubscriber.objects.values_list("email", flat=True)) == ["new@example.com"]


def test_an_older_subscription_event_arriving_late_changes_nothing():
    now = timezone.now()
    event_handle(message=_subscription(subscribed=False, at=now).to_message())
    event_handle(message=_subscription(subscribed=True, at=now - timedelta(seconds=5)).to_message())

    assert StaffAlertSubscriber.objects.get().subscribed is False


def test_an_unknown_alert_kind_is_refused_as_invalid():
    message = {**OUT_OF_STOCK.to_message(), "kind": "sky_falling", "event_id": str(uuid.uuid4())}

    with pytest.raises(Exception, match="sky_falling"):
        event_handle(message=message)

    assert _logged_alerts() == []


@pytest.fixture
def delivered(_celery_eager):
    """``delivered(message, producer)``: the message as notify's worker takes it from its queue."""
    current_app.conf.task_eager_propagates = False
    return lambda message, producer: handle_event.delay(
        message, **signed_by_producer(message, producer)
    ).get()


def test_a_dead_letter_in_notify_is_logged_as_an_alert(delivered, django_capture_on_commit_callbacks):
    StaffAlertSubscriberFactory(email="keeper@example.com")
    message = {**OUT_OF_STOCK.to_message(), "type": "user.teleported"}

    with django_capture_on_commit_callbacks(execute=True):
        delivered(message, "auth")

    dead = DeadLetter.objects.get()
    [alert] = _logged_alerts()
    assert alert.kind == Notification.Kind.ALERT_DEAD_LETTER
    assert alert.subject == "Dead letter in notify: user.teleported (Unknown type)"
    assert alert.link == f"/admin/notify/messaging/deadletter/{dead.pk}/change/"
    assert [email.subject for email in mail.outbox] == [f"[Staff alert] {alert.subject}"]


def test_a_dead_alert_raises_no_alert_of_itself(delivered):
    message = {**OUT_OF_STOCK.to_message(), "kind": "sky_falling"}

    delivered(message, "catalog")

    assert DeadLetter.objects.get().reason == DeadLetter.Reason.INVALID_PAYLOAD
    assert _logged_alerts() == []
