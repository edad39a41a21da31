from edge.urls import service_urlpatterns

urlpatterns = service_urlpatterns("edge", "tests.shop.urls")

handler404 = "edge.views.not_found"
handler500 = "edge.views.server_error"
