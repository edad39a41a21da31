"""CSV import and export of products (django-import-export), for the admin.

Rows are saved through ``catalog.services``, like every other write. The admin imports in
one transaction after a dry run: a file with a bad row is reported row by row (with its
line) and nothing of it is saved.
"""

from typing import Any

from import_export import fields, resources
from import_export.widgets import ForeignKeyWidget

from catalog import services
from catalog.cache import deferred_invalidation
from catalog.models import Category, Product
from edge.exceptions import DomainError

UNKNOWN_CATEGORY = "Unknown category: {slug!r}."

IMPORTED_FIELDS = ("sku", "name", "slug", "description", "category", "price", "currency", "active")


class CategoryWidget(ForeignKeyWidget):
    """A category by its slug; an unknown one makes the row invalid, naming the field."""

    def clean(self, value: Any, row: dict | None = None, **kwargs: Any) -> Category | None:
        try:
            return super().clean(value, row, **kwargs)
        except Category.DoesNotExist:
            # import-export turns a ValueError into a validation error of this field.
            raise ValueError(UNKNOWN_CATEGORY.format(slug=value)) from None


class ProductResource(resources.ModelResource):
    # The SKU identifies a row: an id in the file must never overwrite another product.
    id = fields.Field(attribute="id", column_name="id", readonly=True)
    category = fields.Field(
        attribute="category", column_name="category", widget=CategoryWidget(Category, field="slug")
    )
    # Stock changes only through adjustments with a reason: exported, never imported.
    on_hand = fields.Field(attribute="stock__on_hand", column_name="on_hand", readonly=True)
    reserved = fields.Field(attribute="stock__reserved", column_name="reserved", readonly=True)

    class Meta:
        model = Product
        fields = ("id", *IMPORTED_FIELDS, "on_hand", "reserved")
        export_order = fields
        import_id_fields = ("sku",)
        # Model validation (a negative price, a malformed currency) reports the row as invalid.
        clean_model_instances = True
        skip_unchanged = True
        report_skipped = False

    def get_queryset(self) -> Any:
        return Product.objects.select_related("category", "stock")

    def import_data_inner(self, *args: Any, **kwargs: Any) -> Any:
        # Inside the import's transaction: one cache bump after the last row, not one per row.
        with deferred_invalidation():
            return super().import_data_inner(*args, **kwargs)

    def do_instance_save(self, instance: Product, is_create: bool) -> None:
        values = {name: getattr(instance, name) for name in IMPORTED_FIELDS}
        try:
            if is_create:
                product = services.product_create(**values)
            else:
                product = services.product_update(product=Product.objects.get(pk=instance.pk), **values)
        except DomainError as error:
            # import-export reports a ValidationError on the row, naming the field.
            raise error.as_validation_error() from error
        instance.pk, instance.slug = product.pk, product.slug
