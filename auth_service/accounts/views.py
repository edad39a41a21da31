"""Browser pages and the gateway's token check.

``/login/`` sets two HttpOnly cookies: the access token (every path, short-lived) and a refresh
token that only the login pages see. When the access token expires, the gateway sends an admin
page's browser through ``/login/refresh``, which rotates the refresh token and comes back, so a
staff member who keeps working stays logged in, up to an absolute limit
(``STAFF_SESSION_MAX_AGE``). ``/logout/`` (a POST with a CSRF token) revokes both tokens, which
ends the session in every admin site at once.
"""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import update_last_login
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.middleware.csrf import CsrfViewMiddleware
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.generic import TemplateView
from rest_framework_simplejwt.exceptions import TokenError

from accounts.errors import LoginDelayed
from accounts.selectors import user_for_email_confirmation
from accounts.services import (
    TokenPair,
    login_attempt,
    password_reset_complete,
    token_pair_issue,
    token_refresh,
    token_revoke,
    user_email_confirm,
)
from edge.admin_site import csrf_cookie_name
from edge.client_address import client_address
from edge.conf import edge_settings
from edge.revocation import (
    TOKEN_STATE_RETRY_AFTER_SECONDS,
    TOKEN_STATE_UNAVAILABLE,
    TokenStateUnavailable,
    authenticate,
)
from edge.service_table import SERVICE_NAMES
from edge.tokens import InvalidToken, verify_access_token

MISSING_TOKEN = "Authentication credentials were not provided."
STAFF_ONLY = "This action needs a staff account."
DEFAULT_NEXT = "/admin/auth/"
SESSION_END = "/login/end"
STAFF_CONTEXT = {"site_header": "Commerce staff", "site_title": "Commerce staff"}
CUSTOMER_CONTEXT = {"site_header": "Commerce", "site_title": "Commerce", "title": "Confirm your email"}
EMAIL_CONFIRMED_PAGE = "/register/confirmed/"
UNKNOWN_SITE = "No admin site of that name."


def _bearer_or_cookie(request: HttpRequest) -> str | None:
    scheme, _, raw_token = request.headers.get("Authorization", "").partition(" ")
    if scheme == "Bearer" and raw_token.strip():
        return raw_token.strip()
    return request.COOKIES.get(edge_settings.ACCESS_COOKIE_NAME)


@require_GET
def verify(request: HttpRequest) -> HttpResponse:
    """nginx's ``auth_request``: 204 with the identity headers, 401, or 403. Never a redirect.

    The hot path: the signature, then one Redis round trip for revocations and the user's
    standing, and no database query; the database when Redis cannot answer. ``?staff=1`` also
    requires a staff token (catalog writes). The other services ask it too, when their Redis
    cannot answer; 503 when the database cannot either.
    """
    raw_token = _bearer_or_cookie(request)
    if not raw_token:
        return JsonResponse({"detail": MISSING_TOKEN}, status=401)
    try:
        claims = authenticate(raw_token)
    except InvalidToken as error:
        return JsonResponse({"detail": str(error)}, status=401)
    except TokenStateUnavailable:
        # nginx turns this into a 500; the gateway answers its own 503 (gateway.conf.template).
        unavailable = JsonResponse({"detail": TOKEN_STATE_UNAVAILABLE}, status=503)
        unavailable["Retry-After"] = str(TOKEN_STATE_RETRY_AFTER_SECONDS)
        return unavailable
    if request.GET.get("staff") and not claims.is_staff:
        return JsonResponse({"detail": STAFF_ONLY}, status=403)
    response = HttpResponse(status=204)
    response["X-User-Id"] = str(claims.user_id)
    response["X-User-Email"] = claims.email
    response["X-User-Staff"] = "true" if claims.is_staff else "false"
    return response


