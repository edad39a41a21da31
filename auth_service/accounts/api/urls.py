from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts.api import views

router = SimpleRouter()
router.register("users", views.UserViewSet, basename="user")

urlpatterns = [
    path("register/", views.RegisterView.as_view(), name="register"),
    path("register/confirm/", views.EmailConfirmView.as_view(), name="register_confirm"),
    path("token/", views.TokenObtainView.as_view(), name="token_obtain_pair"),
    path("token/refresh/", views.TokenRotateView.as_view(), name="token_refresh"),
    path("logout/", views.LogoutView.as_view(), name="api_logout"),
    path("me/", views.MeView.as_view(), name="me"),
    path("password/change/", views.PasswordChangeView.as_view(), name="password_change"),
    path("password/reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("password/reset/confirm/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(".well-known/jwks.json", views.JwksView.as_view(), name="jwks"),
    *router.urls,
]
