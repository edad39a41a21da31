"""Tells drf-spectacular how edge's authentication looks in the OpenAPI schema."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class GatewayJWTScheme(OpenApiAuthenticationExtension):
    target_class = "edge.authentication.GatewayJWTAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
