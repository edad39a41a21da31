"""Domain errors, and the one DRF exception handler that answers them as JSON."""

from typing import Any

from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """A business rule refused the request; subclasses say with which status and body."""

    status_code = 400

    def payload(self) -> dict[str, Any]:
        return {"detail": str(self)}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(exc.payload(), status=exc.status_code)
    return drf_exception_handler(exc, context)
