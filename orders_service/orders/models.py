"""Orders, their items and history, and orders' own copy of catalog prices."""

from decimal import Decimal

from django.db import models


class PriceListEntry(models.Model):
    """The catalog's price of a product, as the last ``product.changed`` told it.

    Orders prices from this copy, so it takes orders while the catalog is down.
    """

    product_id = models.BigIntegerField(primary_key=True)
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    price = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    active = models.BooleanField(default=True)
    # When the catalog made the change: an older event arriving late must not win.
    changed_at = models.DateTimeField()

    class Meta:
        verbose_name_plural = "price list"
        ordering = ["product_id"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name} {self.price} {self.currency}"


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        CONFIRMED = "confirmed", "Confirmed"
        REJECTED = "rejected", "Rejected"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"

    # The life cycle: which status may follow which. Anything else is refused with 409.
    TRANSITIONS: dict[str, frozenset[str]] = {
        Status.PENDING: frozenset({Status.CONFIRMED, Status.REJECTED, Status.CANCELLED}),
        Status.CONFIRMED: frozenset({Status.SHIPPED, Status.CANCELLED}),
        Status.SHIPPED: frozenset({Status.DELIVERED}),
        Status.REJECTED: frozenset(),
        Status.DELIVERED: frozenset(),
        Status.CANCELLED: frozenset(),
    }

    customer_id = models.BigIntegerField(db_index=True)
    customer_email = models.EmailField(db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    currency = models.CharField(max_length=3)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Order {self.pk} ({self.status})"

    def can_transition_to(self, status: str) -> bool:
        return status in self.TRANSITIONS[self.status]


class OrderItem(models.Model):
    order = models.ForeignKey(Order, related_name="items", on_delete=models.CASCADE)
    product_id = models.BigIntegerField()
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product_id"], name="one_line_per_product"),
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="item_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


class OrderTransition(models.Model):
    """One step of an order's history: when, who, why."""

    class ActorKind(models.TextChoices):
        CUSTOMER = "customer", "Customer"
        STAFF = "staff", "Staff"
        SYSTEM = "system", "System"

    order = models.ForeignKey(Order, related_name="history", on_delete=models.CASCADE)
    from_status = models.CharField(max_length=16, choices=Order.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Order.Status.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_id = models.BigIntegerField(null=True, blank=True)
    actor_label = models.CharField(max_length=254)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status} by {self.actor_label}"
