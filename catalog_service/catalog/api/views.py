"""The catalogue API: anyone reads (from the cache), staff write (through the services)."""

from collections.abc import Callable, Collection
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from catalog import services
from catalog.api import serializers
from catalog.api.filters import ProductFilter, StaffProductFilter
from catalog.api.pagination import CappedPageNumberPagination
from catalog.cache import cached
from catalog.models import Category, Product
from catalog.selectors import category_tree, product_list, stock_movement_list
from edge.permissions import IsStaff, StaffWithModelPermission, StaffWithModelPermissionOrReadOnly
from edge.schema import ErrorSerializer

CACHE_HEADER = "X-Cache"
QUERY_REWRITTEN_HEADER = "X-Catalog-Query-Rewritten"
# What the public product list reads of its query: the filters and the page. Nothing else makes
# a cache entry of its own (catalog.cache.cached).
PRODUCT_LIST_PARAMETERS = (
    *ProductFilter.base_filters,
    CappedPageNumberPagination.page_query_param,
    CappedPageNumberPagination.page_size_query_param,
)


class ProductViewSet(viewsets.GenericViewSet):
    """Products: list with filters, search and ordering; detail by id or slug; staff writes."""

    permission_classes = [StaffWithModelPermissionOrReadOnly]
    pagination_class = CappedPageNumberPagination
    lookup_value_regex = r"[0-9]+"

    @property
    def is_staff(self) -> bool:
        return bool(self.request and self.request.user.is_staff)

    @property
    def filterset_class(self) -> type[ProductFilter]:
        return StaffProductFilter if self.is_staff else ProductFilter

    def get_queryset(self) -> QuerySet[Product]:
        return product_list(include_inactive=self.is_staff)

    def get_serializer_class(self) -> type[BaseSerializer]:
        return serializers.StaffProductSerializer if self.is_staff else serializers.ProductSerializer

    def list(self, request: Request) -> Response:
        def build() -> dict[str, Any]:
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
            return self.get_paginated_response(self.get_serializer(page, many=True).data).data

        return _cached_response(request, "products", build, parameters=PRODUCT_LIST_PARAMETERS)

    def retrieve(self, request: Request, pk: str) -> Response:
        return _cached_response(
            request,
            "product",
            lambda: self.get_serializer(get_object_or_404(self.get_queryset(), pk=pk)).data,
        )

    @action(detail=False, url_path=r"slug/(?P<slug>[-\w]+)")
    def by_slug(self, request: Request, slug: str) -> Response:
        return _cached_response(
            request,
            "product",
            lambda: self.get_serializer(get_object_or_404(self.get_queryset(), slug=slug)).data,
        )

    @extend_schema(
        request=serializers.ProductInputSerializer,
        responses={201: serializers.StaffProductSerializer, 409: ErrorSerializer},
    )
    def create(self, request: Request) -> Response:
        data = _valid(serializers.ProductInputSerializer, request)
        product = services.product_create(**data, actor_id=request.user.id)
        return Response(self._staff_view(product), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.ProductUpdateInputSerializer,
        responses={200: serializers.StaffProductSerializer, 409: ErrorSerializer},
    )
    def update(self, request: Request, pk: str) -> Response:
        data = _valid(serializers.ProductUpdateInputSerializer, request, partial=request.method == "PATCH")
        product = services.product_update(product=self.get_object(), **data)
        return Response(self._staff_view(product))

    partial_update = update

    @extend_schema(request=None, responses=serializers.StaffProductSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str) -> Response:
        product = services.product_deactivate(product=self.get_object())
        return Response(self._staff_view(product))

    @extend_schema(methods=["get"], responses=serializers.StockSerializer)
    @extend_schema(
        methods=["post"],
        request=serializers.StockAdjustInputSerializer,
        responses={200: serializers.StockSerializer, 409: ErrorSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        # Setting the units on hand changes the product, as its admin page does.
        permission_classes=[StaffWithModelPermission],
        serializer_class=serializers.StockSerializer,
    )
    def stock(self, request: Request, pk: str) -> Response:
        """The product's stock; POST sets the units on hand, with the reason."""
        product = self.get_object()
        if request.method == "POST":
            data = _valid(serializers.StockAdjustInputSerializer, request)
            services.stock_adjust(
                product=product, on_hand=data["on_hand"], note=data["reason"], actor_id=request.user.id
            )
        product.stock.refresh_from_db()
        return Response(serializers.StockSerializer(product.stock).data)

    @extend_schema(responses=serializers.StockMovementSerializer(many=True))
    @action(detail=True, permission_classes=[IsStaff], serializer_class=serializers.StockMovementSerializer)
    def movements(self, request: Request, pk: str) -> Response:
        """The stock ledger of the product, newest first."""
        page = self.paginate_queryset(stock_movement_list(product=self.get_object()))
        return self.get_paginated_response(serializers.StockMovementSerializer(page, many=True).data)

    def _staff_view(self, product: Product) -> dict[str, Any]:
        return serializers.StaffProductSerializer(product_list(include_inactive=True).get(pk=product.pk)).data


class CategoryViewSet(viewsets.GenericViewSet):
    """The category tree; staff create, move, rename and deactivate categories."""

    permission_classes = [StaffWithModelPermissionOrReadOnly]
    serializer_class = serializers.CategorySerializer
    pagination_class = None
    filter_backends = []
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Category]:
        categories = Category.objects.all()
        return categories if self.request.user.is_staff else categories.filter(active=True)

    @extend_schema(responses=serializers.CategoryNodeSerializer(many=True))
    def list(self, request: Request) -> Response:
        """The whole tree, nested: each category with its ``children``."""
        return _cached_response(
            request, "categories", lambda: category_tree(include_inactive=request.user.is_staff)
        )

    def retrieve(self, request: Request, pk: str) -> Response:
        return _cached_response(
            request,
            "category",
            lambda: self.get_serializer(get_object_or_404(self.get_queryset(), pk=pk)).data,
        )

    @extend_schema(
        request=serializers.CategoryInputSerializer,
        responses={201: serializers.CategorySerializer, 409: ErrorSerializer},
    )
    def create(self, request: Request) -> Response:
        data = _valid(serializers.CategoryInputSerializer, request)
        category = services.category_create(**data)
        return Response(self.get_serializer(category).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=serializers.CategoryUpdateInputSerializer,
        responses={200: serializers.CategorySerializer, 409: ErrorSerializer},
    )
    def update(self, request: Request, pk: str) -> Response:
        data = _valid(serializers.CategoryUpdateInputSerializer, request, partial=request.method == "PATCH")
        category = services.category_update(category=self.get_object(), **data)
        return Response(self.get_serializer(category).data)

    partial_update = update

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, pk: str) -> Response:
        category = services.category_deactivate(category=self.get_object())
        return Response(self.get_serializer(category).data)


def _valid(
    serializer_class: type[BaseSerializer], request: Request, *, partial: bool = False
) -> dict[str, Any]:
    serializer = serializer_class(data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _cached_response(
    request: Request, scope: str, build: Callable[[], Any], *, parameters: Collection[str] = ()
) -> Response:
    answer = cached(request, scope=scope, build=build, parameters=parameters)
    headers = {CACHE_HEADER: answer.state}
    if answer.query_rewritten:
        # The gateway keeps no copy of an answer to a query that is not its key's (gateway.conf).
        headers[QUERY_REWRITTEN_HEADER] = "1"
    return Response(answer.answer, headers=headers)
