"""What the idempotency layer refuses, with the status the IETF idempotency-key draft gives each."""

from typing import Any

from edge.exceptions import DomainError

KEY_HEADER = "Idempotency-Key"
KEY_MISSING = "This header is required: a unique key per request (a UUID is fine)."
KEY_MALFORMED = "Use 8 to 255 characters: letters, digits, '-', '_', ':' or '.'."
KEY_REUSED = "This Idempotency-Key was used with another request body."
KEY_IN_PROGRESS = "A request with this Idempotency-Key is still being processed; retry shortly."


class InvalidIdempotencyKey(DomainError):
    """The header is missing or malformed: 400, named as a field error of the header."""

    status_code = 400
    code = "invalid_idempotency_key"
    field = KEY_HEADER

    def payload(self) -> dict[str, Any]:
        # Shaped as DRF shapes a field's errors, with the header as the field.
        return {KEY_HEADER: [self.detail], "code": self.code}


class IdempotencyKeyReused(DomainError):
    status_code = 422
    code = "idempotency_key_reused"
    message = KEY_REUSED


class RequestInProgress(DomainError):
    status_code = 409
    code = "request_in_progress"
    message = KEY_IN_PROGRESS
