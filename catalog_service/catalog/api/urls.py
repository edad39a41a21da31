"""The catalog API: /api/catalog/products/ and /api/catalog/categories/."""

from rest_framework.routers import DefaultRouter

from catalog.api.views import CategoryViewSet, ProductViewSet

router = DefaultRouter()
router.register("products", ProductViewSet, basename="product")
router.register("categories", CategoryViewSet, basename="category")

urlpatterns = router.urls
