"""The accounts API: register and confirm the address, the caller's own account, logout, password
reset, keys, staff user management."""

from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import filters, mixins, permissions, status, viewsets
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.api.filters import UserFilter
from accounts.api.serializers import (
    EmailConfirmSerializer,
    LogoutSerializer,
    MessageSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetSerializer,
    ProfileSerializer,
    RegisterSerializer,
    StaffUserSerializer,
    TokenPairSerializer,
    UserAccessSerializer,
    UserSerializer,
)
from accounts.keys import jwks
from accounts.models import User
from accounts.selectors import user_get, user_list
from accounts.services import (
    password_reset_complete,
    password_reset_request,
    token_pair_issue,
    token_revoke,
    user_change,
    user_email_confirm,
    user_password_set,
    user_profile_update,
    user_register,
)
from edge.client_address import client_address
from edge.grants import StaffActor
from edge.permissions import IsStaff
from edge.schema import ErrorSerializer
from edge.users import user_for_claims

PASSWORD_RESET_SENT = "If an account with this email exists, a reset link is on its way."
REGISTRATION_RECEIVED = (
    "Check your inbox: we sent an email to this address. Follow its link to confirm the address "
    "before you place an order."
)


class RegisterView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    # 429: the gateway limits how often one client registers.
    @extend_schema(request=RegisterSerializer, responses={202: MessageSerializer, 429: ErrorSerializer})
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_register(**serializer.validated_data)
        # The same answer for a new address and a taken one (the email says which it was).
        return Response({"detail": REGISTRATION_RECEIVED}, status=status.HTTP_202_ACCEPTED)


class EmailConfirmView(APIView):
    """The link of the registration email, for a client that opens it itself: uid and token."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(request=EmailConfirmSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = EmailConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user_email_confirm(user=serializer.validated_data["user"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(user_get(user_id=request.user.id)).data)

    @extend_schema(request=ProfileSerializer, responses=UserSerializer)
    def patch(self, request: Request) -> Response:
        serializer = ProfileSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = user_profile_update(user=user_get(user_id=request.user.id), **serializer.validated_data)
        return Response(UserSerializer(user).data)


class PasswordChangeView(APIView):
    # 429: too many wrong old passwords, counted as failed logins are (accounts.throttling).
    @extend_schema(
        request=PasswordChangeSerializer, responses={200: TokenPairSerializer, 429: ErrorSerializer}
    )
    def post(self, request: Request) -> Response:
        user = user_get(user_id=request.user.id)
        serializer = PasswordChangeSerializer(
            data=request.data, context={"user": user, "client": client_address(request)}
        )
        serializer.is_valid(raise_exception=True)
        user = user_password_set(user=user, password=serializer.validated_data["new_password"])
        # Every earlier token is revoked, this caller's too: it goes on with a new pair.
        pair = token_pair_issue(user=user)
        return Response({"access": str(pair.access), "refresh": str(pair.refresh)})


class PasswordResetView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    # 429: the gateway limits how often one client asks.
    @extend_schema(request=PasswordResetSerializer, responses={202: MessageSerializer, 429: ErrorSerializer})
    def post(self, request: Request) -> Response:
        serializer = PasswordResetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_request(email=serializer.validated_data["email"])
        # The same answer for known and unknown addresses.
        return Response({"detail": PASSWORD_RESET_SENT}, status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(APIView):
    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = PasswordResetConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        password_reset_complete(
            user=serializer.validated_data["user"], password=serializer.validated_data["new_password"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenObtainView(TokenObtainPairView):
    """An access and a refresh token for an email and password (SIMPLE_JWT's serializer)."""

    # 401: a wrong email or password; 429: too many password tries from this client (the
    # gateway) or for this account (``login_attempt``).
    @extend_schema(responses={200: TokenPairSerializer, 401: ErrorSerializer, 429: ErrorSerializer})
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().post(request, *args, **kwargs)


class TokenRotateView(TokenRefreshView):
    """A new pair for a refresh token, which is used up (SIMPLE_JWT's serializer)."""

    # 401: the refresh token is invalid, expired, used before or past the staff session's limit.
    @extend_schema(responses={200: TokenPairSerializer, 401: ErrorSerializer})
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        return super().post(request, *args, **kwargs)


class LogoutView(APIView):
    @extend_schema(request=LogoutSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        token_revoke(access=request.auth, raw_refresh=serializer.validated_data.get("refresh"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class JwksView(APIView):
    """The public keys that verify auth's tokens, by kid (RFC 7517)."""

    permission_classes = [permissions.AllowAny]
    authentication_classes = []

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request) -> Response:
        response = Response(jwks())
        # Short: a client that meets an unknown kid fetches again anyway.
        response["Cache-Control"] = "public, max-age=60"
        return response


class MayManageUsers(IsStaff):
    """The users admin's rule: staff who may view users (by a role of their token, or auth's own
    groups and permissions) find them; those who may change users change them."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not super().has_permission(request, view):
            return False
        permission = "accounts.view_user" if request.method in SAFE_METHODS else "accounts.change_user"
        user = user_for_claims(request.auth)
        return user is not None and user.has_perm(permission)


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Staff: find users, and activate, deactivate, grant staff (superuser only by a superuser) or
    set their roles (only those the caller holds)."""

    permission_classes = [MayManageUsers]
    serializer_class = StaffUserSerializer
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    filterset_class = UserFilter
    search_fields = ["email", "full_name"]

    def get_queryset(self) -> QuerySet[User]:
        return user_list()

    @extend_schema(request=UserAccessSerializer, responses=StaffUserSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        user = self.get_object()
        serializer = UserAccessSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        # The actor as the admin sees them: what their roles and auth's own grants let them hold.
        actor = StaffActor.for_user(user_for_claims(request.auth))
        user = user_change(user=user, actor=actor, **serializer.validated_data)
        return Response(StaffUserSerializer(user).data)
