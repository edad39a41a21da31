"""Handlers of the events notify consumes."""

from edge.events import UserRegistered
from edge.messaging.handlers import handles
from notify.models import Notification
from notify.services import notification_create


@handles(UserRegistered)
def welcome_new_user(event: UserRegistered) -> None:
    notification_create(
        user_id=event.user_id,
        email=event.email,
        kind=Notification.Kind.WELCOME,
        context={"full_name": event.full_name, "email": event.email},
        event_id=event.event_id,
    )
