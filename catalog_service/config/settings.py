"""Settings of the catalog service: the shared shape from edge, then the catalog's own."""

from pathlib import Path

import environ

from edge.settings import service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

_shared = service_settings(service="catalog", app="catalog", base_dir=BASE_DIR)
# Full-text search (SearchVector, GIN indexes), and CSV import/export in the admin.
_shared["INSTALLED_APPS"] += ["django.contrib.postgres", "import_export"]
globals().update(_shared)

env = environ.Env()

CATALOG_DEFAULT_CURRENCY = env.str("CATALOG_DEFAULT_CURRENCY", default="EUR")
# The most products one page of the API may hold; a larger ?page_size= is a 400.
CATALOG_MAX_PAGE_SIZE = 100
# Cached responses are keyed by a version that every write bumps, so they never go stale;
# the timeout only frees memory taken by versions nobody asks for any more.
CATALOG_CACHE_TIMEOUT = env.int("CATALOG_CACHE_TIMEOUT", default=300)
# Off only to measure what the cache saves (make bench).
CATALOG_CACHE_ENABLED = env.bool("CATALOG_CACHE_ENABLED", default=True)
# Where the gateway reads the cache version from, to key its own cache of public answers;
# empty when no gateway caches them (see catalog.cache).
CATALOG_CACHE_VERSION_FILE = env.str("CATALOG_CACHE_VERSION_FILE", default="")
# A product with this many units or fewer available shows under "low stock" in the admin.
CATALOG_LOW_STOCK_THRESHOLD = env.int("CATALOG_LOW_STOCK_THRESHOLD", default=5)
