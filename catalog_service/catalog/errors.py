"""The writes the catalogue refuses, and the messages it refuses them with.

Each error names the input field at fault, so edge's one exception handler answers a 400
with field errors, like a serializer's.
"""

from typing import Any

from edge.exceptions import DomainError

DUPLICATE_SKU = "A product with this SKU already exists."
DUPLICATE_SLUG = "This slug is already taken."
CATEGORY_CYCLE = "A category cannot be moved under itself or one of its descendants."
INACTIVE_CATEGORY = "This category is not active."
BELOW_RESERVED = "On hand cannot be less than the {reserved} unit(s) reserved for orders."
BAD_PERCENTAGE = "A price cannot fall by 100% or more."

# Reasons sent with stock.rejected.
REJECT_NO_ITEMS = "The order has no items."
REJECT_MALFORMED_ITEMS = "The order's items are malformed: each needs a product_id and a positive quantity."
REJECT_UNKNOWN_PRODUCTS = "Unknown or inactive products: {ids}."
REJECT_INSUFFICIENT_STOCK = "Insufficient stock."


class CatalogError(DomainError):
    """A write the catalogue refuses; ``field`` names the input at fault."""

    def __init__(self, message: str, *, field: str = "non_field_errors") -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def payload(self) -> dict[str, Any]:
        return {self.field: [self.message]}
