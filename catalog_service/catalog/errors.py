"""The writes the catalogue refuses, each with its status, code and message.

The service functions raise them; the API answers them through edge's exception handler
(``{"code": ..., "detail": ..., "field": ...}``), the admin shows them on the form, and the
CSV import on the row. ``field`` names the input at fault, as the API and the admin call it.
"""

from edge.exceptions import DomainError

# Reasons sent with stock.rejected.
REJECT_NO_ITEMS = "The order has no items."
REJECT_MALFORMED_ITEMS = "The order's items are malformed: each needs a product_id and a positive quantity."
REJECT_UNKNOWN_PRODUCTS = "Unknown or inactive products: {ids}."
REJECT_INSUFFICIENT_STOCK = "Insufficient stock."
REJECT_OVER_CUSTOMER_SHARE = (
    "Over one customer's share of the stock: the open orders of one customer may hold at most "
    "{percent}% of a product's units (at least {minimum})."
)


class DuplicateSku(DomainError):
    status_code = 409
    code = "duplicate_sku"
    message = "A product with this SKU already exists."
    field = "sku"


class DuplicateSlug(DomainError):
    status_code = 409
    code = "duplicate_slug"
    message = "This slug is already taken."
    field = "slug"


class CategoryCycle(DomainError):
    status_code = 409
    code = "category_cycle"
    message = "A category cannot be moved under itself or one of its descendants."
    field = "parent"


class InactiveCategory(DomainError):
    """A product or category may not move into a deactivated category (``field`` says which input)."""

    status_code = 409
    code = "inactive_category"
    message = "This category is not active."
    field = "category"


class StockBelowReserved(DomainError):
    status_code = 409
    code = "stock_below_reserved"
    message = "On hand cannot be less than the {reserved} unit(s) reserved for orders."
    field = "on_hand"


class PriceDropTooLarge(DomainError):
    status_code = 400
    code = "price_drop_too_large"
    message = "A price cannot fall by 100% or more."
    field = "percentage"
