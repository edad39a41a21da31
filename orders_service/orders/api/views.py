"""The orders API: place (idempotently), list and read, and move an order along its life cycle."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from edge.idempotency.decorators import idempotent
from edge.permissions import StaffWithModelPermission
from edge.schema import ErrorSerializer
from orders.api.filters import OrderFilter
from orders.api.permissions import OwnOrderOrMayChangeOrders
from orders.api.serializers import (
    CancelSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    order_representation,
    order_serializer_class_for,
)
from orders.models import Order
from orders.selectors import order_lines_read, order_list_for, orders_visible_to
from orders.services import Actor, order_cancel, order_deliver, order_place, order_ship

# The actions that move an order along its life cycle.
MOVES = frozenset({"cancel", "ship", "deliver"})


class OrderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = OrderSerializer
    filterset_class = OrderFilter

    def get_queryset(self) -> QuerySet[Order]:
        # A move locks and reads the order again, then its items and history (_moved): the
        # order it finds needs none of them.
        if self.action in MOVES:
            return orders_visible_to(user=self.request.user)
        return order_list_for(user=self.request.user)

    def get_serializer_class(self) -> type[OrderSerializer]:
        return order_serializer_class_for(user=self.request.user)

    # 409: a request with this key is still running; 422: the key was used with another body;
    # 429: the gateway limits how often one customer places orders.
    @extend_schema(
        request=OrderCreateSerializer,
        responses={201: OrderSerializer, 409: ErrorSerializer, 422: ErrorSerializer, 429: ErrorSerializer},
    )
    @idempotent
    def create(self, request: Request) -> Response:
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_place(
            customer=request.user,
            items=serializer.validated_data["items"],
            prices=serializer.validated_data["prices"],
        )
        return Response(order_representation(order, user=request.user), status=status.HTTP_201_CREATED)

    # 409: the order's status does not allow the move.
    @extend_schema(request=CancelSerializer, responses={200: OrderSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"], permission_classes=[OwnOrderOrMayChangeOrders])
    def cancel(self, request: Request, pk: str) -> Response:
        serializer = CancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = order_cancel(
            order=self.get_object(),
            actor=Actor.for_user(request.user),
            reason=serializer.validated_data["reason"],
        )
        return Response(self._moved(order))

    @extend_schema(request=None, responses={200: OrderSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"], permission_classes=[StaffWithModelPermission])
    def ship(self, request: Request, pk: str) -> Response:
        order = order_ship(order=self.get_object(), actor=Actor.for_user(request.user))
        return Response(self._moved(order))

    @extend_schema(request=None, responses={200: OrderSerializer, 409: ErrorSerializer})
    @action(detail=True, methods=["post"], permission_classes=[StaffWithModelPermission])
    def deliver(self, request: Request, pk: str) -> Response:
        order = order_deliver(order=self.get_object(), actor=Actor.for_user(request.user))
        return Response(self._moved(order))

    def _moved(self, order: Order) -> dict[str, Any]:
        """The answer to a move along the life cycle: the order with its history as it is now."""
        return order_representation(order_lines_read(order), user=self.request.user)
