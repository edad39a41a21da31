"""The first response to a request with an idempotency key, kept to answer its retries."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class IdempotencyKey(models.Model):
    """A key a user sent to an endpoint, with the response it got; stored with that response's effects."""

    user_id = models.BigIntegerField()
    # The method and path: the same key sent to another endpoint is another request.
    endpoint = models.TextField()
    key = models.CharField(max_length=255)
    # SHA-256 of the parsed request body: a retry must send the same body.
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField(encoder=DjangoJSONEncoder)
    # When the first request began; the key expires IDEMPOTENCY_KEY_TTL_SECONDS after it.
    created_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user_id", "endpoint", "key"], name="one_key_per_user_and_endpoint"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.endpoint} {self.key}"
