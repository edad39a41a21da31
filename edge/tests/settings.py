"""A small service built from edge alone, so that edge's tests run the way the services use it."""

from pathlib import Path

from edge.logging import logging_config
from edge.settings.base import *  # noqa: F403  the settings every service shares
from edge.settings.base import CACHES, EDGE, INSTALLED_APPS, LOG_LEVEL, SPECTACULAR_SETTINGS, env

SERVICE_NAME = "edge"
BASE_DIR = Path(__file__).resolve().parent
# This test project is no service of the table (edge.service_table), on purpose: edge must not
# depend on any of them.
SILENCED_SYSTEM_CHECKS = ["edge.E001"]

INSTALLED_APPS += ["tests.shop", "edge.idempotency"]
ROOT_URLCONF = "tests.urls"

SESSION_COOKIE_NAME = "edge_sessionid"
CSRF_COOKIE_NAME = "edge_csrftoken"
STATIC_URL = "/static/edge/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

CACHES["default"]["KEY_PREFIX"] = "edge"
CELERY_TASK_DEFAULT_QUEUE = "edge"
SPECTACULAR_SETTINGS["TITLE"] = "edge service API"
LOGGING = logging_config(service="edge", level=LOG_LEVEL)
EDGE = {**EDGE, "ROLE_PERMISSIONS": "tests.shop.roles.ROLE_PERMISSIONS"}
