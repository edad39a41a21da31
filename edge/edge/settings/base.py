"""The settings every service shares, read from the environment with django-environ.

A service's ``config/settings.py`` starts with ``from edge.settings.base import *`` and then says
what is its own: ``SERVICE_NAME``, its app, its cookie names, static path, cache prefix, Celery
queue, API title and logging (``edge.checks`` refuses to start a service whose own ones are
missing or wrong). Production secrets (``DJANGO_SECRET_KEY``, ``DATABASE_URL``, auth's
``JWT_PRIVATE_KEY_DIR``) have no default.
"""

from pathlib import Path

import environ
from django.utils.csp import CSP

from edge.service_table import service_named

env = environ.Env()

# GENERAL
# ------------------------------------------------------------------------------------------------
DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# APPS: each service adds its own app (and what only it uses) with INSTALLED_APPS += [...].
# ------------------------------------------------------------------------------------------------
INSTALLED_APPS = [
    "edge.apps.EdgeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "edge.messaging",
    "django_prometheus",
]

# MIDDLEWARE: edge.checks holds the order edge relies on.
# ------------------------------------------------------------------------------------------------
MIDDLEWARE = [
    # First, so that every response and log line below it carries the request id.
    "edge.middleware.RequestIdMiddleware",
    # Times every request from here to PrometheusAfterMiddleware, the last (edge.metrics).
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's AuthenticationMiddleware, with request.user from the verified access cookie.
    "edge.middleware.GatewayAuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Counts each request by its view, method and status.
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # edge's own templates (edge/swagger_ui.html): edge's app config is the admin's.
        "DIRS": [Path(__file__).resolve().parent.parent / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                # csp_nonce: what lets a page's one inline style through the CSP (SECURE_CSP).
                "django.template.context_processors.csp",
            ],
        },
    },
]

# DATABASES
# ------------------------------------------------------------------------------------------------
DATABASES = {
    "default": {
        **env.db("DATABASE_URL"),
        "CONN_MAX_AGE": env.int("DATABASE_CONN_MAX_AGE", default=60),
        # A health check is a query before every request's first one; a connection that broke
        # fails one request and is replaced, which costs less than a round trip on each.
        "CONN_HEALTH_CHECKS": env.bool("DATABASE_CONN_HEALTH_CHECKS", default=False),
        "OPTIONS": {"connect_timeout": 3},
    },
}

# CACHES: each service sets CACHES["default"]["KEY_PREFIX"] to its name.
# ------------------------------------------------------------------------------------------------
# The broker and the token state, which nothing may evict...
REDIS_URL = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
# ...and the caches of answers, on a Redis of their own that evicts its least recently used keys
# when full: a flood of cache entries never costs a queued event or a revocation.
REDIS_CACHE_URL = env.str("REDIS_CACHE_URL", default="redis://127.0.0.1:6380/0")
CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_CACHE_URL,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
    },
    # One prefix for all services: auth writes revocations here, every service reads them.
    "tokens": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "tokens",
        # Unlike the page cache, this one fails closed: a revocation that could not be
        # written or read must not let a revoked token through as a cache miss would.
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2, "IGNORE_EXCEPTIONS": False},
    },
}
# A Redis outage turns cache reads into misses instead of errors: pages stay up.
DJANGO_REDIS_IGNORE_EXCEPTIONS = True
DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True

# AUTHENTICATION: the token authenticates (edge.middleware, edge.authentication); a staff member's
# permissions are those their token's roles give in this service (edge.roles). auth puts Django's
# ModelBackend first, for its login and its own users' groups and permissions.
# ------------------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = ["edge.backends.RolePermissionBackend"]

# PASSWORDS
# ------------------------------------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# STATIC FILES: each service sets its own STATIC_URL (/static/<service>/) and STATIC_ROOT.
# ------------------------------------------------------------------------------------------------
# edge's own static files (edge/dashboard.css): edge's app config is the admin's.
STATICFILES_DIRS = [Path(__file__).resolve().parent.parent / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# SECURITY: each service sets its own SESSION_COOKIE_NAME and CSRF_COOKIE_NAME, because four
# admin sites share one host and would otherwise overwrite each other's cookies.
# ------------------------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
LOGIN_URL = "/login/"
LOGOUT_URL = "/logout/"
# The public address is https, with TLS ending in front of the gateway (the Ingress), as in
# production: every cookie is Secure. The local stack and compose serve plain http on this
# machine and say false.
HTTPS = env.bool("DJANGO_HTTPS", default=True)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
# request.is_secure() takes the gateway's word: nginx sets X-Forwarded-Proto itself, from its own
# connection or from a trusted proxy's header, and never passes on a client's (proxy_headers.conf).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Sent only on https requests (Django's SecurityMiddleware), so the local stack's plain http is
# never pinned. Preloading is the domain owner's commitment for every subdomain, so it is theirs
# to turn on.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
# Every page (the admin, the login page, the browsable API, the docs) loads its scripts, styles
# and images from this origin only, runs no inline script, and is framed by no one. An inline
# style needs the response's nonce (``csp_nonce`` in a template: the docs' page).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SILENCED_SYSTEM_CHECKS = [
    # SECURE_SSL_REDIRECT: http is redirected to https in front of the gateway (the Ingress,
    # whose TLS makes ingress-nginx redirect). Here it would break what is asked over plain http
    # inside the cluster, through the gateway too: probes, auth's JWKS and token check, the
    # catalog's API for orders.
    "security.W008",
    # SECURE_HSTS_PRELOAD: see above.
    "security.W021",
]

