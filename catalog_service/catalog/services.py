"""Writes of the catalogue: categories, products, stock adjustments and order reservations.

Every write runs in one transaction with what it announces (``product.changed``,
``stock.reserved``/``stock.rejected`` through the outbox) and with ``cache_invalidate()``,
so neither consumers nor API readers ever see a change that rolled back, or miss one that
committed. Rows are locked in id order and the cache version last (one bump per write, at
its end), so concurrent writers never deadlock.

A stock move that takes a product out of stock, or to its low-stock threshold or below, raises a
staff alert (``edge.alerts``) as it crosses, and none while it stays there.

Cached answers show a product's stock only as ``in_stock``, so a stock move bumps the version
only when it takes a product in or out of stock: orders for a product with units to spare
neither empty everyone's cache nor queue up behind the version row.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Upper
from django.utils.text import slugify

from catalog import errors
from catalog.cache import cache_invalidate
from catalog.errors import (
    CategoryCycle,
    DuplicateSku,
    DuplicateSlug,
    InactiveCategory,
    PriceDropTooLarge,
    StockBelowReserved,
)
from catalog.models import Category, Product, Reservation, ReservationLine, Stock, StockLevel, StockMovement
from catalog.selectors import category_descendant_ids, units_held_by_customer
from edge.alerts import admin_link, staff_alert_raise
from edge.events import ProductChanged, StaffAlertKind, StockRejected, StockReserved
from edge.messaging.services import publish

CENT = Decimal("0.01")
# Changes to these fields are what orders' price list needs to hear about.
ANNOUNCED_FIELDS = ("sku", "name", "price", "currency", "active")
PRODUCT_FIELDS = ("sku", "name", "slug", "description", "category", "price", "currency", "active")


# --- categories --------------------------------------------------------------------------
@transaction.atomic
def category_create(*, name: str, slug: str = "", parent: Category | None = None) -> Category:
    if parent is not None and not parent.active:
        raise InactiveCategory(field="parent")
    category = Category(name=name, slug=slug or _free_slug(Category, name), parent=parent)
    _save_unique(category)
    cache_invalidate()
    return category


@transaction.atomic
def category_update(*, category: Category, **changes: Any) -> Category:
    """Change ``name``, ``slug``, ``parent`` or ``active``; deactivating hides the subtree."""
    parent = changes.get("parent", category.parent)
    if parent is not None and (
        parent.pk == category.pk or parent.pk in category_descendant_ids([category.pk])
    ):
        raise CategoryCycle
    if "parent" in changes and parent is not None and not parent.active:
        raise InactiveCategory(field="parent")
    deactivating = category.active and changes.get("active") is False
    for field, value in changes.items():
        setattr(category, field, value)
    _save_unique(category)
    if deactivating:
        _deactivate_subtree(category)
    cache_invalidate()
    return category


@transaction.atomic
def category_deactivate(*, category: Category) -> Category:
    """Hide the category and everything under it from the tree and the filters.

    Its products stay as they are: whether a product can be ordered is its own flag.
    """
    _deactivate_subtree(category)
    cache_invalidate()
    return category


def _deactivate_subtree(category: Category) -> None:
    Category.objects.filter(pk__in=category_descendant_ids([category.pk]) | {category.pk}).update(
        active=False
    )
    category.refresh_from_db()


# --- products ----------------------------------------------------------------------------
@transaction.atomic
def product_create(
    *,
    sku: str,
    name: str,
    category: Category,
    price: Decimal,
    currency: str = "",
    description: str = "",
    slug: str = "",
    active: bool = True,
    on_hand: int = 0,
    actor_id: int | None = None,
) -> Product:
    product = Product(
        sku=sku.strip(),
        name=name,
        slug=slug or _free_slug(Product, name),
        description=description,
        category=category,
        price=price,
        active=active,
    )
    if currency:
        product.currency = currency
    _check_product(product, new_category=True)
    _save_unique(product)
    stock = Stock.objects.create(product=product)
    if on_hand:
        _move(
            stock, StockMovement.Reason.ADJUSTMENT, on_hand=on_hand, note="Initial stock", actor_id=actor_id
        )
    publish(product_changed(product, "created"))
    cache_invalidate()
    return product


@transaction.atomic
def product_update(*, product: Product, **changes: Any) -> Product:
    """Change any of ``PRODUCT_FIELDS``; orders hears of a new SKU, name, price or active flag."""
    _product_change(product, changes)
    cache_invalidate()
    return product


def product_deactivate(*, product: Product) -> Product:
    return product_update(product=product, active=False)


@transaction.atomic
def product_bulk_set_active(*, products: Iterable[Product], active: bool) -> int:
    """Activate or deactivate many products at once; the number that changed."""
    changed = [product for product in _in_lock_order(products) if product.active != active]
    for product in changed:
        _product_change(product, {"active": active})
    cache_invalidate()
    return len(changed)


@transaction.atomic
def product_change_price_by_percentage(*, products: Iterable[Product], percentage: Decimal) -> int:
    """Raise (or, with a negative percentage, lower) each price; the number of products changed."""
    if percentage <= -100:
        raise PriceDropTooLarge
    factor = 1 + percentage / 100
    products = _in_lock_order(products)
    for product in products:
        _product_change(product, {"price": (product.price * factor).quantize(CENT, ROUND_HALF_UP)})
    cache_invalidate()
    return len(products)


def _product_change(product: Product, changes: dict[str, Any]) -> None:
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise TypeError(f"unexpected product fields: {sorted(unknown)}")
    before = {field: getattr(product, field) for field in ANNOUNCED_FIELDS}
    for field, value in changes.items():
        setattr(product, field, value)
    product.sku = product.sku.strip()
    # A product may stay in a category deactivated since; it may not move into one.
    _check_product(product, new_category="category" in changes)
    _save_unique(product)
    if any(getattr(product, field) != value for field, value in before.items()):
        change = "deactivated" if before["active"] and not product.active else "updated"
        publish(product_changed(product, change))


def _in_lock_order(products: Iterable[Product]) -> list[Product]:
    # Rows in id order, and the cache version (locked by cache_invalidate) always last:
    # two writers then never wait for each other in a circle.
    return sorted(products, key=lambda product: product.pk)


def _check_product(product: Product, *, new_category: bool) -> None:
    if new_category and not product.category.active:
        raise InactiveCategory
    duplicate = (
        Product.objects.annotate(upper_sku=Upper("sku"))
        .filter(upper_sku=product.sku.upper())
        .exclude(pk=product.pk)
    )
    if duplicate.exists():
        raise DuplicateSku


def product_changed(product: Product, change: str) -> ProductChanged:
    """The ``product.changed`` event for this product as it is now."""
    return ProductChanged(
        product_id=product.pk,
        sku=product.sku,
        name=product.name,
        price=str(product.price),
        currency=product.currency,
        active=product.active,
        change=change,
    )


# --- stock -------------------------------------------------------------------------------
@transaction.atomic
def stock_adjust(*, product: Product, on_hand: int, note: str, actor_id: int | None = None) -> Stock:
    """Set the units on hand after a count, a delivery or a loss; ``note`` says which."""
    stock = Stock.objects.select_for_update().get(product=product)
    if on_hand < stock.reserved:
        raise StockBelowReserved(reserved=stock.reserved)
    if on_hand != stock.on_hand:
        was_in_stock = _in_stock([stock])
        _move(
            stock,
            StockMovement.Reason.ADJUSTMENT,
            on_hand=on_hand - stock.on_hand,
            note=note,
            actor_id=actor_id,
        )
        _invalidate_if_changed(was_in_stock, [stock])
    return stock


def stock_set_low_threshold(*, product: Product, threshold: int | None) -> Stock:
    """How few available units make the product "running low"; None takes the shop's default."""
    stock = Stock.objects.get(product=product)
    stock.low_stock_threshold = threshold
    stock.save(update_fields=["low_stock_threshold", "updated_at"])
    return stock


