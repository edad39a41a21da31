"""The catalogue: a category tree, products with prices, their stock, its ledger, and reservations.

Stock keeps two numbers: ``on_hand`` (units in the warehouse) and ``reserved`` (units promised
to orders not yet shipped); what can be sold is the difference. Every change of either goes
through a ``StockMovement`` row, so the ledger's sums are always the current numbers.
"""

from enum import IntEnum

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Upper

from catalog.errors import DuplicateSku

CURRENCY_CODE = RegexValidator(r"^[A-Z]{3}$", "Enter a three-letter ISO 4217 code, e.g. EUR.")
SEARCH_CONFIG = "english"


def default_currency() -> str:
    return settings.CATALOG_DEFAULT_CURRENCY


class Category(models.Model):
    name = models.CharField(max_length=120)
    # Made from the name when left empty (see catalog.services).
    slug = models.SlugField(max_length=140, unique=True, blank=True)
    # PROTECT: a category with children or products is deactivated, never deleted under them.
    parent = models.ForeignKey(
        "self", null=True, blank=True, related_name="children", on_delete=models.PROTECT
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=220, unique=True, blank=True)
    description = models.TextField(blank=True)
    category = models.ForeignKey(Category, related_name="products", on_delete=models.PROTECT)
    price = models.DecimalField(max_digits=12, decimal_places=2, validators=[MinValueValidator(0)])
    currency = models.CharField(max_length=3, default=default_currency, validators=[CURRENCY_CODE])
    active = models.BooleanField(default=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Kept by Postgres itself, so no write path can forget it; the GIN index below serves ?search=.
    search_vector = models.GeneratedField(
        expression=SearchVector("name", weight="A", config=SEARCH_CONFIG)
        + SearchVector("sku", weight="A", config=SEARCH_CONFIG)
        + SearchVector("description", weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
        editable=False,
    )

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # SKUs are compared case-insensitively: "tea-001" and "TEA-001" are one product.
            models.UniqueConstraint(
                Upper("sku"), name="catalog_product_sku_unique", violation_error_message=DuplicateSku.message
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="catalog_product_price_not_negative"),
        ]
        indexes = [
            GinIndex(fields=["search_vector"], name="catalog_product_search"),
            models.Index(fields=["price"], name="catalog_product_price"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.sku})"


class StockLevel(IntEnum):
    """How a product's stock stands for staff, worse as it rises: an alert goes out as it rises."""

    IN_STOCK = 0
    RUNNING_LOW = 1
    OUT_OF_STOCK = 2


class Stock(models.Model):
    product = models.OneToOneField(Product, primary_key=True, related_name="stock", on_delete=models.CASCADE)
    on_hand = models.PositiveIntegerField(default=0)
    reserved = models.PositiveIntegerField(default=0)
    # Staff are warned when the units available fall to this; empty takes CATALOG_LOW_STOCK_THRESHOLD.
    low_stock_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Warn staff when this many units or fewer are available (empty: the shop's default).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            # The last line of defence against overselling, should a code path skip the lock.
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="catalog_stock_reserved_le_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.on_hand} on hand, {self.reserved} reserved"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved

    @property
    def threshold(self) -> int:
        """The low-stock threshold that applies: its own, else the shop's default."""
        if self.low_stock_threshold is None:
            return settings.CATALOG_LOW_STOCK_THRESHOLD
        return self.low_stock_threshold

    @property
    def level(self) -> StockLevel:
        """As ``catalog.selectors.products_running_low`` and ``products_out_of_stock`` count it."""
        if self.available <= 0:
            return StockLevel.OUT_OF_STOCK
        if self.available <= self.threshold:
            return StockLevel.RUNNING_LOW
        return StockLevel.IN_STOCK


class StockMovement(models.Model):
    """One change of a product's stock; the sums of the deltas are the stock's numbers."""

    class Reason(models.TextChoices):
        ADJUSTMENT = "adjustment", "Adjustment"
        RESERVATION = "reservation", "Reservation"
        RELEASE = "release", "Release"
        SALE = "sale", "Sale"

    product = models.ForeignKey(Product, related_name="movements", on_delete=models.CASCADE)
    reason = models.CharField(max_length=16, choices=Reason.choices)
    on_hand_delta = models.IntegerField(default=0)
    reserved_delta = models.IntegerField(default=0)
    order_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    note = models.CharField(max_length=200, blank=True)
    # Who did it: a staff user's id for adjustments; empty for changes driven by events.
    actor_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} of {self.product_id}: {self.on_hand_delta:+}/{self.reserved_delta:+}"


class Reservation(models.Model):
    """The stock held for one order; its status makes a repeated event a no-op."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        # The order was rejected for want of stock: nothing is held.
        REJECTED = "rejected", "Rejected"
        RELEASED = "released", "Released"
        SOLD = "sold", "Sold"

    order_id = models.BigIntegerField(unique=True)
    # Whose order it is: what a customer holds is capped (catalog.services). Empty on a
    # cancellation that came before its order, which holds nothing.
    customer_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, db_index=True)
    reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"order {self.order_id}: {self.status}"


class ReservationLine(models.Model):
    reservation = models.ForeignKey(Reservation, related_name="lines", on_delete=models.CASCADE)
    product = models.ForeignKey(Product, related_name="reservation_lines", on_delete=models.PROTECT)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["reservation", "product"], name="catalog_reservation_line_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of {self.product_id}"


class CacheVersion(models.Model):
    """The version of the cached API responses, bumped in the transaction of every write.

    It lives in Postgres, not Redis, so that it commits atomically with the data: a reader
    that sees the new version sees the new data, and no response cached from old data can
    ever be found under it (see ``catalog.cache``).
    """

    name = models.CharField(max_length=32, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name} v{self.value}"
