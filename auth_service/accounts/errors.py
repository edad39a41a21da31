"""The changes and logins the accounts app refuses, each with its status, code and message.

The service functions raise them; the API answers them through edge's exception handler
(``{"code": ..., "detail": ...}``), the users admin shows them on the form or as a message,
and the login page as a form error. Who may grant what (``SuperuserOnly``,
``PermissionNotHeld``) is every admin site's rule: ``edge.grants``.
"""

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


class AccountLocked(DomainError):
    status_code = 429
    code = "account_locked"
    message = "Too many failed logins for this account. Wait a few minutes and try again."
