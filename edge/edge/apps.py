"""App configs that edge contributes to every service."""

from django.contrib.admin.apps import AdminConfig


class EdgeAdminConfig(AdminConfig):
    default_site = "edge.admin_site.EdgeAdminSite"

    def ready(self) -> None:
        super().ready()
        # Registers edge's authentication with drf-spectacular, for the OpenAPI schema.
        import edge.schema  # noqa: F401
