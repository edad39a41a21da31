"""Settings of the orders service: the shared shape from edge, then the limits of an order."""

from pathlib import Path

import environ

from edge.service_table import service_named
from edge.settings import service_settings

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

globals().update(service_settings(service="orders", app="orders", base_dir=BASE_DIR))

ORDERS_MAX_QUANTITY = env.int("ORDERS_MAX_QUANTITY", default=100)
ORDERS_MAX_ITEMS = env.int("ORDERS_MAX_ITEMS", default=50)
# Where backfill_price_list reads the catalog's products (its public API).
CATALOG_API_URL = env.str(
    "CATALOG_API_URL", default=f"http://127.0.0.1:{service_named('catalog').port}/api/catalog/"
)
