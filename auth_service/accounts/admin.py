"""The users admin: find people fast, see who is staff, and switch accounts on or off."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from accounts.models import User
from accounts.services import (
    ACCESS_FIELDS,
    SUPERUSER_ONLY,
    PermissionDeniedError,
    user_access_set,
    user_delete,
    user_password_set,
    user_state_sync,
    user_tokens_revoke_all,
)


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PasswordChangeAdminForm(AdminPasswordChangeForm):
    """A password set in the admin revokes the user's tokens, like any other password change."""

    def save(self, commit: bool = True) -> User:
        if not self.cleaned_data.get("usable_password", True):
            user = super().save(commit=commit)
            return user_tokens_revoke_all(user=user) if commit else user
        return user_password_set(user=self.user, password=self.cleaned_data["password1"])


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeAdminForm
    add_form = UserCreationForm
    list_display = [
        "email",
        "full_name",
        "is_active",
        "is_staff",
        "is_superuser",
        "date_joined",
        "last_login",
    ]
    list_filter = ["is_active", "is_staff", "is_superuser", "date_joined"]
    search_fields = ["email", "full_name"]
    ordering = ["-date_joined"]
    date_hierarchy = "date_joined"
    readonly_fields = ["date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]}),
    ]
    change_password_form = PasswordChangeAdminForm
    actions = ["activate", "deactivate"]

    # Every change goes through the services, which keep each user's standing in Redis and
    # revoke tokens whose claims no longer describe the user.
    def save_model(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> None:
        changed_access = change and any(field in form.changed_data for field in ACCESS_FIELDS)
        touches_superuser = "is_superuser" in form.changed_data or form.initial.get("is_superuser")
        if changed_access and touches_superuser and not request.user.is_superuser:
            # The form offers superuser status to anyone who may change users.
            raise PermissionDenied(SUPERUSER_ONLY)
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            if changed_access:
                user_tokens_revoke_all(user=obj)
            else:
                user_state_sync(user_id=obj.pk)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        user_delete(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_delete(user=user)

    def _set_access(self, request: HttpRequest, queryset: QuerySet[User], **flags: Any) -> int:
        count = 0
        for user in queryset:
            try:
                user_access_set(
                    user=user, actor_id=request.user.pk, actor_is_superuser=request.user.is_superuser, **flags
                )
            except PermissionDeniedError as error:
                self.message_user(request, f"{user}: {error}", messages.WARNING)
            else:
                count += 1
        return count

    @admin.action(description="Activate selected users")
    def activate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = self._set_access(request, queryset, is_active=True)
        self.message_user(request, f"{count} user(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected users")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = self._set_access(request, queryset, is_active=False)
        self.message_user(request, f"{count} user(s) deactivated.", messages.SUCCESS)
