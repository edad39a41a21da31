"""URLs of the catalog service."""

from edge.urls import service_urlpatterns

urlpatterns = service_urlpatterns("catalog", "catalog.api.urls")

handler404 = "edge.views.not_found"
handler500 = "edge.views.server_error"
