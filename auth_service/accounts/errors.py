"""The changes and logins the accounts app refuses, each with its status, code and message.

The service functions raise them; the API answers them through edge's exception handler
(``{"code": ..., "detail": ...}``), the users admin shows them on the form or as a message,
and the login page as a form error. Who may grant what (``SuperuserOnly``,
``PermissionNotHeld``) is every admin site's rule: ``edge.grants``.
"""

from typing import Any

from edge.exceptions import DomainError


class StaffCredentialsSuperuserOnly(DomainError):
    status_code = 403
    code = "staff_credentials_superuser_only"
    message = (
        "Only a superuser may set another staff member's password or email: whoever holds them "
        "acts as that staff member."
    )


class CannotChangeYourself(DomainError):
    status_code = 403
    code = "cannot_change_yourself"
    message = "You cannot deactivate yourself or remove your own staff status."


class NotYourToken(DomainError):
    status_code = 403
    code = "not_your_token"
    message = "The refresh token belongs to another user."


class LoginDelayed(DomainError):
    """Too many failed password checks from this address (for this account, or for any): the
    next attempt waits ``seconds`` (``accounts.throttling``)."""

    status_code = 429
    code = "login_delayed"
    message = "Too many failed logins from your address: try again in {seconds} s."

    def __init__(self, *, seconds: int) -> None:
        self.retry_after = max(seconds, 1)
        super().__init__(seconds=self.retry_after)

    def payload(self) -> dict[str, Any]:
        return {**super().payload(), "retry_after": self.retry_after}

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
