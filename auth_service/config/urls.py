"""URLs of the auth service: the shared ones, the login pages, and the gateway's token check."""

from django.urls import path

from accounts import views
from edge.urls import service_urlpatterns

urlpatterns = [
    *service_urlpatterns("auth", "accounts.api.urls"),
    path("login/", views.StaffLoginView.as_view(), name="login"),
    path("login/refresh", views.session_refresh, name="session_refresh"),
    path("login/end", views.session_end, name="session_end"),
    path("logout/", views.staff_logout, name="logout"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm_page",
    ),
    path("password-reset/done/", views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path(
        "register/confirm/<uidb64>/<token>/",
        views.EmailConfirmPageView.as_view(),
        name="register_confirm_page",
    ),
    path("register/confirmed/", views.EmailConfirmedPageView.as_view(), name="register_confirmed"),
    path("internal/verify", views.verify, name="verify"),
    path("internal/login-redirect", views.login_redirect, name="login_redirect"),
]

handler404 = "edge.views.not_found"
handler500 = "edge.views.server_error"
