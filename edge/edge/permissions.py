"""Who may call an API view, said once for every service.

The gateway already sends catalog writes through a staff-token check; each service checks
again, because it can be reached without the gateway.
"""

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.views import APIView


class IsStaff(BasePermission):
    """A verified token with the ``is_staff`` claim."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


class IsStaffOrReadOnly(IsStaff):
    """Anyone reads; staff write."""

    # The OpenAPI schema says the safe methods need no token (edge.schema.AutoSchema).
    reads_are_public = True

    def has_permission(self, request: Request, view: APIView) -> bool:
        return request.method in SAFE_METHODS or super().has_permission(request, view)