@dataclass(frozen=True)
class Shortage:
    product_id: int
    requested: int
    available: int


# The handlers of orders' events run inside the inbox transaction (edge.messaging), which any
# failure rolls back whole: a savepoint of their own would cost two round trips for nothing.
@transaction.atomic(savepoint=False)
def stock_reserve_for_order(*, order_id: int, customer_id: int, items: list[dict[str, Any]]) -> Reservation:
    """Reserve every item of the order, or none; answers ``stock.reserved`` or ``stock.rejected``.

    Refused when the stock is short, or when the customer's open orders would hold more of a
    product than their share (``customer_share_limit``).

    A second call for the same order finds its reservation and does nothing: the order was
    answered the first time. (Should two run at once, the unique order id fails the second,
    whose retry finds the first's reservation.)
    """
    answered = Reservation.objects.filter(order_id=order_id).first()
    if answered is not None:
        return answered
    reservation = Reservation(order_id=order_id, customer_id=customer_id, status=Reservation.Status.ACTIVE)
    requested = _requested_quantities(items)
    if isinstance(requested, str):
        return _reject(reservation, requested)
    stocks = _locked_stocks(requested, active_only=True)
    unknown = sorted(set(requested) - {stock.product_id for stock in stocks})
    if unknown:
        return _reject(reservation, errors.REJECT_UNKNOWN_PRODUCTS.format(ids=", ".join(map(str, unknown))))
    shortages = [
        Shortage(stock.product_id, requested[stock.product_id], stock.available)
        for stock in stocks
        if stock.available < requested[stock.product_id]
    ]
    if shortages:
        return _reject(reservation, errors.REJECT_INSUFFICIENT_STOCK, shortages)
    # Read under the stock rows' locks, which every reservation of these products takes first:
    # two orders of one customer cannot both count the units held without the other's.
    over_share = _over_customer_share(customer_id, requested, stocks)
    if over_share:
        reason = errors.REJECT_OVER_CUSTOMER_SHARE.format(
            percent=settings.CATALOG_CUSTOMER_SHARE_PERCENT, minimum=settings.CATALOG_CUSTOMER_SHARE_MIN_UNITS
        )
        return _reject(reservation, reason, over_share)
    was_in_stock = _in_stock(stocks)
    for stock in stocks:
        _move(
            stock, StockMovement.Reason.RESERVATION, reserved=requested[stock.product_id], order_id=order_id
        )
    reservation.save()
    ReservationLine.objects.bulk_create(
        ReservationLine(reservation=reservation, product_id=product_id, quantity=quantity)
        for product_id, quantity in requested.items()
    )
    publish(StockReserved(order_id=order_id))
    _invalidate_if_changed(was_in_stock, stocks)
    return reservation


