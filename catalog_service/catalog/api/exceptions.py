"""The one place where the catalogue's domain errors become API errors (400 with field errors)."""

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from catalog.errors import CatalogError


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, CatalogError):
        exc = ValidationError({exc.field: [exc.message]})
    return drf_exception_handler(exc, context)
