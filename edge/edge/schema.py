"""What every service's OpenAPI schema says alike: edge's authentication, who may call anonymously,
the refusals (4xx) an operation can answer, with their JSON body, and their headers.

Each service's schema is fuzzed against the live stack through the gateway (tests/test_fuzz.py):
an answer that the schema does not document fails there, so what is said here must hold.
"""

from typing import Any

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from rest_framework import serializers
from rest_framework.permissions import SAFE_METHODS

SECURITY_SCHEME = "bearerAuth"
RETRY_AFTER_HEADER = "Retry-After"
# The statuses whose answers tell the client when to try again.
RETRY_AFTER_STATUSES = {"429", "503"}

REFUSAL_DESCRIPTIONS = {
    "400": "The input is invalid: each field at fault with its errors, or a `detail`.",
    "401": "No valid access token (missing, malformed, expired or revoked).",
    "403": "The token's user may not do this.",
    "404": "No such object (or page) for this caller.",
    "409": "A business rule refused the change: its `code` and `detail`, and the `field` at fault.",
    "422": "The request cannot be processed as sent (see `code`).",
    "429": "Too many requests or failed logins: wait for Retry-After seconds.",
    "503": "Whether the token is still valid cannot be checked right now: wait for Retry-After seconds.",
}


class GatewayJWTScheme(OpenApiAuthenticationExtension):
    target_class = "edge.authentication.GatewayJWTAuthentication"
    name = SECURITY_SCHEME

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class ErrorSerializer(serializers.Serializer):
    """Every refusal: the services' (edge.exceptions) and the gateway's own."""

    detail = serializers.CharField(help_text="What is wrong, for a person to read.")
    code = serializers.CharField(required=False, help_text="Stable, for a client to branch on.")
    field = serializers.CharField(required=False, help_text="The input at fault, when one is.")


class ValidationErrorSerializer(serializers.Serializer):
    """Each input at fault with its errors (``{"price": ["..."]}``), or a ``detail`` alone when the
    body could not be read; the fields are the request's, so the schema leaves them open."""

    detail = serializers.CharField(required=False, help_text="Why the request could not be read.")


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's, documenting what edge adds to every view.

    - Security: an operation that anyone may call (a permission with ``reads_are_public``, for
      the safe methods) takes a token too, but needs none.
    - Refusals, from what the operation takes: 400 for a body or query parameters, 401 and 503
      (the token's state unknown) where a token is read, 403 where one is required, 404 for an
      object in the path or a page. A view documents its own others (409, 422, 429) with
      ``extend_schema(responses={...: ErrorSerializer})``.
    - ``Retry-After`` on every 429 and 503.
    """

    def get_auth(self) -> list[dict[str, Any]]:
        auths = super().get_auth()
        public = self.method in SAFE_METHODS and any(
            getattr(permission, "reads_are_public", False) for permission in self.view.get_permissions()
        )
        if public and {} not in auths:
            auths.append({})
        return auths

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for status in self._refusal_statuses():
            if status not in responses:
                serializer = ValidationErrorSerializer if status == "400" else ErrorSerializer
                responses[status] = self._get_response_for_code(serializer, status, direction=direction)
        for status, response in responses.items():
            if status in REFUSAL_DESCRIPTIONS and not response.get("description"):
                response["description"] = REFUSAL_DESCRIPTIONS[status]
        return dict(sorted(responses.items()))

    def _get_response_headers_for_code(self, status_code: str, direction: str = "response") -> dict[str, Any]:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) in RETRY_AFTER_STATUSES:
            # The gateway's 429 and every 503 send it; a locked account's 429 does not.
            headers[RETRY_AFTER_HEADER] = {
                "schema": build_basic_type(OpenApiTypes.INT),
                "description": "Seconds to wait before trying again, where the answer knows.",
            }
        return headers

    def _refusal_statuses(self) -> list[str]:
        statuses = []
        takes_body = self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None
        if takes_body or self._has_query_parameters():
            statuses.append("400")
        auths = self.get_auth()
        if any(SECURITY_SCHEME in auth for auth in auths):
            statuses += ["401", "503"]
            if {} not in auths:
                statuses.append("403")
        if "{" in self.path or self._get_pagination_parameters():
            statuses.append("404")
        return statuses

    def _has_query_parameters(self) -> bool:
        return bool(
            self._get_filter_parameters()
            or self._get_pagination_parameters()
            or [parameter for parameter in self.get_override_parameters() if _in_query(parameter)]
        )


def _in_query(parameter: object) -> bool:
    return getattr(parameter, "location", None) == "query"
