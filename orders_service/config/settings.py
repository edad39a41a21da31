"""Settings of the orders service: edge's shared base, then the limits of an order."""

from pathlib import Path

from edge.logging import logging_config
from edge.service_table import service_named
from edge.settings.base import *  # noqa: F403  the settings every service shares
from edge.settings.base import CACHES, EDGE, INSTALLED_APPS, LOG_LEVEL, SPECTACULAR_SETTINGS, env

# The service's name in the table of services (edge.service_table); edge.checks holds the
# settings below to it.
SERVICE_NAME = "orders"
BASE_DIR = Path(__file__).resolve().parent.parent

# Its app, and the Idempotency-Key of edge that placing an order answers retries with.
INSTALLED_APPS += ["orders", "edge.idempotency"]

# Four admin sites share one host: each keeps its own cookies and static path.
SESSION_COOKIE_NAME = "orders_sessionid"
CSRF_COOKIE_NAME = "orders_csrftoken"
STATIC_URL = "/static/orders/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

CACHES["default"]["KEY_PREFIX"] = "orders"
CELERY_TASK_DEFAULT_QUEUE = "orders"
SPECTACULAR_SETTINGS["TITLE"] = "orders service API"
# An order's status and its history's from and to statuses are one set of choices: one name.
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] = {"OrderStatusEnum": "orders.models.Order.Status"}
LOGGING = logging_config(service="orders", level=LOG_LEVEL)
EDGE = {
    **EDGE,
    # What each staff role of the token gives here (edge.roles).
    "ROLE_PERMISSIONS": "orders.roles.ROLE_PERMISSIONS",
    # orders signs the events it sends with its own key, and handles those it receives only
    # from their producers (edge.messaging.signing).
    "EVENT_SIGNING_KEY": env.str("EVENT_SIGNING_KEY"),
    "EVENT_VERIFY_KEYS": env.list("EVENT_VERIFY_KEYS"),
    # The admin's dashboard (orders.dashboard).
    "DASHBOARD_PANELS": ["orders.dashboard.sales", "orders.dashboard.statuses", "orders.dashboard.waiting"],
}

ORDERS_MAX_QUANTITY = env.int("ORDERS_MAX_QUANTITY", default=100)
ORDERS_MAX_ITEMS = env.int("ORDERS_MAX_ITEMS", default=50)
# Where backfill_price_list reads the catalog's products (its public API).
CATALOG_API_URL = env.str(
    "CATALOG_API_URL", default=f"http://127.0.0.1:{service_named('catalog').port}/api/catalog/"
)
# A pending order the catalog has not answered within this time expires: it is cancelled and the
# stock reserved for it goes back. Each outbox relay looks for such orders this often (edge runs
# the job in its relay loop; the job claims each order with SKIP LOCKED, so relays side by side
# never expire one twice).
ORDERS_PENDING_EXPIRY_SECONDS = env.int("ORDERS_PENDING_EXPIRY_SECONDS", default=15 * 60)
ORDERS_EXPIRY_SWEEP_INTERVAL_SECONDS = env.float("ORDERS_EXPIRY_SWEEP_INTERVAL_SECONDS", default=60.0)
EDGE["RELAY_PERIODIC_JOBS"] = {"orders.services.orders_expire_pending": ORDERS_EXPIRY_SWEEP_INTERVAL_SECONDS}
