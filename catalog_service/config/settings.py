"""Settings of the catalog service: edge's shared base, then what is the catalog's own."""

from pathlib import Path

from django.utils.csp import CSP

from edge.logging import logging_config
from edge.settings.base import *  # noqa: F403  the settings every service shares
from edge.settings.base import CACHES, EDGE, INSTALLED_APPS, LOG_LEVEL, SECURE_CSP, SPECTACULAR_SETTINGS, env

# The service's name in the table of services (edge.service_table); edge.checks holds the
# settings below to it.
SERVICE_NAME = "catalog"
BASE_DIR = Path(__file__).resolve().parent.parent

# Its app, then full-text search (SearchVector, GIN indexes) and CSV import/export in the admin.
INSTALLED_APPS += ["catalog", "django.contrib.postgres", "import_export"]

# django-import-export's export page has an inline event handler ("Select all" runs
# onSelectToggleChange(event)) and two style attributes ("padding: 0;", "font-weight: bold;"):
# those, by their hashes, and no other inline script or style.
SECURE_CSP = {
    **SECURE_CSP,
    "script-src": [
        *SECURE_CSP["script-src"],
        CSP.UNSAFE_HASHES,
        "'sha256-wid4zL8fR53ZYy1ljOepzR77Dn6vWUUxuNnnWWBP3I8='",
    ],
    "style-src": [
        *SECURE_CSP["style-src"],
        CSP.UNSAFE_HASHES,
        "'sha256-mHgUAqxc8GPXM/QhzkHrHujcrQTU9fd6ZjWz+icxKcA='",
        "'sha256-+YWRMZ88jMyO7jVlBA52tZADiPobPIUA8LAWee68Fvs='",
    ],
}

# Four admin sites share one host: each keeps its own cookies and static path.
SESSION_COOKIE_NAME = "catalog_sessionid"
CSRF_COOKIE_NAME = "catalog_csrftoken"
STATIC_URL = "/static/catalog/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

CACHES["default"]["KEY_PREFIX"] = "catalog"
CELERY_TASK_DEFAULT_QUEUE = "catalog"
SPECTACULAR_SETTINGS["TITLE"] = "catalog service API"
LOGGING = logging_config(service="catalog", level=LOG_LEVEL)
EDGE = {
    **EDGE,
    # What each staff role of the token gives here (edge.roles).
    "ROLE_PERMISSIONS": "catalog.roles.ROLE_PERMISSIONS",
    # catalog signs the events it sends with its own key, and handles those it receives only
    # from their producers (edge.messaging.signing).
    "EVENT_SIGNING_KEY": env.str("EVENT_SIGNING_KEY"),
    "EVENT_VERIFY_KEYS": env.list("EVENT_VERIFY_KEYS"),
    # The admin's dashboard (catalog.dashboard).
    "DASHBOARD_PANELS": ["catalog.dashboard.stock", "catalog.dashboard.movements"],
}

CATALOG_DEFAULT_CURRENCY = env.str("CATALOG_DEFAULT_CURRENCY", default="EUR")
# The most products one page of the API may hold; a larger ?page_size= is a 400.
CATALOG_MAX_PAGE_SIZE = 100
# Cached responses are keyed by a version that every write bumps, so they never go stale;
# the timeout only frees memory taken by versions nobody asks for any more.
CATALOG_CACHE_TIMEOUT = env.int("CATALOG_CACHE_TIMEOUT", default=300)
# Off only to measure what the cache saves (make bench).
CATALOG_CACHE_ENABLED = env.bool("CATALOG_CACHE_ENABLED", default=True)
# The gateways' internal servers (host:port, each host resolved to all its addresses on every
# push), told the cache version after every write that moves it; none when no gateway caches
# public answers (catalog.gateways).
CATALOG_GATEWAYS = env.list("CATALOG_GATEWAYS", default=[])
# How long a gateway trusts the version it last polled: a write waits that long after its
# commit when a gateway did not take its push. Never less than the gateways' own lease.
CATALOG_GATEWAY_LEASE_SECONDS = env.float("CATALOG_GATEWAY_LEASE_SECONDS", default=3.0)
CATALOG_GATEWAY_PUSH_TIMEOUT = env.float("CATALOG_GATEWAY_PUSH_TIMEOUT", default=1.0)
# A product with this many units or fewer available shows under "low stock" in the admin.
CATALOG_LOW_STOCK_THRESHOLD = env.int("CATALOG_LOW_STOCK_THRESHOLD", default=5)
# Fair use of stock: one customer's open orders (reservations not yet shipped or released) may
# hold at most this share of a product's units on hand, rounded down, and never fewer than the
# minimum, so a product of a few units can still be bought. 100 lets anyone hold it all.
CATALOG_CUSTOMER_SHARE_PERCENT = env.int("CATALOG_CUSTOMER_SHARE_PERCENT", default=20)
CATALOG_CUSTOMER_SHARE_MIN_UNITS = env.int("CATALOG_CUSTOMER_SHARE_MIN_UNITS", default=1)
