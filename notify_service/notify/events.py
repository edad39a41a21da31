"""Handlers of the events notify consumes."""

from edge.alerts import staff_alert_raise
from edge.events import (
    EmailAlreadyRegistered,
    EmailConfirmationRequested,
    Event,
    OrderCancelled,
    OrderConfirmed,
    OrderDelivered,
    OrderEvent,
    OrderRejected,
    OrderShipped,
    PasswordResetRequested,
    StaffAlertKind,
    StaffAlertRaised,
    StaffAlertsSubscriptionChanged,
    UserRegistered,
)
from edge.messaging.handlers import handles
from edge.service_table import service_named
from notify.models import Notification
from notify.services import (
    notification_create,
    notifications_send_unsent,
    staff_alert_record,
    staff_alert_subscription_set,
)


def send_what_an_earlier_delivery_left_unsent(event: Event) -> None:
    """Finish the emails of an event that comes back after it was handled.

    A delivery commits its notifications before sending them: a worker killed in between
    leaves them pending, and its message, never acknowledged, comes back after the
    visibility timeout. The inbox gives no handler an event it has seen; this runs instead.
    """
    notifications_send_unsent(event_id=event.event_id)


@handles(UserRegistered, on_repeat=send_what_an_earlier_delivery_left_unsent)
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


@handles(
    OrderConfirmed,
    OrderShipped,
    OrderDelivered,
    OrderCancelled,
    on_repeat=send_what_an_earlier_delivery_left_unsent,
)
def tell_customer_about_order(event: OrderEvent) -> None:
    notification_create(
        user_id=event.customer_id,
        email=event.customer_email,
        kind=ORDER_KINDS[type(event)],
        context={**event.to_message(), "reason": getattr(event, "reason", "")},
        event_id=event.event_id,
    )


@handles(OrderRejected, on_repeat=send_what_an_earlier_delivery_left_unsent)
def tell_customer_and_staff_about_rejected_order(event: OrderRejected) -> None:
    tell_customer_about_order(event)
    orders = service_named("orders")
    staff_alert_raise(
        kind=StaffAlertKind.ORDER_REJECTED,
        subject=f"Order {event.order_id} rejected",
        detail=f"{event.reason} ({event.total} {event.currency}, customer {event.customer_email})",
        object_type="order",
        object_id=event.order_id,
        # Another service's admin page: its path is the service table's (edge.urls).
        link=f"/admin/{orders.name}/{orders.app}/order/{event.order_id}/change/",
        # The order's event: a delivery that comes back sends what this one left unsent.
        event_id=event.event_id,
    )


@handles(StaffAlertRaised, on_repeat=send_what_an_earlier_delivery_left_unsent)
def log_and_email_staff_alert(event: StaffAlertRaised) -> None:
    staff_alert_record(alert=event)


@handles(StaffAlertsSubscriptionChanged)
def keep_staff_alert_subscription(event: StaffAlertsSubscriptionChanged) -> None:
    staff_alert_subscription_set(
        user_id=event.user_id, email=event.email, subscribed=event.subscribed, changed_at=event.occurred_at
    )


@handles(PasswordResetRequested, on_repeat=send_what_an_earlier_delivery_left_unsent)
def send_password_reset_link(event: PasswordResetRequested) -> None:
    _email_link(event, Notification.Kind.PASSWORD_RESET)


# The two emails of a registration go to an address whose owner may never have heard of the
# registrant: they hold the address and the link, and nothing else the registrant typed.
@handles(EmailConfirmationRequested, on_repeat=send_what_an_earlier_delivery_left_unsent)
def send_email_confirmation_link(event: EmailConfirmationRequested) -> None:
    _email_link(event, Notification.Kind.EMAIL_CONFIRMATION)


@handles(EmailAlreadyRegistered, on_repeat=send_what_an_earlier_delivery_left_unsent)
def tell_owner_of_registration_attempt(event: EmailAlreadyRegistered) -> None:
    _email_link(event, Notification.Kind.ALREADY_REGISTERED)


def _email_link(
    event: PasswordResetRequested | EmailConfirmationRequested | EmailAlreadyRegistered, kind: str
) -> None:
    """An email whose link opens the account: the link stays sealed beside the email's text
    (``secrets``) until it is sent."""
    notification_create(
        user_id=event.user_id,
        email=event.email,
        kind=kind,
        context={"email": event.email},
        secrets={name: getattr(event, name) for name in event.sealed_fields},
        event_id=event.event_id,
    )
