import uuid

import factory

from notify.models import Notification


class NotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Notification

    user_id = factory.Sequence(lambda n: n + 1)
    email = factory.LazyAttribute(lambda notification: f"user{notification.user_id}@example.com")
    kind = Notification.Kind.WELCOME
    subject = "Welcome to Commerce"
    body_text = "Hello"
    event_id = factory.LazyFunction(uuid.uuid4)
