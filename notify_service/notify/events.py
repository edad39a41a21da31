"""Handlers of the events notify consumes."""

from typing import Any

from celery import Task, signals

from edge.events import (
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderEvent,
    OrderRejected,
    OrderShipped,
    PasswordResetRequested,
    UserRegistered,
)
from edge.messaging.handlers import handles
from edge.messaging.services import HANDLE_EVENT_TASK
from notify.models import Notification
from notify.services import notification_create, notifications_send_unsent


@handles(UserRegistered)
def welcome_new_user(event: UserRegistered) -> None:
    notification_create(
        user_id=event.user_id,
        email=event.email,
        kind=Notification.Kind.WELCOME,
        context={"full_name": event.full_name, "email": event.email},
        event_id=event.event_id,
    )


ORDER_KINDS = {
    OrderConfirmed: Notification.Kind.ORDER_CONFIRMED,
    OrderRejected: Notification.Kind.ORDER_REJECTED,
    OrderShipped: Notification.Kind.ORDER_SHIPPED,
    OrderDelivered: Notification.Kind.ORDER_DELIVERED,
    OrderCancelled: Notification.Kind.ORDER_CANCELLED,
}


@handles(*ORDER_KINDS)
def tell_customer_about_order(event: OrderEvent) -> None:
    notification_create(
        user_id=event.customer_id,
        email=event.customer_email,
        kind=ORDER_KINDS[type(event)],
        context={**event.to_message(), "reason": getattr(event, "reason", "")},
        event_id=event.event_id,
    )


@handles(PasswordResetRequested)
def send_password_reset_link(event: PasswordResetRequested) -> None:
    notification_create(
        user_id=event.user_id,
        email=event.email,
        kind=Notification.Kind.PASSWORD_RESET,
        context={"email": event.email, "reset_url": event.reset_url},
        event_id=event.event_id,
    )


@signals.task_postrun.connect
def send_what_an_earlier_delivery_left_unsent(
    *, task: Task, args: tuple, retval: object, **kwargs: Any
) -> None:
    """Finish the emails of an event that comes back after it was handled.

    The inbox gives no handler an event it has seen (``event_handle`` answers False). But the
    delivery that handled it commits its notifications before sending them: a worker killed
    in between leaves them pending, and its message, never acknowledged, comes back after the
    visibility timeout. This runs before that message is acknowledged, so a worker killed here
    leaves it for the next delivery too.
    """
    if task.name == HANDLE_EVENT_TASK and retval is False:
        notifications_send_unsent(event_id=args[0]["event_id"])