def _safe_next(request: HttpRequest) -> str:
    """``next`` when it stays on this site, else the auth admin: no open redirect."""
    next_page = request.GET.get("next", "")
    if next_page and url_has_allowed_host_and_scheme(
        next_page, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return next_page
    return DEFAULT_NEXT


def _going_on(request: HttpRequest, response: HttpResponseRedirect) -> HttpResponseRedirect:
    """The redirect as a 307 for a POST: a form sent with an expired access cookie (an admin
    change form, a logout) goes round the renewal and back with its body, so no edit is lost.
    Its CSRF token is checked where it lands, the admin page it was meant for."""
    if request.method == "POST":
        response.status_code = 307
    return response


# A POST comes here only sent on from an admin page (nginx) and carries that site's CSRF token,
# not auth's: the page it comes back to checks it. Nothing here acts on the body, and the refresh
# cookie (SameSite=Lax) is not sent with a POST from another site.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def login_redirect(request: HttpRequest) -> HttpResponse:
    """Where the gateway sends a browser whose access cookie is missing or expired: renew, or log in."""
    return _going_on(request, redirect_to_login(request.headers.get("X-Original-URI", ""), "/login/refresh"))


def _set_session_cookies(request: HttpRequest, response: HttpResponse, pair: TokenPair) -> None:
    # Secure as Django's session cookie is, and whenever the browser came over https.
    secure = settings.SESSION_COOKIE_SECURE or request.is_secure()
    response.set_cookie(
        edge_settings.ACCESS_COOKIE_NAME,
        str(pair.access),
        max_age=int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
        httponly=True,
        samesite="Lax",
        secure=secure,
    )
    # The cookie lasts as long as the session may: the absolute limit from the password entry.
    session_left = (
        pair.refresh["auth_time"] + int(settings.STAFF_SESSION_MAX_AGE.total_seconds()) - int(time.time())
    )
    response.set_cookie(
        settings.REFRESH_COOKIE_NAME,
        str(pair.refresh),
        max_age=max(session_left, 0),
        path=settings.REFRESH_COOKIE_PATH,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )


def _clear_session_cookies(response: HttpResponse) -> None:
    response.delete_cookie(edge_settings.ACCESS_COOKIE_NAME, samesite="Lax")
    response.delete_cookie(settings.REFRESH_COOKIE_NAME, path=settings.REFRESH_COOKIE_PATH, samesite="Lax")


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's login form, with the token endpoint's count of failed logins (``login_attempt``)."""

    delayed: LoginDelayed | None = None

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        if not email:
            return super().clean()
        try:
            with login_attempt(
                email=email, client=client_address(self.request), failure=forms.ValidationError
            ):
                return super().clean()
        except LoginDelayed as error:
            self.delayed = error
            raise error.as_validation_error() from error


class StaffLoginView(auth_views.LoginView):
    """The one login page of every admin site: sets the cookies they all read."""

    template_name = "admin/login.html"
    authentication_form = ThrottledAuthenticationForm
    redirect_authenticated_user = False
    extra_context = {**STAFF_CONTEXT, "title": "Log in"}

    def get_default_redirect_url(self) -> str:
        return DEFAULT_NEXT

    def form_invalid(self, form: ThrottledAuthenticationForm) -> HttpResponse:
        response = super().form_invalid(form)
        # The page again with the form's error, and for a client that reads no page, the API's 429.
        if form.delayed:
            response.status_code = form.delayed.status_code
            for header, value in form.delayed.response_headers().items():
                response[header] = value
        return response

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        user = form.get_user()
        pair = token_pair_issue(user=user)
        update_last_login(None, user)
        # get_success_url() only accepts a ``next`` on this host: no open redirect.
        response = HttpResponseRedirect(self.get_success_url())
        _set_session_cookies(self.request, response, pair)
        return response


@never_cache
# CSRF-exempt for the reason login_redirect is: a POST here is an admin form on its way back.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def session_refresh(request: HttpRequest) -> HttpResponse:
    """Renews the access cookie from the refresh cookie and goes back; the login page if it can't."""
    next_page = _safe_next(request)
    raw_refresh = request.COOKIES.get(settings.REFRESH_COOKIE_NAME)
    if raw_refresh:
        try:
            pair = token_refresh(
                raw_refresh=raw_refresh, max_session_age=int(settings.STAFF_SESSION_MAX_AGE.total_seconds())
            )
        except TokenError:
            pass  # expired, revoked, used before, or past the session's limit: log in again
        else:
            response = _going_on(request, HttpResponseRedirect(next_page))
            _set_session_cookies(request, response, pair)
            return response
    response = redirect_to_login(next_page, settings.LOGIN_URL)
    _clear_session_cookies(response)
    return response


def csrf_protect_for_the_admin_site(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Django's CSRF check of a POST, against the CSRF cookie of the admin site it came from.

    Four admin sites share the host, each with its own CSRF cookie (``edge.admin_site``); each
    site's logout form carries that site's token, and the site sends its POST on here with a
    307 that keeps the body and names the site in ``?site=`` (auth's own by default). Django's
    middleware then checks the token against that site's cookie: a form on another page
    cannot know it, as with any Django form.
    """

    # The middleware's own check, which this one replaces, would hold every site to auth's cookie.
    @csrf_exempt
    @wraps(view)
    def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        site = request.GET.get("site", settings.SERVICE_NAME)
        if site not in SERVICE_NAMES:
            return JsonResponse({"detail": UNKNOWN_SITE}, status=400)
        own_cookies = request.COOKIES
        request.COOKIES = {
            **own_cookies,
            settings.CSRF_COOKIE_NAME: own_cookies.get(csrf_cookie_name(site), ""),
        }
        try:
            # The middleware reads only the callback's csrf_exempt mark, which ``view`` has not.
            refusal = CsrfViewMiddleware(view).process_view(request, view, args, kwargs)
        finally:
            request.COOKIES = own_cookies
        return refusal or view(request, *args, **kwargs)

    return checked


@require_POST
@csrf_protect_for_the_admin_site
def staff_logout(request: HttpRequest) -> HttpResponse:
    """Ends the browser's session in every admin site: sent on to ``/login/end``, which sees both cookies.

    A POST with the CSRF token of the admin site it comes from; a GET is 405, so a link or an
    image on another page cannot log anyone out.
    """
    # 307: the POST and its token go on.
    query = request.GET.urlencode()
    return HttpResponseRedirect(f"{SESSION_END}?{query}" if query else SESSION_END, status=307)


@never_cache
@require_POST
@csrf_protect_for_the_admin_site
def session_end(request: HttpRequest) -> HttpResponse:
    """Revokes the session's access and refresh tokens and clears both cookies: every admin site is closed."""
    raw_access = request.COOKIES.get(edge_settings.ACCESS_COOKIE_NAME)
    try:
        access = verify_access_token(raw_access) if raw_access else None
    except InvalidToken:
        access = None
    # Separately: the two cookies need not belong to the same user, and both must go.
    token_revoke(access=access)
    token_revoke(raw_refresh=request.COOKIES.get(settings.REFRESH_COOKIE_NAME))
    response = HttpResponseRedirect(settings.LOGIN_URL, status=303)
    _clear_session_cookies(response)
    return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The page the reset email links to: a new password, and every earlier token revoked."""

    success_url = "/password-reset/done/"
    extra_context = STAFF_CONTEXT

    def form_valid(self, form: forms.Form) -> HttpResponse:
        password_reset_complete(user=form.user, password=form.cleaned_data["new_password1"])
        del self.request.session[auth_views.INTERNAL_RESET_SESSION_TOKEN]
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    extra_context = STAFF_CONTEXT


class EmailConfirmPageView(TemplateView):
    """The page the registration email links to: a button that confirms the address.

    A GET only shows the button: mail scanners open the links in emails, and must not confirm an
    address for someone its owner never heard of. The POST (with auth's CSRF token) confirms.
    """

    template_name = "accounts/email_confirm.html"
    extra_context = CUSTOMER_CONTEXT

    def get(self, request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
        user = user_for_email_confirmation(uid=uidb64, token=token)
        return self.render_to_response(self.get_context_data(validlink=user is not None))

    def post(self, request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
        user = user_for_email_confirmation(uid=uidb64, token=token)
        if user is None:
            return self.render_to_response(self.get_context_data(validlink=False), status=400)
        user_email_confirm(user=user)
        # Away from the link's address: reloading the page sends nothing again.
        return HttpResponseRedirect(EMAIL_CONFIRMED_PAGE, status=303)


class EmailConfirmedPageView(TemplateView):
    template_name = "accounts/email_confirm.html"
    extra_context = {**CUSTOMER_CONTEXT, "confirmed": True}
