"""A notification: one message to one person, or a staff alert on the log, and what became of it;
and the staff who get staff alerts by email."""

from email.utils import parseaddr

from django.conf import settings
from django.db import models

from edge.events import StaffAlertKind

SECRET_PLACEHOLDER = "[[{name}]]"
ALERT_KIND_PREFIX = "alert_"


class Notification(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        LOG = "log", "Log"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    class Kind(models.TextChoices):
        WELCOME = "welcome", "Welcome"
        EMAIL_CONFIRMATION = "email_confirmation", "Email confirmation"
        ALREADY_REGISTERED = "already_registered", "Already registered"
        PASSWORD_RESET = "password_reset", "Password reset"
        ORDER_CONFIRMED = "order_confirmed", "Order confirmed"
        ORDER_REJECTED = "order_rejected", "Order rejected"
        ORDER_SHIPPED = "order_shipped", "Order shipped"
        ORDER_DELIVERED = "order_delivered", "Order delivered"
        ORDER_CANCELLED = "order_cancelled", "Order cancelled"
        # Staff alerts (edge.alerts): a row on the log channel, and an email to each subscriber.
        ALERT_LOW_STOCK = "alert_low_stock", "Alert: low stock"
        ALERT_OUT_OF_STOCK = "alert_out_of_stock", "Alert: out of stock"
        ALERT_ORDER_REJECTED = "alert_order_rejected", "Alert: order rejected"
        ALERT_EMAIL_FAILED = "alert_email_failed", "Alert: email failed"
        ALERT_DEAD_LETTER = "alert_dead_letter", "Alert: dead letter"

        @classmethod
        def of_alert(cls, kind: str) -> "Notification.Kind":
            return cls(f"{ALERT_KIND_PREFIX}{StaffAlertKind(kind)}")

    # Empty on the log channel: a staff alert is for no one user.
    user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    email = models.EmailField(blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # A staff alert's admin page, where staff act on it: a path on the gateway.
    link = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    # Secrets the email carries (a reset link), sealed (edge.sealing) until it has gone: the
    # bodies hold a placeholder for each, [[name]], so the admin and a dump never show one.
    sealed_values = models.JSONField(default=dict, blank=True)
    # The event that caused it: at most one notification of a kind per event and address.
    event_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Per address: a staff alert emails every subscriber from one event.
            models.UniqueConstraint(
                fields=["event_id", "kind", "channel", "email"], name="one_notification_per_event"
            ),
        ]

    def __str__(self) -> str:
        if self.channel == self.Channel.LOG:
            return f"{self.get_kind_display()}: {self.subject}"
        return f"{self.get_kind_display()} to {self.email} ({self.status})"

    @property
    def is_staff_alert(self) -> bool:
        return self.kind.startswith(ALERT_KIND_PREFIX)

    @property
    def message_id(self) -> str:
        """The email's Message-ID, the same on every attempt: the copy sent again after a worker
        died before the server's answer is one message to the recipient's mail client.

        Made of what identifies the notification (its event and kind, unique together), which
        unlike the row's id stays unique across databases, in the sender's domain.
        """
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
        return f"<notification.{self.event_id}.{self.kind}@{domain}>"


class StaffAlert(Notification):
    """The staff alerts: the notifications on the log channel, listed on their own admin page."""

    class Meta:
        proxy = True
        verbose_name = "staff alert"


class StaffAlertSubscriber(models.Model):
    """A user whose staff alerts auth says go to their email (``user.staff_alerts_changed``):
    staff who opted in, while active and staff. Kept when they stop, so that an older event
    arriving late cannot subscribe them again."""

    user_id = models.BigIntegerField(unique=True)
    email = models.EmailField()
    subscribed = models.BooleanField(default=False, db_index=True)
    # When auth made the change this row holds: an event older than that is stale.
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return f"{self.email} ({'subscribed' if self.subscribed else 'not subscribed'})"
