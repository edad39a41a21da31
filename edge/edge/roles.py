"""Staff roles: granted once, in auth, carried in the access token, and turned into permissions by
each service from its own declaration.

The vocabulary is here, because auth and every service must name the same roles. What a role
gives in a service is that service's to say, in its own code: a module with
``ROLE_PERMISSIONS = {"catalog_editor": ["catalog.change_product", ...]}``, named by
``EDGE["ROLE_PERMISSIONS"]`` (``edge.checks`` holds each declaration to this vocabulary and to
the permissions its models have). ``edge.backends.RolePermissionBackend`` gives a staff member the permissions
of the roles in their token, on every request: a role granted or removed in auth takes effect in
every admin with the next token.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

from django.utils.module_loading import import_string

from edge.conf import edge_settings


@dataclass(frozen=True)
class Role:
    slug: str
    name: str
    description: str


ROLES: dict[str, Role] = {
    role.slug: role
    for role in [
        Role(
            "catalog_editor",
            "Catalog editor",
            "Keeps the catalogue: categories, products, prices and stock.",
        ),
        Role(
            "fulfilment",
            "Fulfilment",
            "Ships and delivers orders, and sees the stock and the emails that go with them.",
        ),
        Role(
            "support",
            "Support",
            "Answers customers: finds their accounts, orders and emails, and resends an email that failed.",
        ),
        Role(
            "user_admin",
            "User admin",
            "Manages accounts in auth: finds, activates and deactivates them, and grants the roles "
            "they hold themselves.",
        ),
    ]
}


@lru_cache(maxsize=4)
def _declaration(dotted_path: str) -> Mapping[str, Sequence[str]]:
    return import_string(dotted_path) if dotted_path else {}


def role_declaration() -> Mapping[str, Sequence[str]]:
    """This service's ``{role slug: ["app_label.codename", ...]}``; empty when it declares none."""
    return _declaration(edge_settings.ROLE_PERMISSIONS)


def role_permissions(roles: Iterable[str]) -> frozenset[str]:
    """The permissions ("app_label.codename") these roles give in this service."""
    declaration = role_declaration()
    return frozenset(permission for role in roles for permission in declaration.get(role, ()))