# CORS: browsers on other origins (a storefront, an SPA) call the API.
# ------------------------------------------------------------------------------------------------
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_CREDENTIALS = True

# DJANGO REST FRAMEWORK and drf-spectacular: each service sets SPECTACULAR_SETTINGS["TITLE"].
# ------------------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["edge.authentication.GatewayJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "edge.schema.AutoSchema",
    "EXCEPTION_HANDLER": "edge.exceptions.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    # Swagger UI's assets are served by the service: no page loads from the internet.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
}

# EDGE: its own settings, read through edge.conf (whose SERVICE_NAME is the one above by default).
# ------------------------------------------------------------------------------------------------
EDGE = {
    # Where auth publishes its public keys; its address in the table by default (the local stack).
    "JWT_JWKS_URL": env.str(
        "JWT_JWKS_URL",
        default=f"http://127.0.0.1:{service_named('auth').port}/api/auth/.well-known/jwks.json",
    ),
    # auth's check of a token, asked when Redis cannot give its state (edge.revocation).
    "TOKEN_CHECK_URL": env.str(
        "TOKEN_CHECK_URL", default=f"http://127.0.0.1:{service_named('auth').port}/internal/verify"
    ),
    # Where the gateway's requests come from: only they say who the client is (edge.client_address).
    "GATEWAY_ADDRESSES": env.list("GATEWAY_ADDRESSES", default=["127.0.0.1", "::1"]),
    "JWT_ISSUER": env.str("JWT_ISSUER", default="commerce-auth"),
    "JWT_AUDIENCE": env.str("JWT_AUDIENCE", default="commerce-api"),
    # On where a stack runs the tests (devstack's end-to-end stack): every event published
    # there is checked against its contract too, not only by the consumer that receives it.
    "VALIDATE_PUBLISHED_EVENTS": env.bool("EDGE_VALIDATE_PUBLISHED_EVENTS", default=False),
    # A Celery worker in a container of its own serves its metrics on this port (edge.metrics).
    "WORKER_METRICS_PORT": env.int("WORKER_METRICS_PORT", default=None),
}

# LOGGING: each service sets LOGGING = logging_config(service=SERVICE_NAME, level=LOG_LEVEL).
# ------------------------------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")

# CELERY: each service sets CELERY_TASK_DEFAULT_QUEUE to its own queue.
# ------------------------------------------------------------------------------------------------
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
# How long a task lost with its worker waits before redelivery. Every service must say the same:
# on a shared broker the shortest wins.
_visibility_timeout = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": _visibility_timeout,
    # kombu sweeps for messages lost with their worker every interval x throttle seconds
    # (100 by default): sweep often enough to honour the visibility timeout.
    "unacked_restore_interval": max(1, min(10, _visibility_timeout // 2)),
    "unacked_restore_throttle": 1,
}
# A failed event's retry waits in a worker as an unacknowledged message with an ETA: a wait longer
# than the visibility timeout would have Redis deliver it again meanwhile, and every copy retry
# in turn, multiplying. So the longest backoff stays well inside it.
EDGE["EVENT_RETRY_BACKOFF_MAX_SECONDS"] = min(60.0, _visibility_timeout / 3)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A task is acknowledged after it ran: a worker killed mid-task leaves it for another.
CELERY_TASK_ACKS_LATE = True
# Handlers mostly wait on Postgres and Redis. Threads in one process serve them without
# prefork's pipe between parent and children, which cost as much CPU as the handlers.
CELERY_WORKER_POOL = "threads"
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# Celery closes Django's database connections around every task unless told to reuse them:
# a new Postgres connection (and SCRAM handshake) per event was most of its cost.
CELERY_DB_REUSE_MAX = 500
# Django's LOGGING (JSON, with the request id) stays in charge in the worker.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
