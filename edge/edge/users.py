"""The local user that stands for a verified token in a service's admin."""

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser

from edge.conf import edge_settings
from edge.tokens import Claims


def user_for_claims(claims: Claims) -> AbstractBaseUser | None:
    """The user for these claims: a shadow user kept in step with them, or auth's own user,
    holding the token's roles (``token_roles``).

    A shadow user takes the primary key of the auth user, so admin history names the
    same person in every service; it holds no permissions of its own, only its token's roles.
    """
    user = _user_for_claims(claims)
    if user is not None:
        # What edge.roles.RolePermissionBackend turns into this service's permissions.
        user.token_roles = claims.roles
    return user


def _user_for_claims(claims: Claims) -> AbstractBaseUser | None:
    user_model = get_user_model()
    if not edge_settings.SHADOW_USERS:
        return user_model._default_manager.filter(pk=claims.user_id, is_active=True).first()

    user, created = user_model._default_manager.get_or_create(
        pk=claims.user_id,
        defaults={
            user_model.USERNAME_FIELD: claims.email,
            "email": claims.email,
            "is_staff": claims.is_staff,
            "is_superuser": claims.is_superuser,
        },
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
        return user
    # Django's RemoteUserMiddleware syncs flags only at login; these follow every token.
    current = {
        user_model.USERNAME_FIELD: claims.email,
        "email": claims.email,
        "is_staff": claims.is_staff,
        "is_superuser": claims.is_superuser,
        "is_active": True,
    }
    changed = [field for field, value in current.items() if getattr(user, field) != value]
    if changed:
        for field in changed:
            setattr(user, field, current[field])
        user.save(update_fields=changed)
    return user
