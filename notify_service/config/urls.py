"""URLs of the notify service."""

from edge.urls import service_urlpatterns

urlpatterns = service_urlpatterns("notify", "notify.api.urls")

handler404 = "edge.views.not_found"
handler500 = "edge.views.server_error"
