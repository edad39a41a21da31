"""Staff alerts: what any service raises for staff to act on (a product out of stock, a dead
letter), carried by the ``staff.alert_raised`` event to notify, which logs and emails them.

Notify raises alerts of its own too (an email that failed for good, a rejected order, its own
dead letters): its handler of the event runs in place, in the caller's transaction, where another
service's alert goes through the outbox. A service that is neither producer nor subscriber of
the contract may not raise one: its event would be refused as not a producer's.
"""

import logging
import uuid

from django.db import transaction
from django.urls import NoReverseMatch, reverse

from edge.conf import edge_settings
from edge.events import StaffAlertKind, StaffAlertRaised
from edge.messaging.handlers import registration_for
from edge.messaging.models import DeadLetter
from edge.messaging.services import publish

logger = logging.getLogger(__name__)

NOT_AN_ALERT_PRODUCER = "{service!r} is neither a producer nor the subscriber of staff.alert_raised."


@transaction.atomic(savepoint=False)
def staff_alert_raise(
    *,
    kind: StaffAlertKind,
    subject: str,
    detail: str = "",
    object_type: str = "",
    object_id: object = "",
    link: str = "",
    event_id: uuid.UUID | None = None,
) -> StaffAlertRaised:
    """Raise an alert for staff, in the transaction of the change it is about: it is logged and
    emailed once that commits, and never for a change that rolled back.

    ``event_id``: the event that caused it, when notify raises it while handling one."""
    service = edge_settings.SERVICE_NAME
    alert = StaffAlertRaised(
        event_id=event_id or uuid.uuid4(),
        kind=StaffAlertKind(kind),
        service=service,
        # The contract's bound: a long product name must not cost the alert.
        subject=subject[:200],
        detail=detail,
        object_type=object_type,
        object_id=str(object_id),
        link=link,
    )
    if service in StaffAlertRaised.subscribers:
        registration_for(StaffAlertRaised.type).handler(alert)
    elif service in StaffAlertRaised.producers:
        publish(alert)
    else:
        raise RuntimeError(NOT_AN_ALERT_PRODUCER.format(service=service))
    return alert


def admin_link(view_name: str, *args: object) -> str:
    """The gateway path of an admin page of this service (each admin sits under its service's
    path), or "" when it has none."""
    try:
        return reverse(view_name, args=args)
    except NoReverseMatch:
        return ""


def dead_letter_alert_raise(*, dead_letter: DeadLetter) -> StaffAlertRaised | None:
    """Tell staff a message was dead-lettered; None when no alert was raised.

    Not for a dead ``staff.alert_raised`` itself: its alert would be one more such message, which
    could die the same way, and so on for ever; its own error line and its row in the dead
    letters admin are what staff see of it. Nor does a failure to raise the alert lose the dead
    letter: the alert alone rolls back, and says so in the log.
    """
    if dead_letter.event_type == StaffAlertRaised.type:
        return None
    try:
        with transaction.atomic():
            return staff_alert_raise(
                kind=StaffAlertKind.DEAD_LETTER,
                subject=(
                    f"Dead letter in {edge_settings.SERVICE_NAME}: "
                    f"{dead_letter.event_type or 'a message'} ({dead_letter.get_reason_display()})"
                ),
                detail=dead_letter.error,
                object_type="deadletter",
                object_id=dead_letter.pk,
                link=admin_link("admin:messaging_deadletter_change", dead_letter.pk),
            )
    except Exception:
        logger.exception("staff alert of a dead letter failed", extra={"dead_letter_id": dead_letter.pk})
        return None
