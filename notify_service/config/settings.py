"""Settings of the notify service: edge's shared base, then the mail server."""

from pathlib import Path

from edge.logging import logging_config
from edge.settings.base import *  # noqa: F403  the settings every service shares
from edge.settings.base import CACHES, EDGE, INSTALLED_APPS, LOG_LEVEL, SPECTACULAR_SETTINGS, env

# The service's name in the table of services (edge.service_table); edge.checks holds the
# settings below to it.
SERVICE_NAME = "notify"
BASE_DIR = Path(__file__).resolve().parent.parent

INSTALLED_APPS += ["notify"]

# Four admin sites share one host: each keeps its own cookies and static path.
SESSION_COOKIE_NAME = "notify_sessionid"
CSRF_COOKIE_NAME = "notify_csrftoken"
STATIC_URL = "/static/notify/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

CACHES["default"]["KEY_PREFIX"] = "notify"
CELERY_TASK_DEFAULT_QUEUE = "notify"
SPECTACULAR_SETTINGS["TITLE"] = "notify service API"
LOGGING = logging_config(service="notify", level=LOG_LEVEL)
EDGE = {
    **EDGE,
    # What each staff role of the token gives here (edge.roles).
    "ROLE_PERMISSIONS": "notify.roles.ROLE_PERMISSIONS",
    # notify opens the reset link auth sealed, and keeps it sealed until the email has gone.
    "SEAL_KEYS": env.list("EDGE_SEAL_KEYS"),
    # notify sends no event; it handles those it receives only from their producers
    # (edge.messaging.signing).
    "EVENT_VERIFY_KEYS": env.list("EVENT_VERIFY_KEYS"),
    # The admin's dashboard (notify.dashboard).
    "DASHBOARD_PANELS": ["notify.dashboard.emails", "notify.dashboard.staff_alerts"],
    # /metrics reads the notifications by status too.
    "METRICS_COLLECTORS": ["edge.metrics.EventHealthCollector", "notify.metrics.NotificationCollector"],
}

# EMAIL_URL, e.g. smtp://user:password@mail.example.com:587/?tls=True (django-environ's format).
_email = env.email_url("EMAIL_URL", default="smtp://127.0.0.1:1025")
MAILERS = {
    "default": {
        "BACKEND": _email["EMAIL_BACKEND"],
        "OPTIONS": {
            "host": _email["EMAIL_HOST"],
            "port": _email["EMAIL_PORT"],
            "username": _email["EMAIL_HOST_USER"] or None,
            "password": _email["EMAIL_HOST_PASSWORD"] or None,
            "use_tls": _email.get("EMAIL_USE_TLS", False),
            "use_ssl": _email.get("EMAIL_USE_SSL", False),
            "timeout": 10,
        },
    },
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Commerce <no-reply@commerce.local>")
# A refused email is retried after 2, 4, 8... seconds (capped), then marked failed.
NOTIFY_SEND_MAX_RETRIES = env.int("NOTIFY_SEND_MAX_RETRIES", default=8)
NOTIFY_RETRY_BACKOFF_SECONDS = env.float("NOTIFY_RETRY_BACKOFF_SECONDS", default=2.0)
NOTIFY_RETRY_BACKOFF_MAX = env.float("NOTIFY_RETRY_BACKOFF_MAX", default=300.0)
