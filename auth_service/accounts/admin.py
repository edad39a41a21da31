"""The users admin: find people fast, see who is staff, and switch accounts on or off.

What a staff member may change here is the services' to say (``accounts.services`` and
``edge.grants``); this page asks them and shows their refusals.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.forms import AdminPasswordChangeForm as SitePasswordChangeForm
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, AdminUserCreationForm, UserChangeForm
from django.db.models import Count, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.html import format_html

from accounts.models import Role, User
from accounts.services import (
    user_access_set,
    user_change,
    user_create,
    user_credentials_check,
    user_delete,
    user_password_set,
)
from edge.admin import ServiceSavingAdmin
from edge.exceptions import DomainError
from edge.grants import StaffActor, superuser_change_check

# What the change form may change; the services say who may change each.
CHANGE_FIELDS = (
    "email",
    "full_name",
    "email_staff_alerts",
    "is_active",
    "is_staff",
    "is_superuser",
    "roles",
    "groups",
    "user_permissions",
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
    """A password set (or disabled) in the admin revokes the user's tokens, like any other password change."""

    def save(self, commit: bool = True) -> User:
        # Django's form reads "usable_password" into "set_usable_password" as it cleans.
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        return user_password_set(user=self.user, password=password)


class OwnPasswordChangeForm(SitePasswordChangeForm):
    """The admin's "Change password" page: like the API's, it revokes every earlier token (this session's too)."""

    def save(self, commit: bool = True) -> User:
        return user_password_set(user=self.user, password=self.cleaned_data["new_password1"])


admin.site.password_change_form = OwnPasswordChangeForm
# The login lands here (accounts.views.DEFAULT_NEXT): a catalog editor gets an index, not a 403.
admin.site.index_open_to_all_staff = True


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
    list_filter = [
        "is_active",
        "is_staff",
        "is_superuser",
        "email_staff_alerts",
        "roles",
        ("email_confirmed_at", admin.EmptyFieldListFilter),
        "date_joined",
    ]
    search_fields = ["email", "full_name"]
    ordering = ["-date_joined"]
    date_hierarchy = "date_joined"
    readonly_fields = ["date_joined", "last_login", "email_confirmed_at"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["full_name", "email_staff_alerts"]}),
        (
            "Permissions",
            {
                "fields": ["is_active", "is_staff", "is_superuser", "roles", "groups", "user_permissions"],
                "description": "Staff roles give permissions in every admin site that declares them; "
                "groups and permissions apply to this site alone.",
            },
        ),
        ("Dates", {"fields": ["last_login", "date_joined", "email_confirmed_at"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "usable_password", "password1", "password2"]}),
    ]
    filter_horizontal = ["roles", "groups", "user_permissions"]
    change_password_form = PasswordChangeAdminForm
    actions = ["activate", "deactivate"]

    # Every change goes through the services, which keep each user's standing in Redis,
    # revoke tokens whose claims no longer describe the user, and refuse what the editor may
    # not do (superuser status, a superuser's account, another staff member's email, their own
    # access, roles, groups and permissions they do not hold): the refusal shows on the form.
    def save_through_service(self, request: HttpRequest, obj: User, form: ModelForm, change: bool) -> User:
        data = form.cleaned_data
        if not change:
            return user_create(
                email=data["email"], password=data["password1"] if data["set_usable_password"] else None
            )
        changed = {field: data[field] for field in CHANGE_FIELDS if field in form.changed_data}
        if "user_permissions" in changed:
            changed["permissions"] = changed.pop("user_permissions")
        return user_change(
            actor=StaffActor.for_user(request.user), user=User.objects.get(pk=obj.pk), **changed
        )

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> HttpResponse:
        """The password page, for those the services let set this user's password."""
        user = self.get_object(request, unquote(id))
        if user is not None:
            try:
                user_credentials_check(actor=StaffActor.for_user(request.user), user=user)
            except DomainError as error:
                self.message_user(request, error.detail, messages.ERROR)
                return HttpResponseRedirect(reverse("admin:accounts_user_change", args=[user.pk]))
        return super().user_change_password(request, id, form_url)

    def has_delete_permission(self, request: HttpRequest, obj: User | None = None) -> bool:
        # Django's delete page and its bulk action list a user refused here as one the staff
        # member may not delete, and refuse the whole deletion.
        if obj is not None:
            try:
                superuser_change_check(actor=StaffActor.for_user(request.user), user=obj)
            except DomainError:
                return False
        return super().has_delete_permission(request, obj)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        user_delete(user=obj, actor=StaffActor.for_user(request.user))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        actor = StaffActor.for_user(request.user)
        for user in queryset:
            user_delete(user=user, actor=actor)

    def _set_access(self, request: HttpRequest, queryset: QuerySet[User], done: str, **flags: Any) -> None:
        actor = StaffActor.for_user(request.user)
        self.apply_to_each(
            request, queryset, lambda user: user_access_set(user=user, actor=actor, **flags), done=done
        )

    @admin.action(description="Activate selected users")
    def activate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_access(request, queryset, "{count} user(s) activated.", is_active=True)

    @admin.action(description="Deactivate selected users")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        self._set_access(request, queryset, "{count} user(s) deactivated.", is_active=False)


@admin.register(Role)
class RoleAdmin(admin.ModelAdmin):
    """The staff roles, as ``edge.roles`` names them (read only: the code says what they give)."""

    list_display = ["name", "slug", "description", "holders"]
    fields = ["name", "slug", "description"]
    readonly_fields = fields
    search_fields = ["name", "slug"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Role]:
        return super().get_queryset(request).annotate(holder_count=Count("users"))

    @admin.display(description="holders", ordering="holder_count")
    def holders(self, role: Role) -> str:
        url = reverse("admin:accounts_user_changelist")
        return format_html('<a href="{}?roles__id__exact={}">{}</a>', url, role.pk, role.holder_count)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Roles come from the code (accounts.apps syncs them after migrate).
        return False

    def has_change_permission(self, request: HttpRequest, obj: Role | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Role | None = None) -> bool:
        return False
