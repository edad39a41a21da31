"""Browser pages and the gateway's token check: ``/login/``, ``/logout/``, ``/internal/verify``."""

from django.conf import settings
from django.contrib.auth.views import LoginView, redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from accounts.services import token_pair_for
from edge.conf import edge_settings
from edge.tokens import InvalidToken, verify_access_token

MISSING_TOKEN = "Authentication credentials were not provided."
STAFF_ONLY = "This action needs a staff account."


def _bearer_or_cookie(request: HttpRequest) -> str | None:
    scheme, _, raw_token = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Bearer" and raw_token.strip():
        return raw_token.strip()
    return request.COOKIES.get(edge_settings.ACCESS_COOKIE_NAME)


@require_GET
def verify(request: HttpRequest) -> HttpResponse:
    """nginx's ``auth_request``: 204 with the identity headers, 401, or 403. Never a redirect.

    ``?staff=1`` also requires a staff token (catalog writes).
    """
    raw_token = _bearer_or_cookie(request)
    if not raw_token:
        return JsonResponse({"detail": MISSING_TOKEN}, status=401)
    try:
        claims = verify_access_token(raw_token)
    except InvalidToken as error:
        return JsonResponse({"detail": str(error)}, status=401)
    if request.GET.get("staff") and not claims.is_staff:
        return JsonResponse({"detail": STAFF_ONLY}, status=403)
    response = HttpResponse(status=204)
    response["X-User-Id"] = str(claims.user_id)
    response["X-User-Email"] = claims.email
    response["X-User-Staff"] = "true" if claims.is_staff else "false"
    return response


@require_GET
def login_redirect(request: HttpRequest) -> HttpResponse:
    """Where the gateway sends a browser without a session: the login page, then back."""
    return redirect_to_login(request.headers.get("X-Original-URI", ""), settings.LOGIN_URL)


class StaffLoginView(LoginView):
    """The one login page of every admin site: sets the HttpOnly access cookie they all read."""

    template_name = "admin/login.html"
    redirect_authenticated_user = False
    extra_context = {"site_header": "Commerce staff", "site_title": "Commerce staff", "title": "Log in"}

    def get_default_redirect_url(self) -> str:
        return "/admin/auth/"

    def form_valid(self, form: object) -> HttpResponse:
        user = form.get_user()
        access_token = token_pair_for(user).access_token
        # get_success_url() only accepts a ``next`` on this host: no open redirect.
        response = HttpResponseRedirect(self.get_success_url())
        response.set_cookie(
            edge_settings.ACCESS_COOKIE_NAME,
            str(access_token),
            max_age=int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=self.request.is_secure(),
        )
        return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def staff_logout(request: HttpRequest) -> HttpResponse:
    """Clears the access cookie, which ends the session in all four admin sites at once.

    CSRF-exempt because the admin sites forward their own logout POST here; the cookie is
    SameSite=Lax, so another site's form cannot carry it in.
    """
    response = HttpResponseRedirect(settings.LOGIN_URL)
    response.delete_cookie(edge_settings.ACCESS_COOKIE_NAME, samesite="Lax")
    return response
