"""The orders admin: find an order, see its items and history, ship, deliver or cancel it."""

from collections.abc import Callable

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from edge.admin import ServiceAdmin
from orders.models import Order, OrderItem, OrderTransition, PriceListEntry
from orders.services import Actor, order_cancel, order_deliver, order_ship


class OrderItemInline(admin.TabularInline):
    model = OrderItem
    extra = 0
    can_delete = False
    readonly_fields = ["product_id", "sku", "name", "unit_price", "quantity", "line_total"]

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


class OrderTransitionInline(admin.TabularInline):
    model = OrderTransition
    extra = 0
    can_delete = False
    readonly_fields = ["at", "from_status", "to_status", "actor_kind", "actor_label", "reason"]
    verbose_name_plural = "history"

    def has_add_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(ServiceAdmin):
    list_display = ["id", "customer_email", "status", "total", "currency", "created_at"]
    list_filter = ["status", "created_at", "currency"]
    search_fields = ["=id", "customer_email"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "customer_id",
        "customer_email",
        "status",
        "total",
        "currency",
        "created_at",
        "updated_at",
    ]
    inlines = [OrderItemInline, OrderTransitionInline]
    actions = ["ship", "deliver", "cancel"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def _apply(
        self, request: HttpRequest, queryset: QuerySet[Order], change: Callable[..., Order], verb: str
    ) -> None:
        actor = Actor.for_user(request.user)
        self.apply_to_each(
            request,
            queryset,
            lambda order: change(order=order, actor=actor),
            done=f"{{count}} order(s) {verb}.",
        )

    @admin.action(description="Ship selected orders", permissions=["change"])
    def ship(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, order_ship, "shipped")

    @admin.action(description="Mark selected orders delivered", permissions=["change"])
    def deliver(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, order_deliver, "delivered")

    @admin.action(description="Cancel selected orders", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._apply(request, queryset, order_cancel, "cancelled")


@admin.register(PriceListEntry)
class PriceListEntryAdmin(admin.ModelAdmin):
    list_display = ["product_id", "sku", "name", "price", "currency", "active", "changed_at"]
    list_filter = ["active", "currency"]
    search_fields = ["=product_id", "sku", "name"]
    readonly_fields = ["product_id", "sku", "name", "price", "currency", "active", "changed_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
