"""The groups page of every admin site, and the users page of the services with shadow users.

Both replace Django's own, which save whatever the form says: a staff member allowed to change
groups could add any permission to a group they belong to. These save through ``edge.grants``,
which grants nothing the staff member does not hold. A shadow user's email, staff and superuser
status come from auth's token on every request (``edge.users``) and it has no password (the
login is auth's): here they are shown, and only the service's own groups and permissions change.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from django.forms import ModelForm
from django.http import HttpRequest

from edge.admin import ServiceSavingAdmin
from edge.conf import edge_settings
from edge.grants import StaffActor, group_save, user_grants_set


class GroupAdmin(ServiceSavingAdmin, DjangoGroupAdmin):
    def save_through_service(self, request: HttpRequest, obj: Group, form: ModelForm, change: bool) -> Group:
        return group_save(
            actor=StaffActor.for_user(request.user),
            group=obj,
            name=form.cleaned_data["name"],
            permissions=form.cleaned_data["permissions"],
        )


class ShadowUserAdmin(ServiceSavingAdmin):
    list_display = ["username", "email", "is_staff", "is_superuser", "last_login"]
    list_filter = ["is_staff", "is_superuser", "groups"]
    search_fields = ["username", "email"]
    ordering = ["username"]
    fields = ["username", "email", "is_staff", "is_superuser", "groups", "user_permissions", "last_login"]
    readonly_fields = ["username", "email", "is_staff", "is_superuser", "last_login"]
    filter_horizontal = ["groups", "user_permissions"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A shadow user is made by its first visit with a token from auth.
        return False

    def save_through_service(
        self, request: HttpRequest, obj: object, form: ModelForm, change: bool
    ) -> object:
        user = get_user_model()._default_manager.get(pk=obj.pk)
        return user_grants_set(
            actor=StaffActor.for_user(request.user),
            user=user,
            groups=form.cleaned_data["groups"] if "groups" in form.changed_data else None,
            permissions=(
                form.cleaned_data["user_permissions"] if "user_permissions" in form.changed_data else None
            ),
        )


def register(site: admin.AdminSite) -> None:
    """Put these pages in place of Django's (its ``contrib.auth`` registers its own first)."""
    site.unregister(Group)
    site.register(Group, GroupAdmin)
    if edge_settings.SHADOW_USERS:
        user_model = get_user_model()
        if site.is_registered(user_model):
            site.unregister(user_model)
        site.register(user_model, ShadowUserAdmin)
