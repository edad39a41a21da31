"""URLs of the orders service."""

from edge.urls import service_urlpatterns

urlpatterns = service_urlpatterns("orders", "orders.api.urls")

handler404 = "edge.views.not_found"
handler500 = "edge.views.server_error"
