"""The URLs every service has, under its own prefix: admin, API, schema, docs, health; and
``/metrics``, outside every prefix the gateway routes."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.renderers import (
    OpenApiJsonRenderer,
    OpenApiJsonRenderer2,
    OpenApiYamlRenderer,
    OpenApiYamlRenderer2,
)
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from edge.health import HealthView
from edge.metrics import metrics


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, in JSON unless YAML is asked for (``?format=yaml`` or Accept): JSON
    first, so a refusal (a POST's 405) is JSON too, not YAML."""

    # OpenApiJsonRenderer2 is application/json; the others, application/vnd.oai.openapi(+json).
    renderer_classes = [OpenApiJsonRenderer2, OpenApiJsonRenderer, OpenApiYamlRenderer, OpenApiYamlRenderer2]


def service_urlpatterns(service: str, api_urlconf: str) -> list[URLPattern | URLResolver]:
    return [
        path(f"admin/{service}/", admin.site.urls),
        path(f"api/{service}/schema/", SchemaView.as_view(), name="schema"),
        # Swagger UI with its set-up script served apart, not inline: the pages' CSP allows none.
        path(
            f"api/{service}/docs/",
            SpectacularSwaggerSplitView.as_view(url_name="schema", template_name="edge/swagger_ui.html"),
            name="docs",
        ),
        path(f"api/{service}/health/", HealthView.as_view(), name="health"),
        path(f"api/{service}/", include(api_urlconf)),
        # Prometheus' scrape, on the service's own port: the gateway routes nothing here.
        path("metrics", metrics, name="metrics"),
    ]
