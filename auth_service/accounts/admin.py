"""The users admin: find people fast, see who is staff, and switch accounts on or off."""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from accounts.models import User
from accounts.services import (
    ACCESS_FIELDS,
    user_access_set,
    user_create,
    user_delete,
    user_password_set,
    user_profile_update,
)
from edge.admin import ServiceSavingAdmin


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ["email"]


class UserChangeAdminForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class PasswordChangeAdminForm(AdminPasswordChangeForm):
    """A password set (or disabled) in the admin revokes the user's tokens, like any other password change."""

    def save(self, commit: bool = True) -> User:
        # Django's form reads "usable_password" into "set_usable_password" as it cleans.
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        return user_password_set(user=self.user, password=password)


@admin.register(User)
class UserAdmin(ServiceSavingAdmin, DjangoUserAdmin):
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

    # Every change goes through the services, which keep each user's standing in Redis,
    # revoke tokens whose claims no longer describe the user, and refuse what the editor may
    # not do (superuser status, their own access): the refusal shows on the form.
    def save_through_service(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> User:
        data = form.cleaned_data
        if not change:
            return user_create(
                email=data["email"], password=data["password1"] if data["set_usable_password"] else None
            )
        user = user_access_set(
            user=User.objects.get(pk=obj.pk),
            actor_id=request.user.pk,
            actor_is_superuser=request.user.is_superuser,
            **{field: data[field] for field in ACCESS_FIELDS if field in form.changed_data},
        )
        return user_profile_update(
            user=user,
            **{field: data[field] for field in ("email", "full_name") if field in form.changed_data},
        )

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        user_delete(user=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        for user in queryset:
            user_delete(user=user)

    def _set_access(self, request: HttpRequest, queryset: QuerySet[User], done: str, **flags: Any) -> None:
        self.apply_to_each(
            request,
            queryset,
            lambda user: user_access_set(
                user=user, actor_id=request.user.pk, actor_is_superuser=request.user.is_superuser, **flags
            ),
            done=done,
        )

    @admin.action(description="Activate selected users")
    def activate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_access(request, queryset, "{count} user(s) activated.", is_active=True)

    @admin.action(description="Deactivate selected users")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_access(request, queryset, "{count} user(s) deactivated.", is_active=False)
