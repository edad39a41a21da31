"""The catalogue in the admin: categories, products with their stock ledger, bulk actions, CSV.

Every change goes through ``catalog.services``, as the API's do: orders hear of new prices,
the ledger records stock changes, and cached API answers are invalidated.
"""

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from import_export.admin import ImportExportModelAdmin

from catalog import selectors, services
from catalog.cache import deferred_invalidation
from catalog.models import Category, Product, StockMovement
from catalog.resources import ProductResource
from edge.admin import ServiceSavingAdmin

STOCK_REASON_REQUIRED = "Say why the stock on hand changes."


@admin.register(Category)
class CategoryAdmin(ServiceSavingAdmin):
    fields = ["name", "slug", "parent", "active"]
    list_display = ["name", "slug", "parent", "active"]
    list_filter = ["active", ("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]

    def save_through_service(
        self, request: HttpRequest, obj: Category, form: forms.ModelForm, change: bool
    ) -> Category:
        if change:
            return services.category_update(
                category=Category.objects.get(pk=obj.pk),
                **{field: form.cleaned_data[field] for field in form.changed_data},
            )
        return services.category_create(name=obj.name, slug=obj.slug, parent=obj.parent)

    def has_delete_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        # Products and subcategories hang on a category: it is deactivated, not deleted.
        return False


class LowStockFilter(admin.SimpleListFilter):
    title = "stock"
    parameter_name = "stock"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [
            ("low", "Low (at or below its threshold)"),
            ("out", "Out of stock"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> QuerySet[Product]:
        if self.value() == "low":
            return selectors.products_running_low(queryset)
        if self.value() == "out":
            return selectors.products_out_of_stock(queryset)
        return queryset


class StockMovementInline(admin.TabularInline):
    """The ledger: read-only, newest first; stock changes through the product form's fields."""

    model = StockMovement
    fields = ["created_at", "reason", "on_hand_delta", "reserved_delta", "order_id", "note", "actor_id"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    extra = 0
    can_delete = False
    max_num = 0
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        return False


class ProductAdminForm(forms.ModelForm):
    on_hand = forms.IntegerField(min_value=0, required=False, help_text="Units on hand, as counted.")
    stock_reason = forms.CharField(
        max_length=200,
        required=False,
        help_text="Why the units on hand change (a delivery, a count, damage).",
    )
    low_stock_threshold = forms.IntegerField(
        min_value=0,
        required=False,
        help_text="Warn staff when this many units or fewer are available (empty: the shop's default).",
    )

    class Meta:
        model = Product
        fields = ["sku", "name", "slug", "category", "description", "price", "currency", "active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["on_hand"].initial = self.instance.stock.on_hand
            self.fields["low_stock_threshold"].initial = self.instance.stock.low_stock_threshold

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        # The API asks for the reason in its own input; the form only when the count changes.
        counted = "on_hand" in self.changed_data and data.get("on_hand") is not None
        if self.instance.pk and counted and not data.get("stock_reason"):
            self.add_error("stock_reason", STOCK_REASON_REQUIRED)
        return data


class PercentageForm(forms.Form):
    percentage = forms.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=Decimal("-99.99"),
        max_value=Decimal("1000"),
        help_text="10 raises every selected price by 10%; -10 lowers it by 10%.",
    )


@admin.register(Product)
class ProductAdmin(ServiceSavingAdmin, ImportExportModelAdmin):
    form = ProductAdminForm
    resource_classes = [ProductResource]
    list_display = [
        "sku",
        "name",
        "category",
        "price",
        "currency",
        "active",
        "on_hand",
        "reserved",
        "available",
    ]
    list_filter = ["active", ("category", admin.RelatedOnlyFieldListFilter), LowStockFilter]
    search_fields = ["sku", "name"]
    list_select_related = ["category", "stock"]
    autocomplete_fields = ["category"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["reserved", "available", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["sku", "name", "slug", "category", "description"]}),
        ("Price", {"fields": ["price", "currency", "active"]}),
        ("Stock", {"fields": ["on_hand", "stock_reason", "reserved", "available", "low_stock_threshold"]}),
        ("History", {"fields": ["created_at", "updated_at"]}),
    ]
    inlines = [StockMovementInline]
    actions = ["activate", "deactivate", "change_price"]

    @admin.display(ordering="stock__on_hand")
    def on_hand(self, product: Product) -> int:
        return product.stock.on_hand

    @admin.display(ordering="stock__reserved")
    def reserved(self, product: Product) -> int:
        return product.stock.reserved if product.pk else 0

    @admin.display()
    def available(self, product: Product) -> int:
        return product.stock.available if product.pk else 0

    def save_through_service(
        self, request: HttpRequest, obj: Product, form: ProductAdminForm, change: bool
    ) -> Product:
        data = form.cleaned_data
        # One transaction (the admin's): both writes bump the cache version once, last.
        with deferred_invalidation():
            if not change:
                product = services.product_create(
                    **{field: data[field] for field in ProductAdminForm.Meta.fields},
                    on_hand=data.get("on_hand") or 0,
                    actor_id=request.user.pk,
                )
                services.stock_set_low_threshold(product=product, threshold=data.get("low_stock_threshold"))
                return product
            fields = [field for field in ProductAdminForm.Meta.fields if field in form.changed_data]
            product = services.product_update(
                product=Product.objects.get(pk=obj.pk), **{field: data[field] for field in fields}
            )
            if "on_hand" in form.changed_data and data["on_hand"] is not None:
                services.stock_adjust(
                    product=product,
                    on_hand=data["on_hand"],
                    note=data["stock_reason"],
                    actor_id=request.user.pk,
                )
            if "low_stock_threshold" in form.changed_data:
                services.stock_set_low_threshold(product=product, threshold=data["low_stock_threshold"])
            return product

    def has_delete_permission(self, request: HttpRequest, obj: Product | None = None) -> bool:
        # Orders and the ledger name products: they are deactivated, not deleted.
        return False

    @admin.action(description="Activate selected products")
    def activate(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self.apply_to_all(
            request,
            lambda: services.product_bulk_set_active(
                products=queryset.select_related("category"), active=True
            ),
            done="{result} product(s) activated.",
        )

    @admin.action(description="Deactivate selected products")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        self.apply_to_all(
            request,
            lambda: services.product_bulk_set_active(
                products=queryset.select_related("category"), active=False
            ),
            done="{result} product(s) deactivated.",
        )

    @admin.action(description="Change price of selected products by a percentage")
    def change_price(self, request: HttpRequest, queryset: QuerySet[Product]) -> HttpResponse | None:
        form = PercentageForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            percentage = form.cleaned_data["percentage"]
            self.apply_to_all(
                request,
                lambda: services.product_change_price_by_percentage(
                    products=queryset.select_related("category"), percentage=percentage
                ),
                done=f"Prices of {{result}} product(s) changed by {percentage}%.",
            )
            return None
        return TemplateResponse(
            request,
            "admin/catalog/product/change_price.html",
            {
                **self.admin_site.each_context(request),
                "title": "Change prices by a percentage",
                "opts": self.model._meta,
                "form": form,
                "products": queryset,
                "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
                "select_across": request.POST.get("select_across", "0"),
                "action": "change_price",
            },
        )
