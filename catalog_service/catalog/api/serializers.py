"""What the catalogue API accepts (input serializers validate) and what it answers."""

from rest_framework import serializers

from catalog.models import CURRENCY_CODE, Category, Product, Stock, StockMovement
from edge import json_fields


# --- output ------------------------------------------------------------------------------
class CategoryRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "slug", "name"]
        read_only_fields = fields


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "slug", "parent", "active", "created_at", "updated_at"]
        read_only_fields = fields


class CategoryNodeSerializer(serializers.Serializer):
    """A category of the tree (``category_tree``), its subcategories nested."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    slug = serializers.SlugField(read_only=True)
    # Not read-only, which the schema would list as always present: only staff get it.
    active = serializers.BooleanField(required=False, help_text="Staff only.")


# Declared after the class, as it nests itself.
CategoryNodeSerializer._declared_fields["children"] = CategoryNodeSerializer(many=True, read_only=True)


class StockSerializer(serializers.ModelSerializer):
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = Stock
        fields = ["on_hand", "reserved", "available", "updated_at"]
        read_only_fields = fields


class ProductSerializer(serializers.ModelSerializer):
    category = CategoryRefSerializer(read_only=True)
    in_stock = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "id",
            "sku",
            "name",
            "slug",
            "description",
            "price",
            "currency",
            "active",
            "category",
            "in_stock",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_in_stock(self, product: Product) -> bool:
        return product.stock.available > 0


class StaffProductSerializer(ProductSerializer):
    """Staff also see the numbers behind ``in_stock``."""

    stock = StockSerializer(read_only=True)

    class Meta(ProductSerializer.Meta):
        fields = [*ProductSerializer.Meta.fields, "stock"]
        read_only_fields = fields


class StockMovementSerializer(serializers.ModelSerializer):
    class Meta:
        model = StockMovement
        fields = [
            "id",
            "reason",
            "on_hand_delta",
            "reserved_delta",
            "order_id",
            "note",
            "actor_id",
            "created_at",
        ]
        read_only_fields = fields


# --- input -------------------------------------------------------------------------------
class ProductInputSerializer(serializers.Serializer):
    sku = json_fields.CharField(max_length=64)
    name = json_fields.CharField(max_length=200)
    slug = json_fields.SlugField(max_length=220, required=False)
    description = json_fields.CharField(required=False, allow_blank=True)
    category = json_fields.PrimaryKeyRelatedField(queryset=Category.objects.all())
    price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = json_fields.CharField(max_length=3, required=False, validators=[CURRENCY_CODE])
    active = json_fields.BooleanField(required=False)
    on_hand = json_fields.IntegerField(min_value=0, required=False, help_text="Units in stock to start with.")


class ProductUpdateInputSerializer(ProductInputSerializer):
    # Stock changes only through adjustments, which the ledger records with a reason.
    on_hand = None


class CategoryInputSerializer(serializers.Serializer):
    name = json_fields.CharField(max_length=120)
    slug = json_fields.SlugField(max_length=140, required=False)
    parent = json_fields.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )


class CategoryUpdateInputSerializer(CategoryInputSerializer):
    active = json_fields.BooleanField(required=False)


class StockAdjustInputSerializer(serializers.Serializer):
    on_hand = json_fields.IntegerField(min_value=0, help_text="The units now on hand, as counted.")
    reason = json_fields.CharField(max_length=200, help_text="Why: a stocktake, a delivery, damage...")
