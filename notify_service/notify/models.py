"""A notification: one message to one person, and what became of it."""

from email.utils import parseaddr

from django.conf import settings
from django.db import models

SECRET_PLACEHOLDER = "[[{name}]]"


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

    user_id = models.BigIntegerField(db_index=True)
    email = models.EmailField()
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.EMAIL)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    subject = models.CharField(max_length=200)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    error = models.TextField(blank=True)
    # Secrets the email carries (a reset link), sealed (edge.sealing) until it has gone: the
    # bodies hold a placeholder for each, [[name]], so the admin and a dump never show one.
    sealed_values = models.JSONField(default=dict, blank=True)
    # The event that caused it: at most one notification of a kind per event.
    event_id = models.UUIDField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["event_id", "kind", "channel"], name="one_notification_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.email} ({self.status})"

    @property
    def message_id(self) -> str:
        """The email's Message-ID, the same on every attempt: the copy sent again after a worker
        died before the server's answer is one message to the recipient's mail client.

        Made of what identifies the notification (its event and kind, unique together), which
        unlike the row's id stays unique across databases, in the sender's domain.
        """
        domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2]
        return f"<notification.{self.event_id}.{self.kind}@{domain}>"
