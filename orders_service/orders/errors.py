"""The order changes orders refuses, each with its status, code and message.

The service functions raise them; the API answers them through edge's exception handler,
and the orders admin's actions report them per order.
"""

from typing import Any

from edge.exceptions import DomainError


class InvalidTransition(DomainError):
    """The order's life cycle has no step from its status to the one asked for."""

    status_code = 409
    code = "invalid_transition"
    message = "An order that is {current} cannot become {requested}."

    def __init__(self, current: str, requested: str) -> None:
        super().__init__(current=current, requested=requested)
        self.current = current

    def payload(self) -> dict[str, Any]:
        # The status as it is now, so a client can show it without reading the order again.
        return {**super().payload(), "status": self.current}


class EmailNotConfirmed(DomainError):
    """Orders email the customer: only an account whose owner confirmed the address places one."""

    status_code = 403
    code = "email_not_confirmed"
    message = (
        "Confirm your email address before you place an order: follow the link in the email we sent "
        "when you registered. Confirmed already? Log in again or refresh your token."
    )
