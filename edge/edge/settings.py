"""The settings every service shares, read from the environment (django-environ).

A service's ``config/settings.py`` starts from ``service_settings()`` and adds what only it has.
Production secrets (``DJANGO_SECRET_KEY``, ``DATABASE_URL``, the key paths) have no default.
"""

from pathlib import Path
from typing import Any

import environ

from edge.celery import celery_settings
from edge.logging import logging_config


def service_settings(*, service: str, app: str, base_dir: Path) -> dict[str, Any]:
    env = environ.Env()
    debug = env.bool("DJANGO_DEBUG", default=False)
    redis_url = env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")
    database = env.db("DATABASE_URL")
    database.update(
        CONN_MAX_AGE=env.int("DATABASE_CONN_MAX_AGE", default=60),
        # A health check is a query before every request's first one; a connection that broke
        # fails one request and is replaced, which costs less than a round trip on each.
        CONN_HEALTH_CHECKS=env.bool("DATABASE_CONN_HEALTH_CHECKS", default=False),
        OPTIONS={"connect_timeout": 3},
    )
    return {
        "SERVICE_NAME": service,
        "BASE_DIR": base_dir,
        "DEBUG": debug,
        "SECRET_KEY": env.str("DJANGO_SECRET_KEY"),
        "ALLOWED_HOSTS": env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"]),
        "INSTALLED_APPS": [
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
            "edge.idempotency",
            app,
        ],
        "MIDDLEWARE": [
            "edge.middleware.RequestIdMiddleware",
            "django.middleware.security.SecurityMiddleware",
            "whitenoise.middleware.WhiteNoiseMiddleware",
            "corsheaders.middleware.CorsMiddleware",
            "django.contrib.sessions.middleware.SessionMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "edge.middleware.GatewayAuthenticationMiddleware",
            "django.contrib.messages.middleware.MessageMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ],
        "ROOT_URLCONF": "config.urls",
        "WSGI_APPLICATION": "config.wsgi.application",
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": [],
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.contrib.auth.context_processors.auth",
                        "django.contrib.messages.context_processors.messages",
                    ],
                },
            },
        ],
        "DATABASES": {"default": database},
        "CACHES": {
            "default": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": service,
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
            },
            # One prefix for all services: auth writes revocations here, every service reads them.
            "tokens": {
                "BACKEND": "django_redis.cache.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": "tokens",
                # Unlike the page cache, this one fails closed: a revocation that could not be
                # written or read must not let a revoked token through as a cache miss would.
                "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2, "IGNORE_EXCEPTIONS": False},
            },
        },
        # A Redis outage turns cache reads into misses instead of errors: pages stay up.
        "DJANGO_REDIS_IGNORE_EXCEPTIONS": True,
        "DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS": True,
        "REDIS_URL": redis_url,
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "AUTH_PASSWORD_VALIDATORS": [
            {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
            {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
            {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
            {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
        ],
        "LANGUAGE_CODE": "en-us",
        "TIME_ZONE": "UTC",
        "USE_I18N": True,
        "USE_TZ": True,
        # Four admin sites share one host: each needs its own cookie names and static path.
        "STATIC_URL": f"/static/{service}/",
        "STATIC_ROOT": env.path("DJANGO_STATIC_ROOT", default=str(base_dir / "staticfiles")),
        "STORAGES": {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
        },
        "SESSION_COOKIE_NAME": f"{service}_sessionid",
        "CSRF_COOKIE_NAME": f"{service}_csrftoken",
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_TRUSTED_ORIGINS": env.list("CSRF_TRUSTED_ORIGINS", default=[]),
        "LOGIN_URL": "/login/",
        "LOGOUT_URL": "/logout/",
        "CORS_ALLOWED_ORIGINS": env.list("CORS_ALLOWED_ORIGINS", default=[]),
        "CORS_URLS_REGEX": r"^/api/.*$",
        "CORS_ALLOW_CREDENTIALS": True,
        "REST_FRAMEWORK": {
            "DEFAULT_AUTHENTICATION_CLASSES": ["edge.authentication.GatewayJWTAuthentication"],
            "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
            "DEFAULT_RENDERER_CLASSES": [
                "rest_framework.renderers.JSONRenderer",
                "rest_framework.renderers.BrowsableAPIRenderer",
            ],
            "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
            "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
            "PAGE_SIZE": 20,
            "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
            "EXCEPTION_HANDLER": "edge.exceptions.exception_handler",
        },
        "SPECTACULAR_SETTINGS": {
            "TITLE": f"{service} service API",
            "VERSION": "1.0.0",
            "SERVE_INCLUDE_SCHEMA": False,
            "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
            "SERVE_AUTHENTICATION": [],
            # Swagger UI's assets are served by the service: no page loads from the internet.
            "SWAGGER_UI_DIST": "SIDECAR",
            "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
        },
        "EDGE": {
            "SERVICE_NAME": service,
            "JWT_PUBLIC_KEY_PATH": env.str("JWT_PUBLIC_KEY_PATH"),
        },
        "LOGGING": logging_config(service=service, level=env.str("LOG_LEVEL", default="INFO")),
        **celery_settings(
            service=service,
            broker_url=env.str("CELERY_BROKER_URL", default=redis_url),
            visibility_timeout=env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
        ),
    }
