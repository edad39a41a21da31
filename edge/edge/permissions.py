"""Who may call an API view, said once for every service.

The gateway already sends catalog writes through a staff-token check; each service checks
again, because it can be reached without the gateway. A staff member's writes need more than
being staff: the permission their roles give (edge.roles, edge.backends), as in the admin.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView

# The model permission a write asks, by the view's action; any other write changes the object.
ACTION_VERBS = {"create": "add", "destroy": "delete"}


class IsStaff(BasePermission):
    """A verified token with the ``is_staff`` claim."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class StaffWithModelPermission(IsStaff):
    """Staff read; a write needs the permission on the view's model that its action asks:
    ``add_<model>`` to create, ``delete_<model>`` to destroy, ``change_<model>`` for any other
    (an update, or an action such as shipping an order)."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if not super().has_permission(request, view):
            return False
        if request.method in SAFE_METHODS:
            return True
        options = view.get_queryset().model._meta
        verb = ACTION_VERBS.get(getattr(view, "action", None), "change")
        return request.user.has_perm(f"{options.app_label}.{verb}_{options.model_name}")


class StaffWithModelPermissionOrReadOnly(StaffWithModelPermission):
    """Anyone reads; a write needs the model permission of StaffWithModelPermission."""

    # The OpenAPI schema says the safe methods need no token (edge.schema.AutoSchema).
    reads_are_public = True

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method in SAFE_METHODS or super().has_permission(request, view)
