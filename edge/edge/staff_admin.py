"""Who manages staff where: auth's admin, alone.

Staff roles are granted in auth and carried in the token (``edge.roles``), so the other services'
admins have no users or groups page: Django's would grant permissions their token-borne staff do
not use. Their shadow users (``edge.users``) stay, for the admin's history, and hold no grants.

auth keeps its groups page, in place of Django's, which saves whatever the form says: a staff
member allowed to change groups could add any permission to a group they belong to. This one
saves through ``edge.grants``, which grants nothing the staff member does not hold.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.models import Group
from django.forms import ModelForm
from django.http import HttpRequest

from edge.admin import ServiceSavingAdmin
from edge.conf import edge_settings
from edge.grants import StaffActor, group_save


class GroupAdmin(ServiceSavingAdmin, DjangoGroupAdmin):
    def save_through_service(self, request: HttpRequest, obj: Group, form: ModelForm, change: bool) -> Group:
        return group_save(
            actor=StaffActor.for_user(request.user),
            group=obj,
            name=form.cleaned_data["name"],
            permissions=form.cleaned_data["permissions"],
        )


def register(site: admin.AdminSite) -> None:
    """Put these pages in place of Django's (its ``contrib.auth`` registers its own first)."""
    site.unregister(Group)
    if edge_settings.SHADOW_USERS:
        user_model = get_user_model()
        if site.is_registered(user_model):
            site.unregister(user_model)
        return
    site.register(Group, GroupAdmin)
