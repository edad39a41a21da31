"""``manage.py load_demo_catalog``: a demo catalogue of some three hundred products in a category tree.

Deterministic and idempotent: the same categories, products, prices and stock every time;
a second run adds only what is missing (by slug and SKU) and never touches what is there,
so stock that orders have reserved since stays as it is.

Each new product is announced with ``product.changed`` like any other, because orders
prices items from those events; a few hundred small messages are nothing to the queue.
Rows are written in bulk, so the command takes about a second.
"""

import random
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.db.models.functions import Upper
from django.utils.text import slugify

from catalog.cache import cache_invalidate
from catalog.models import Category, Product, Stock, StockMovement
from catalog.services import product_changed
from edge.messaging.services import publish

# department -> category -> (subcategories); the leaves hold the products, named by their noun.
TREE: dict[str, dict[str, dict[str, str]]] = {
    "Tea & Coffee": {
        "Tea": {"Green tea": "green tea", "Black tea": "black tea", "Herbal tea": "herbal infusion"},
        "Coffee": {"Coffee beans": "coffee beans", "Ground coffee": "ground coffee"},
    },
    "Kitchen": {
        "Cookware": {"Pans": "frying pan", "Pots": "stock pot"},
        "Knives": {"Chef knives": "chef knife", "Paring knives": "paring knife"},
        "Tableware": {"Mugs": "mug", "Plates": "plate"},
    },
    "Books": {
        "Fiction": {"Novels": "novel", "Short stories": "story collection"},
        "Non-fiction": {"Cookbooks": "cookbook", "Travel guides": "travel guide"},
    },
    "Electronics": {
        "Audio": {"Headphones": "headphones", "Speakers": "speaker"},
        "Computers": {"Laptops": "laptop", "Keyboards": "keyboard"},
    },
    "Garden": {
        "Tools": {"Spades": "spade", "Pruners": "pruning shears"},
        "Seeds": {"Vegetable seeds": "vegetable seed mix", "Flower seeds": "flower seed mix"},
    },
    "Sports": {
        "Running": {"Running shoes": "running shoe", "Running shirts": "running shirt"},
        "Yoga": {"Yoga mats": "yoga mat", "Yoga blocks": "yoga block"},
    },
}
STYLES = (
    "Classic",
    "Organic",
    "Premium",
    "Everyday",
    "Deluxe",
    "Compact",
    "Artisan",
    "Nordic",
    "Alpine",
    "Coastal",
    "Urban",
    "Heritage",
)
CURRENCY = "EUR"
NOTE = "Demo catalogue"


class Command(BaseCommand):
    help = __doc__

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        leaves = self._categories()
        created = self._products(leaves)
        if created:
            cache_invalidate()
        self.stdout.write(
            f"Demo catalogue: {Category.objects.count()} categories, {Product.objects.count()} products "
            f"({len(created)} new)."
        )

    def _categories(self) -> dict[Category, str]:
        """Every category of TREE, made when missing; the leaves with their product noun."""
        existing = {category.slug: category for category in Category.objects.all()}

        def ensure(name: str, parent: Category | None) -> Category:
            slug = slugify(name)
            if slug not in existing:
                existing[slug] = Category.objects.create(name=name, slug=slug, parent=parent)
            return existing[slug]

        leaves = {}
        for department, categories in TREE.items():
            root = ensure(department, None)
            for category_name, subcategories in categories.items():
                category = ensure(category_name, root)
                for leaf_name, noun in subcategories.items():
                    leaves[ensure(leaf_name, category)] = noun
        return leaves

    def _products(self, leaves: dict[Category, str]) -> list[Product]:
        taken_skus = set(Product.objects.values_list(Upper("sku"), flat=True))
        taken_slugs = set(Product.objects.values_list("slug", flat=True))
        wanted = [product for leaf, noun in leaves.items() for product in _demo_products(leaf, noun)]
        new = [
            product
            for product, _ in wanted
            if product.sku.upper() not in taken_skus and product.slug not in taken_slugs
        ]
        created = Product.objects.bulk_create(new)
        on_hand = {product.sku: units for product, units in wanted}
        Stock.objects.bulk_create(Stock(product=product, on_hand=on_hand[product.sku]) for product in created)
        StockMovement.objects.bulk_create(
            StockMovement(
                product=product,
                reason=StockMovement.Reason.ADJUSTMENT,
                on_hand_delta=on_hand[product.sku],
                note=NOTE,
            )
            for product in created
            if on_hand[product.sku]
        )
        for product in created:
            publish(product_changed(product, "created"))
        return created


def _demo_products(leaf: Category, noun: str) -> list[tuple[Product, int]]:
    """The leaf's products with their units on hand, the same on every run."""
    products = []
    for number, style in enumerate(STYLES, start=1):
        sku = f"{leaf.slug.upper()}-{number:03d}"
        chance = random.Random(sku)  # noqa: S311 (demo data, not secrets)
        name = f"{style} {noun}"
        # Mostly well stocked, some running low, a few sold out: the filters have something to show.
        units = chance.choice([0, 2, 4, *range(10, 120, 10)])
        products.append(
            (
                Product(
                    sku=sku,
                    name=name,
                    slug=slugify(name),
                    description=f"{name.capitalize()} from our {leaf.name.lower()} range. "
                    f"{chance.choice(['Made to last.', 'A customer favourite.', 'New this season.'])}",
                    category=leaf,
                    price=Decimal(chance.randrange(199, 24999)) / 100,
                    currency=CURRENCY,
                ),
                units,
            )
        )
    return products
