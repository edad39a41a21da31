"""Who may move an order through the API, beside edge.permissions."""

from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.views import APIView

from orders.models import Order


class OwnOrderOrMayChangeOrders(IsAuthenticated):
    """A customer moves their own order (staff too, when it is theirs); anyone else's needs the
    permission to change orders that a role gives (fulfilment)."""

    def has_object_permission(self, request: Request, view: APIView, obj: Order) -> bool:
        return obj.customer_id == request.user.id or request.user.has_perm("orders.change_order")
