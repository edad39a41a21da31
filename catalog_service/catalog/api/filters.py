"""Filters of the product list; a malformed value is a 400 that names the filter."""

from django import forms
from django.db.models import F, QuerySet
from django_filters import rest_framework as filters

from catalog.models import Category, Product
from catalog.selectors import category_descendant_ids, product_search
from edge.filters import StrictBooleanFilter

PRICE_RANGE_INVERTED = "price_min cannot be greater than price_max."


class ProductFilterForm(forms.Form):
    def clean(self) -> dict:
        data = super().clean()
        low, high = data.get("price_min"), data.get("price_max")
        if low is not None and high is not None and low > high:
            self.add_error("price_min", PRICE_RANGE_INVERTED)
        return data


class ProductFilter(filters.FilterSet):
    category = filters.ModelChoiceFilter(
        queryset=Category.objects.filter(active=True),
        to_field_name="slug",
        method="filter_category",
        help_text="A category's slug: its products and those of every category below it.",
    )
    price_min = filters.NumberFilter(field_name="price", lookup_expr="gte", min_value=0)
    price_max = filters.NumberFilter(field_name="price", lookup_expr="lte", min_value=0)
    in_stock = StrictBooleanFilter(
        method="filter_in_stock", help_text="Only products that can be ordered now."
    )
    search = filters.CharFilter(
        method="filter_search",
        max_length=200,
        help_text="Words in the name, SKU or description, or the start of a SKU; best matches first.",
    )
    # After ``search``: an explicit ordering wins over ranking.
    ordering = filters.OrderingFilter(
        fields=(("price", "price"), ("name", "name"), ("created_at", "created"), ("id", "id"))
    )

    class Meta:
        model = Product
        form = ProductFilterForm
        fields = ["category", "price_min", "price_max", "in_stock", "search"]

    def filter_category(self, queryset: QuerySet[Product], name: str, value: Category) -> QuerySet[Product]:
        return queryset.filter(category_id__in=category_descendant_ids([value.pk]) | {value.pk})

    def filter_in_stock(self, queryset: QuerySet[Product], name: str, value: bool) -> QuerySet[Product]:
        in_stock = {"stock__on_hand__gt": F("stock__reserved")}
        return queryset.filter(**in_stock) if value else queryset.exclude(**in_stock)

    def filter_search(self, queryset: QuerySet[Product], name: str, value: str) -> QuerySet[Product]:
        return product_search(queryset, term=value) if value.strip() else queryset


class StaffProductFilter(ProductFilter):
    active = StrictBooleanFilter(field_name="active")

    class Meta(ProductFilter.Meta):
        fields = [*ProductFilter.Meta.fields, "active"]
