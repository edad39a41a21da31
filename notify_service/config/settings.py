"""Settings of the notify service: the shared shape from edge, then the mail server."""

from pathlib import Path

import environ

from edge.settings import service_settings

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(service_settings(service="notify", app="notify", base_dir=BASE_DIR))

env = environ.Env()
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
