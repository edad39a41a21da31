import uuid

import factory
from django.utils import timezone

from notify.models import Notification, StaffAlertSubscriber


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user_id = factory.Sequence(lambda n: n + 1)
    email = factory.LazyAttribute(lambda notification: f"user{notification.user_id}@example.com")
    kind = Notification.Kind.WELCOME
    subject = "Welcome to Commerce"
    body_text = "Hello"
    event_id = factory.LazyFunction(uuid.uuid4)


class StaffAlertSubscriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffAlertSubscriber

    user_id = factory.Sequence(lambda n: n + 100)
    email = factory.LazyAttribute(lambda subscriber: f"staff{subscriber.user_id}@example.com")
    subscribed = True
    changed_at = factory.LazyFunction(timezone.now)
