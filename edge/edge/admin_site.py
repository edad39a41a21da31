"""The admin site of every service: login and logout belong to the one login page at the gateway."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.csrf import csrf_exempt

from edge.conf import edge_settings

NOT_STAFF = "Your account is not a staff account."


class EdgeAdminSite(admin.AdminSite):
    site_url = None

    @property
    def site_header(self) -> str:
        return f"Commerce · {edge_settings.SERVICE_NAME}"

    @property
    def site_title(self) -> str:
        return self.site_header

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.user.is_authenticated:
            # Logged in, but not staff: sending them to the login page again would loop.
            raise PermissionDenied(NOT_STAFF)
        next_page = request.GET.get("next") or request.get_full_path()
        return redirect_to_login(next_page, settings.LOGIN_URL)

    def logout(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        # 307 keeps the POST, so the shared logout page ends the session for every admin site.
        return HttpResponseRedirect(settings.LOGOUT_URL, status=307)

    def get_urls(self) -> list:
        urls = super().get_urls()
        for pattern in urls:
            if getattr(pattern, "name", None) == "logout":
                # The POST carries this service's CSRF token; the redirect is all it does.
                pattern.callback = csrf_exempt(pattern.callback)
        return urls
