"""Events in, emails out."""

from django.core import mail

from edge.events import UserRegistered
from edge.messaging.services import event_handle
from notify.models import Notification


def test_a_new_user_gets_one_welcome_email(db, django_capture_on_commit_callbacks):
    event = UserRegistered(user_id=3, email="ann@example.com", full_name="Ann Smith")

    with django_capture_on_commit_callbacks(execute=True):
        event_handle(message=event.to_message())

    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == ["ann@example.com"]
    assert email.subject == "Welcome to Commerce"
    assert "Ann Smith" in email.body
    assert "<strong>ann@example.com</strong>" in email.alternatives[0].content
    notification = Notification.objects.get()
    assert (notification.status, notification.user_id, notification.event_id) == ("sent", 3, event.event_id)


def test_the_same_event_twice_sends_one_email(db, django_capture_on_commit_callbacks):
    message = UserRegistered(user_id=3, email="ann@example.com").to_message()

    with django_capture_on_commit_callbacks(execute=True):
        event_handle(message=message)
        event_handle(message=message)

    assert len(mail.outbox) == 1
    assert Notification.objects.count() == 1
