"""The URLs every service has, under its own prefix: admin, API, schema, docs, health."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from edge.health import HealthView


def service_urlpatterns(service: str, api_urlconf: str) -> list[URLPattern | URLResolver]:
    return [
        path(f"admin/{service}/", admin.site.urls),
        path(f"api/{service}/schema/", SpectacularAPIView.as_view(), name="schema"),
        # Swagger UI with its set-up script served apart, not inline: the pages' CSP allows none.
        path(
            f"api/{service}/docs/",
            SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="edge/swagger_ui.html"),
            name="docs",
        ),
        path(f"api/{service}/health/", HealthView.as_view(), name="health"),
        path(f"api/{service}/", include(api_urlconf)),
    ]
