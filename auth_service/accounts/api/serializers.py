"""Validation and representation of the accounts API."""

from typing import Any

from django.contrib.auth import password_validation
from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer
from rest_framework_simplejwt.serializers import TokenObtainSerializer as SimpleTokenObtainSerializer
from rest_framework_simplejwt.settings import api_settings

from accounts.models import Role, User
from accounts.selectors import user_for_email_confirmation, user_for_password_reset
from accounts.services import login_attempt, token_pair_issue, token_refresh
from edge import json_fields
from edge.client_address import client_address

WRONG_PASSWORD = "The current password is not correct."
INVALID_RESET_LINK = "The reset link is invalid or has expired."
INVALID_CONFIRMATION_LINK = "The confirmation link is invalid, has expired or was used already."
NOT_CHANGEABLE = "This field cannot be changed here."


def _validated_password(password: str, user: User, field: str) -> str:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as error:
        raise serializers.ValidationError({field: error.messages}) from error
    return password


class RegisterSerializer(serializers.Serializer):
    """What a registration must hold; whether the address is taken is not checked here, nor
    said anywhere (``accounts.services.user_register``)."""

    email = json_fields.EmailField(max_length=254)
    password = json_fields.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    full_name = json_fields.CharField(max_length=150, required=False, allow_blank=True, default="")

    def validate_email(self, value: str) -> str:
        return BaseUserManager.normalize_email(value)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        candidate = User(email=attrs["email"], full_name=attrs.get("full_name", ""))
        _validated_password(attrs["password"], candidate, "password")
        return attrs


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "full_name", "is_staff", "is_active", "email_staff_alerts", "date_joined"]
        read_only_fields = fields


class ProfileSerializer(serializers.Serializer):
    full_name = json_fields.CharField(max_length=150, allow_blank=True, required=False)
    # Anyone may tick it; the alerts go to them only while they are active staff.
    email_staff_alerts = json_fields.BooleanField(
        required=False, help_text="Email me staff alerts (while I am active staff)."
    )


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField(read_only=True)
    refresh = serializers.CharField(read_only=True)


class MessageSerializer(serializers.Serializer):
    detail = serializers.CharField(read_only=True)


class PasswordChangeSerializer(serializers.Serializer):
    old_password = json_fields.CharField(write_only=True, max_length=128)
    new_password = json_fields.CharField(write_only=True, max_length=128)

    def validate_old_password(self, value: str) -> str:
        # A stolen access token must not buy unlimited guesses of the password: counted as logins are.
        user = self.context["user"]
        with login_attempt(
            email=user.email, client=self.context["client"], failure=serializers.ValidationError
        ):
            if not user.check_password(value):
                raise serializers.ValidationError(WRONG_PASSWORD)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _validated_password(attrs["new_password"], self.context["user"], "new_password")
        return attrs


class PasswordResetSerializer(serializers.Serializer):
    email = json_fields.EmailField(max_length=254)


class PasswordResetConfirmSerializer(serializers.Serializer):
    uid = json_fields.CharField(max_length=64)
    token = json_fields.CharField(max_length=128)
    new_password = json_fields.CharField(write_only=True, max_length=128)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = user_for_password_reset(uid=attrs["uid"], token=attrs["token"])
        if user is None:
            raise serializers.ValidationError({"token": [INVALID_RESET_LINK]})
        _validated_password(attrs["new_password"], user, "new_password")
        attrs["user"] = user
        return attrs


class EmailConfirmSerializer(serializers.Serializer):
    uid = json_fields.CharField(max_length=64)
    token = json_fields.CharField(max_length=128)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        user = user_for_email_confirmation(uid=attrs["uid"], token=attrs["token"])
        if user is None:
            raise serializers.ValidationError({"token": [INVALID_CONFIRMATION_LINK]})
        attrs["user"] = user
        return attrs


class LogoutSerializer(serializers.Serializer):
    refresh = json_fields.CharField(required=False, max_length=4096)


class StaffUserSerializer(serializers.ModelSerializer):
    roles = serializers.SlugRelatedField(many=True, read_only=True, slug_field="slug")

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "full_name",
            "is_active",
            "is_staff",
            "is_superuser",
            "roles",
            "date_joined",
            "last_login",
        ]
        read_only_fields = fields


class UserAccessSerializer(serializers.Serializer):
    """What staff change through the API; anything else (groups, permissions, email) is a 400."""

    is_active = json_fields.BooleanField(required=False)
    is_staff = json_fields.BooleanField(required=False)
    is_superuser = json_fields.BooleanField(required=False)
    # The whole set of the user's roles, by slug (edge.roles): [] removes them all.
    roles = serializers.SlugRelatedField(
        many=True, required=False, slug_field="slug", queryset=Role.objects.all()
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(self.initial_data) - set(self.fields))
        if unknown:
            raise serializers.ValidationError({field: [NOT_CHANGEABLE] for field in unknown})
        return attrs


class TokenObtainSerializer(TokenObtainPairSerializer):
    """simplejwt's login, with the login page's count of failed logins (``login_attempt``) and
    our claims and kid. Too many failures are ``LoginDelayed``: edge's exception handler answers
    it with 429 and ``Retry-After``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # simplejwt's fields take 12 as "12"; the schema says text (edge.json_fields).
        self.fields[self.username_field] = json_fields.CharField(write_only=True)
        self.fields["password"] = json_fields.CharField(
            write_only=True, trim_whitespace=False, style={"input_type": "password"}
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        client = client_address(self.context["request"])
        with login_attempt(email=attrs[self.username_field], client=client, failure=AuthenticationFailed):
            SimpleTokenObtainSerializer.validate(self, attrs)
        pair = token_pair_issue(user=self.user)
        if api_settings.UPDATE_LAST_LOGIN:
            update_last_login(None, self.user)
        return {"refresh": str(pair.refresh), "access": str(pair.access)}


class TokenRefreshSerializer(serializers.Serializer):
    """Rotation: the refresh token given is used up, and a new pair comes back."""

    refresh = json_fields.CharField(write_only=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        # A TokenError becomes simplejwt's 401 in its view.
        pair = token_refresh(raw_refresh=attrs["refresh"])
        return {"access": str(pair.access), "refresh": str(pair.refresh)}
