"""Domain errors, and the one DRF exception handler that answers them as JSON.

A service function refuses a write by raising a ``DomainError`` subclass from its app's
``errors.py``. Everything that calls it shows the same refusal its own way: the API through
``exception_handler`` below (``{"code": ..., "detail": ...}`` with the error's status), the
admin through ``edge.admin`` (an error on the form, or a message for an action), a command
as its error output.
"""

from typing import Any

from django.core.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """A business rule refused the request.

    Subclasses set ``status_code``, ``code`` (stable, for clients to branch on) and
    ``message`` (a constant the tests can name; ``str.format`` fields are filled from the
    keyword arguments). ``field`` names the input at fault, when one is.
    """

    status_code: int = 400
    code: str = "invalid"
    message: str = "The request breaks a business rule."
    field: str | None = None

    def __init__(self, message: str | None = None, *, field: str | None = None, **params: Any) -> None:
        text = message or self.message
        self.detail = text.format(**params) if params else text
        if field is not None:
            self.field = field
        self.params = params
        super().__init__(self.detail)

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "detail": self.detail}
        if self.field:
            body["field"] = self.field
        return body

    def response_headers(self) -> dict[str, str]:
        """Headers the answer carries besides the body (``Retry-After``, say)."""
        return {}

    def as_validation_error(self) -> ValidationError:
        """The same refusal for Django's validation (a form, an import row), on its field if any."""
        error = ValidationError(self.detail, code=self.code)
        return ValidationError({self.field: error}) if self.field else error


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.payload(), status=exc.status_code, headers=exc.response_headers())
    return drf_exception_handler(exc, context)
