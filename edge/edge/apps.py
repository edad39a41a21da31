"""App configs that edge contributes to every service."""

from django.contrib.admin.apps import AdminConfig


class EdgeAdminConfig(AdminConfig):
    default_site = "edge.admin_site.EdgeAdminSite"

    def ready(self) -> None:
        super().ready()
        # After autodiscovery, which registered Django's own users and groups pages.
        from edge import staff_admin

        staff_admin.register(self.module.site)
        # Importing them registers the checks of the invariants every service's settings keep
        # (edge.E001...), and edge's authentication with drf-spectacular, for the OpenAPI schema.
        import edge.checks
        import edge.schema  # noqa: F401
