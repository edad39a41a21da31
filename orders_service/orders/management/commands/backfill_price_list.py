"""Fills orders' price list from the catalog's public API, for products no event has told of yet."""

import json
import urllib.request
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

from edge.events import ProductChanged
from orders.services import price_list_apply


class Command(BaseCommand):
    help = "Copy every product's price from the catalog API into the price list (newer events still win)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--catalog-url", default=settings.CATALOG_API_URL)

    def handle(self, *args: Any, catalog_url: str, **options: Any) -> None:
        # The catalog's answer is as of now; an event newer than this run still wins.
        as_of = datetime.now(UTC)
        url: str | None = urljoin(catalog_url, "products/?page_size=100")
        copied = 0
        while url:
            with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - a configured http(s) URL
                page = json.load(response)
            with transaction.atomic():
                for product in page["results"]:
                    price_list_apply(event=_as_event(product, as_of))
                    copied += 1
            url = page.get("next")
        self.stdout.write(f"Copied {copied} product price(s) from {catalog_url}")


def _as_event(product: dict[str, Any], as_of: datetime) -> ProductChanged:
    return ProductChanged(
        product_id=product["id"],
        sku=product["sku"],
        name=product["name"],
        price=str(product["price"]),
        currency=product["currency"],
        active=product.get("active", True),
        change="updated",
        occurred_at=as_of,
    )
