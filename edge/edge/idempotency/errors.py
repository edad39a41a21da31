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

    def payload(self) -> dict[str, Any]:
        return {KEY_HEADER: [str(self)]}


class IdempotencyKeyReused(DomainError):
    status_code = 422

    def __init__(self) -> None:
        super().__init__(KEY_REUSED)


class RequestInProgress(DomainError):
    status_code = 409

    def __init__(self) -> None:
        super().__init__(KEY_IN_PROGRESS)
