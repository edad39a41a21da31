"""What a staff member may grant: never more than they hold.

Staff roles (``edge.roles``) are granted in auth, and give permissions in every service; auth's
own users also have Django's groups and permissions. Someone allowed to change users or groups
could otherwise give themselves, a colleague, or a group they belong to any role or permission,
or make anyone a superuser. So a role is granted only by someone who holds it, a permission or a
group only by someone who holds every permission it carries, only a superuser grants superuser
status or changes a superuser's account, and the services that change users and groups (auth's
``accounts.services``, and ``group_save`` and ``user_grants_set`` below) check it before they
write.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from edge.exceptions import DomainError


class SuperuserOnly(DomainError):
    status_code = 403
    code = "superuser_only"
    message = "Only a superuser may grant or change superuser status, or change a superuser."


class RoleNotHeld(DomainError):
    status_code = 403
    code = "role_not_held"
    message = "You cannot grant roles you do not hold yourself: {roles}."


class PermissionNotHeld(DomainError):
    status_code = 403
    code = "permission_not_held"
    message = "You cannot grant permissions you do not hold yourself: {permissions}."


@dataclass(frozen=True, kw_only=True)
class StaffActor:
    """Who makes a change to users, groups or permissions, and what they hold themselves."""

    id: int | None
    is_superuser: bool
    # "app_label.codename" of every permission the actor holds, their groups' and roles' included.
    permissions: frozenset[str] = field(default_factory=frozenset)
    # The slugs of the staff roles in the actor's token (edge.roles).
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def for_user(cls, user: Any) -> "StaffActor":
        """The admin's ``request.user``, or the API's token user."""
        return cls(
            id=user.pk,
            is_superuser=user.is_superuser,
            permissions=frozenset(user.get_all_permissions()),
            roles=frozenset(getattr(user, "token_roles", ())),
        )


# Whoever runs a management command has the shell: a superuser's authority, and no account.
SHELL = StaffActor(id=None, is_superuser=True)


def _names(permissions: Iterable[Permission]) -> set[str]:
    return {
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.filter(pk__in=[p.pk for p in permissions]).values_list(
            "content_type__app_label", "codename"
        )
    }


def permissions_grant_check(*, actor: StaffActor, permissions: Iterable[Permission]) -> None:
    """Refuse with ``PermissionNotHeld`` unless the actor holds every one of these permissions."""
    if actor.is_superuser:
        return
    missing = sorted(_names(permissions) - actor.permissions)
    if missing:
        raise PermissionNotHeld(permissions=", ".join(missing))


def groups_grant_check(*, actor: StaffActor, groups: Iterable[Group]) -> None:
    """Refuse unless the actor holds every permission of these groups: joining one grants them."""
    if actor.is_superuser:
        return
    permissions_grant_check(
        actor=actor,
        permissions=Permission.objects.filter(group__in=[group.pk for group in groups]).distinct(),
    )


def roles_grant_check(*, actor: StaffActor, roles: Iterable[str]) -> None:
    """Refuse with ``RoleNotHeld`` unless the actor holds every one of these roles (slugs).

    A role gives permissions in every service, each by its own declaration, which no single
    service can read all of: so holding the role itself, as the actor's token says, is what
    entitles them to pass it on. A superuser grants any.
    """
    if actor.is_superuser:
        return
    missing = sorted(set(roles) - actor.roles)
    if missing:
        raise RoleNotHeld(roles=", ".join(missing))


def superuser_change_check(*, actor: StaffActor, user: Any) -> None:
    """Refuse with ``SuperuserOnly`` when someone who is not a superuser changes a superuser."""
    if user.is_superuser and not actor.is_superuser:
        raise SuperuserOnly


def grants_check(
    *,
    actor: StaffActor,
    user: Any,
    groups: Iterable[Group] | None = None,
    permissions: Iterable[Permission] | None = None,
) -> None:
    """Check the groups and permissions a user is to have: only those added must be the actor's."""
    if groups is not None:
        current = set(user.groups.values_list("pk", flat=True)) if user.pk else set()
        groups_grant_check(actor=actor, groups=[group for group in groups if group.pk not in current])
    if permissions is not None:
        current = set(user.user_permissions.values_list("pk", flat=True)) if user.pk else set()
        permissions_grant_check(
            actor=actor,
            permissions=[permission for permission in permissions if permission.pk not in current],
        )


def staff_access_grant_check(
    *,
    actor: StaffActor,
    user: Any,
    groups: Iterable[Group] | None = None,
    permissions: Iterable[Permission] | None = None,
) -> None:
    """Making someone staff, or activating a staff member, brings the permissions stored on the
    account into force: the actor must hold every one of them, as if granting them now. ``groups``
    and ``permissions`` are what the account is to have (None: what it has)."""
    if actor.is_superuser:
        return
    group_ids = (
        [group.pk for group in groups]
        if groups is not None
        else list(user.groups.values_list("pk", flat=True))
    )
    permission_ids = (
        [permission.pk for permission in permissions]
        if permissions is not None
        else list(user.user_permissions.values_list("pk", flat=True))
    )
    permissions_grant_check(
        actor=actor,
        permissions=Permission.objects.filter(Q(group__in=group_ids) | Q(pk__in=permission_ids)).distinct(),
    )


@transaction.atomic
def user_grants_set(
    *,
    actor: StaffActor,
    user: Any,
    groups: Iterable[Group] | None = None,
    permissions: Iterable[Permission] | None = None,
) -> Any:
    """Give a user these groups and permissions (None leaves them as they are)."""
    groups = list(groups) if groups is not None else None
    permissions = list(permissions) if permissions is not None else None
    unchanged = (
        groups is None or {g.pk for g in groups} == set(user.groups.values_list("pk", flat=True))
    ) and (
        permissions is None
        or {p.pk for p in permissions} == set(user.user_permissions.values_list("pk", flat=True))
    )
    if unchanged:
        return user
    superuser_change_check(actor=actor, user=user)
    grants_check(actor=actor, user=user, groups=groups, permissions=permissions)
    if groups is not None:
        user.groups.set(groups)
    if permissions is not None:
        user.user_permissions.set(permissions)
    return user


@transaction.atomic
def group_save(*, actor: StaffActor, group: Group, name: str, permissions: Iterable[Permission]) -> Group:
    """Create or change a group: the permissions it gains must be the actor's own."""
    permissions = list(permissions)
    current = set(group.permissions.values_list("pk", flat=True)) if group.pk else set()
    permissions_grant_check(
        actor=actor, permissions=[permission for permission in permissions if permission.pk not in current]
    )
    group.name = name
    group.save()
    group.permissions.set(permissions)
    return group
