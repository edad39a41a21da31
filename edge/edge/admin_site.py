"""The admin site of every service: its index opens on the service's dashboard (``edge.dashboard``);
login and logout belong to the one login page at the gateway."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.utils.http import urlencode

from edge.conf import edge_settings
from edge.dashboard import dashboard_panels

NOT_STAFF = "Your account is not a staff account."
NO_ROLE_HERE = "None of your staff roles gives you anything in this admin site."


def csrf_cookie_name(service: str) -> str:
    """The CSRF cookie of a service's admin site: four sites share the host, each has its own."""
    return f"{service}_csrftoken"


class EdgeAdminSite(admin.AdminSite):
    site_url = None
    index_template = "edge/admin_index.html"
    # The index of the site the login lands on opens to every staff member, whatever their
    # roles give there; elsewhere a staff member whom no role gives anything gets 403.
    index_open_to_all_staff = False

    @property
    def site_header(self) -> str:
        return f"Commerce · {edge_settings.SERVICE_NAME}"

    @property
    def site_title(self) -> str:
        return self.site_header

    def index(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        """Staff see this site, its dashboard above the models, where a role of theirs (or
        superuser status) gives them a permission; the others get 403, as on each model's pages,
        not Django's empty index page."""
        user = request.user
        if not (self.index_open_to_all_staff or user.is_superuser or user.get_all_permissions()):
            raise PermissionDenied(NO_ROLE_HERE)
        return super().index(request, {"dashboard": dashboard_panels(request), **(extra_context or {})})

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        if request.user.is_authenticated:
            # Logged in, but not staff: sending them to the login page again would loop.
            raise PermissionDenied(NOT_STAFF)
        next_page = request.GET.get("next") or request.get_full_path()
        return redirect_to_login(next_page, settings.LOGIN_URL)

    def logout(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        # A POST only, as Django's own logout: this site's CSRF middleware has checked its token.
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        # 307 keeps the POST and its token, which the shared logout page checks against this
        # site's CSRF cookie, named by ``site``; it ends the session in every admin site.
        return HttpResponseRedirect(
            f"{settings.LOGOUT_URL}?{urlencode({'site': edge_settings.SERVICE_NAME})}", status=307
        )