@transaction.atomic(savepoint=False)
def stock_release_for_order(*, order_id: int) -> Reservation:
    """Give an order's reserved units back, once, however often its cancellation arrives.

    A cancellation that overtakes its order leaves a released reservation behind, so the
    late ``order.placed`` reserves nothing.
    """
    reservation, created = Reservation.objects.select_for_update().get_or_create(
        order_id=order_id, defaults={"status": Reservation.Status.RELEASED}
    )
    if created or reservation.status != Reservation.Status.ACTIVE:
        return reservation
    lines = {line.product_id: line.quantity for line in reservation.lines.all()}
    stocks = _locked_stocks(lines)
    was_in_stock = _in_stock(stocks)
    for stock in stocks:
        _move(stock, StockMovement.Reason.RELEASE, reserved=-lines[stock.product_id], order_id=order_id)
    reservation.status = Reservation.Status.RELEASED
    reservation.save(update_fields=["status", "updated_at"])
    _invalidate_if_changed(was_in_stock, stocks)
    return reservation


@transaction.atomic(savepoint=False)
def stock_sell_for_order(*, order_id: int) -> Reservation | None:
    """An order left the warehouse: its reserved units leave the stock on hand, once."""
    reservation = Reservation.objects.select_for_update().filter(order_id=order_id).first()
    if reservation is None or reservation.status != Reservation.Status.ACTIVE:
        return reservation
    lines = {line.product_id: line.quantity for line in reservation.lines.all()}
    for stock in _locked_stocks(lines):
        quantity = lines[stock.product_id]
        _move(stock, StockMovement.Reason.SALE, on_hand=-quantity, reserved=-quantity, order_id=order_id)
    reservation.status = Reservation.Status.SOLD
    reservation.save(update_fields=["status", "updated_at"])
    # Units on hand and reserved fall together: what is available, all a reader sees, stays.
    return reservation


def customer_share_limit(on_hand: int) -> int:
    """The most units of a product with ``on_hand`` units that one customer's open orders may hold."""
    share = on_hand * settings.CATALOG_CUSTOMER_SHARE_PERCENT // 100
    return max(share, settings.CATALOG_CUSTOMER_SHARE_MIN_UNITS)


def _over_customer_share(customer_id: int, requested: dict[int, int], stocks: list[Stock]) -> list[Shortage]:
    """The items that would take the customer past their share, each with what is left to them."""
    held = units_held_by_customer(customer_id=customer_id, product_ids=requested)
    over = []
    for stock in stocks:
        left = customer_share_limit(stock.on_hand) - held.get(stock.product_id, 0)
        if requested[stock.product_id] > left:
            over.append(Shortage(stock.product_id, requested[stock.product_id], max(left, 0)))
    return over


