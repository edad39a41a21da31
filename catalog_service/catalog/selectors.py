"""Reads of the catalogue: product lists, full-text search, the category tree."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Case, Count, F, FloatField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, TruncDate

from catalog.models import (
    SEARCH_CONFIG,
    Category,
    Product,
    Reservation,
    ReservationLine,
    Stock,
    StockMovement,
)

# A SKU typed in full is what the customer wants, ahead of any word match.
SKU_EXACT_RANK = 1.0
SKU_PREFIX_RANK = 0.5


def product_list(*, include_inactive: bool = False) -> QuerySet[Product]:
    """Products with their category and stock; the public sees only active ones."""
    products = Product.objects.select_related("category", "stock")
    return products if include_inactive else products.filter(active=True)


def _stock_levels() -> dict[str, Any]:
    """A product's units ``available`` and its low-stock ``threshold``, as query expressions."""
    return {
        "available": F("stock__on_hand") - F("stock__reserved"),
        "threshold": Coalesce("stock__low_stock_threshold", Value(settings.CATALOG_LOW_STOCK_THRESHOLD)),
    }


def _with_stock_levels(products: QuerySet[Product] | None) -> QuerySet[Product]:
    products = Product.objects.all() if products is None else products
    return products.alias(**_stock_levels())


def products_running_low(products: QuerySet[Product] | None = None) -> QuerySet[Product]:
    """Products with no more units available than their low-stock threshold (out of stock included)."""
    return _with_stock_levels(products).filter(available__lte=F("threshold"))


@dataclass(frozen=True)
class StockLevels:
    products: int
    # At or below their low-stock threshold, those out of stock included.
    running_low: int
    out_of_stock: int


def stock_levels(products: QuerySet[Product] | None = None) -> StockLevels:
    """How many products there are, how many run low and how many are out of stock: one query."""
    products = Product.objects.all() if products is None else products
    # Annotated, not aliased: an aggregate may only count over annotations.
    counts = products.annotate(**_stock_levels()).aggregate(
        products=Count("pk"),
        running_low=Count("pk", filter=Q(available__lte=F("threshold"))),
        out_of_stock=Count("pk", filter=Q(available__lte=0)),
    )
    return StockLevels(**counts)


def products_lowest_stock_first(products: QuerySet[Product] | None = None) -> QuerySet[Product]:
    """The products running low, the fewest units available first, with their stock."""
    return products_running_low(products).select_related("stock").order_by("available", "sku")


def low_stock_threshold_of(stock: Stock) -> int:
    """The units available at or below which staff are warned of ``stock``'s product."""
    if stock.low_stock_threshold is None:
        return settings.CATALOG_LOW_STOCK_THRESHOLD
    return stock.low_stock_threshold


def products_out_of_stock(products: QuerySet[Product] | None = None) -> QuerySet[Product]:
    products = Product.objects.all() if products is None else products
    return products.alias(available=F("stock__on_hand") - F("stock__reserved")).filter(available__lte=0)


def product_search(products: QuerySet[Product], *, term: str) -> QuerySet[Product]:
    """Products matching ``term`` in name, SKU or description, or by SKU prefix, best first.

    ``websearch`` reads the term as people type it: words, "quoted phrases", -exclusions.
    """
    term = term.strip()
    query = SearchQuery(term, search_type="websearch", config=SEARCH_CONFIG)
    sku_rank = Case(
        When(sku__iexact=term, then=Value(SKU_EXACT_RANK)),
        When(sku__istartswith=term, then=Value(SKU_PREFIX_RANK)),
        default=Value(0.0),
        output_field=FloatField(),
    )
    return (
        products.annotate(rank=SearchRank(F("search_vector"), query) + sku_rank)
        .filter(Q(search_vector=query) | Q(sku__istartswith=term))
        .order_by("-rank", "id")
    )


def category_descendant_ids(category_ids: Iterable[int]) -> set[int]:
    """The ids of every category below these (not the categories themselves).

    The tree is small: one query for all its edges, walked here, beats a query per level.
    """
    children = _children_by_parent(Category.objects.values_list("id", "parent_id"))
    found: set[int] = set()
    pending = list(category_ids)
    while pending:
        for child in children.get(pending.pop(), ()):
            if child not in found:
                found.add(child)
                pending.append(child)
    return found


def category_tree(*, include_inactive: bool = False) -> list[dict[str, Any]]:
    """The categories as nested dicts, roots first; an inactive category hides its subtree."""
    categories = list(Category.objects.order_by("name", "id"))
    if not include_inactive:
        categories = [category for category in categories if category.active]
    nodes = {
        category.pk: {
            "id": category.pk,
            "name": category.name,
            "slug": category.slug,
            **({"active": category.active} if include_inactive else {}),
            "children": [],
        }
        for category in categories
    }
    roots = []
    for category in categories:
        if category.parent_id is None:
            roots.append(nodes[category.pk])
        elif category.parent_id in nodes:
            nodes[category.parent_id]["children"].append(nodes[category.pk])
    return roots


def stock_movement_list(*, product: Product) -> QuerySet[StockMovement]:
    return StockMovement.objects.filter(product=product)


def stock_movements_latest() -> QuerySet[StockMovement]:
    """Every product's stock movements, the latest first, with their product."""
    return StockMovement.objects.select_related("product").order_by("-created_at", "-id")


def stock_movements_per_day(*, since: datetime) -> QuerySet[StockMovement, dict[str, Any]]:
    """How many stock movements of each reason were recorded each day since ``since``."""
    return (
        StockMovement.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day", "reason")
        .annotate(movements=Count("pk"))
        .order_by("day", "reason")
    )


def _children_by_parent(edges: Iterable[tuple[int, int | None]]) -> dict[int, list[int]]:
    children: dict[int, list[int]] = defaultdict(list)
    for category_id, parent_id in edges:
        if parent_id is not None:
            children[parent_id].append(category_id)
    return children


def units_held_by_customer(*, customer_id: int, product_ids: Iterable[int]) -> dict[int, int]:
    """Units of each of these products that the customer's open orders hold (active reservations:
    neither shipped, released nor rejected), by product id; a product held by none is absent."""
    held = (
        ReservationLine.objects.filter(
            reservation__customer_id=customer_id,
            reservation__status=Reservation.Status.ACTIVE,
            product_id__in=list(product_ids),
        )
        .values("product_id")
        .annotate(units=Sum("quantity"))
    )
    return {row["product_id"]: row["units"] for row in held}
