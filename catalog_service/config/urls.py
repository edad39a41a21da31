"""URLs of the catalog service: the shared ones, and the cache version the gateways poll."""

from django.urls import path

from catalog import views
from edge.urls import service_urlpatterns

urlpatterns = [
    *service_urlpatterns("catalog", "catalog.api.urls"),
    path("internal/cache-version", views.cache_version_current, name="cache_version"),
]

handler404 = "edge.views.not_found"
handler500 = "edge.views.server_error"