def _requested_quantities(items: list[dict[str, Any]]) -> dict[int, int] | str:
    """Quantities by product id (an item named twice counts twice), or why they are unusable."""
    if not items:
        return errors.REJECT_NO_ITEMS
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return errors.REJECT_MALFORMED_ITEMS
    requested: dict[int, int] = {}
    for item in items:
        product_id, quantity = item.get("product_id"), item.get("quantity")
        # bool is an int in Python, and no order means True units.
        if not all(
            isinstance(value, int) and not isinstance(value, bool) for value in (product_id, quantity)
        ):
            return errors.REJECT_MALFORMED_ITEMS
        if quantity < 1:
            return errors.REJECT_MALFORMED_ITEMS
        requested[product_id] = requested.get(product_id, 0) + quantity
    return requested


def _locked_stocks(product_ids: Iterable[int], *, active_only: bool = False) -> list[Stock]:
    """The stock rows of these products, locked in product-id order (so no two writers deadlock)."""
    stocks = Stock.objects.select_for_update(of=("self",)).filter(product_id__in=list(product_ids))
    if active_only:
        stocks = stocks.filter(product__active=True)
    return list(stocks.order_by("product_id"))


def _in_stock(stocks: Iterable[Stock]) -> list[bool]:
    return [stock.available > 0 for stock in stocks]


def _invalidate_if_changed(was_in_stock: list[bool], stocks: Iterable[Stock]) -> None:
    """Bump the cache version when a product went in or out of stock, all a reader sees of it."""
    if _in_stock(stocks) != was_in_stock:
        cache_invalidate()


def _reject(reservation: Reservation, reason: str, shortages: Iterable[Shortage] = ()) -> Reservation:
    reservation.status = Reservation.Status.REJECTED
    reservation.reason = reason
    reservation.save()
    publish(
        StockRejected(
            order_id=reservation.order_id,
            reason=reason,
            shortages=[
                {"product_id": s.product_id, "requested": s.requested, "available": s.available}
                for s in shortages
            ],
        )
    )
    return reservation


def _move(
    stock: Stock,
    reason: str,
    *,
    on_hand: int = 0,
    reserved: int = 0,
    order_id: int | None = None,
    note: str = "",
    actor_id: int | None = None,
) -> StockMovement:
    """Change a (locked) stock row and write the ledger row that says why; alert staff when it
    takes the product to a worse level."""
    level_before = stock.level
    stock.on_hand += on_hand
    stock.reserved += reserved
    stock.save(update_fields=["on_hand", "reserved", "updated_at"])
    if stock.level > level_before:
        _stock_alert(stock)
    return StockMovement.objects.create(
        product_id=stock.product_id,
        reason=reason,
        on_hand_delta=on_hand,
        reserved_delta=reserved,
        order_id=order_id,
        note=note,
        actor_id=actor_id,
    )


def _stock_alert(stock: Stock) -> None:
    product = stock.product
    out = stock.level == StockLevel.OUT_OF_STOCK
    staff_alert_raise(
        kind=StaffAlertKind.OUT_OF_STOCK if out else StaffAlertKind.LOW_STOCK,
        subject=f"{'Out of stock' if out else 'Running low'}: {product.name} ({product.sku})",
        detail=(
            f"{stock.available} unit(s) available ({stock.on_hand} on hand, {stock.reserved} reserved); "
            f"running low at {stock.threshold} or fewer."
        ),
        object_type="product",
        object_id=product.pk,
        link=admin_link("admin:catalog_product_change", product.pk),
    )


# --- helpers -----------------------------------------------------------------------------
def _free_slug(model: type[Category] | type[Product], name: str) -> str:
    """A slug made from the name, numbered when taken (``green-tea``, ``green-tea-2``...)."""
    base = slugify(name)[:200] or model._meta.model_name
    taken = set(model.objects.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def _save_unique(instance: Category | Product) -> None:
    """Save; a unique SKU or slug taken by a concurrent write becomes a field error."""
    if type(instance).objects.filter(slug=instance.slug).exclude(pk=instance.pk).exists():
        raise DuplicateSlug
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise (DuplicateSku if "sku" in str(error) else DuplicateSlug)() from error
