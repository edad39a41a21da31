"""edge's system checks: each names the broken setting with its own id, and stays quiet otherwise."""

import pytest
from django.conf import settings
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from edge.checks import GATEWAY_AUTHENTICATION_MIDDLEWARE, REQUEST_ID_MIDDLEWARE

# What a service of the table says of itself; the edge test project is no service of the table.
ORDERS = {
    "SERVICE_NAME": "orders",
    "SESSION_COOKIE_NAME": "orders_sessionid",
    "CSRF_COOKIE_NAME": "orders_csrftoken",
    "STATIC_URL": "/static/orders/",
    "CELERY_TASK_DEFAULT_QUEUE": "orders",
}


def edge_errors() -> set[str]:
    return {message.id for message in run_checks() if message.id.startswith("edge.")}


def test_the_edge_test_project_breaks_no_invariant_but_being_no_service_of_the_table():
    assert edge_errors() == {"edge.E001"}

    call_command("check", verbosity=0)  # edge.E001 is silenced in tests/settings.py


def test_manage_py_check_names_the_broken_setting_by_its_id():
    with override_settings(SESSION_COOKIE_NAME="sessionid"), pytest.raises(SystemCheckError) as raised:
        call_command("check", verbosity=0)

    assert "edge.E003" in str(raised.value)
    assert "SESSION_COOKIE_NAME is 'sessionid'" in str(raised.value)


def test_a_service_name_missing_from_the_table_is_refused():
    with override_settings(SERVICE_NAME="shop"):
        assert "edge.E001" in edge_errors()


def test_a_service_whose_app_is_not_installed_is_refused():
    # The orders app is not installed in edge's test project.
    with override_settings(**ORDERS):
        assert edge_errors() == {"edge.E002"}


@pytest.mark.parametrize(
    ("setting", "shared_value", "check_id"),
    [
        ("SESSION_COOKIE_NAME", "sessionid", "edge.E003"),
        ("CSRF_COOKIE_NAME", "csrftoken", "edge.E004"),
        # The shared logout page looks for the site's CSRF cookie by its exact name.
        ("CSRF_COOKIE_NAME", "edge_csrf", "edge.E004"),
        ("STATIC_URL", "/static/", "edge.E005"),
        ("STATIC_URL", "/static/catalog/", "edge.E005"),
    ],
)
def test_cookie_names_and_static_path_must_be_the_services_own(setting, shared_value, check_id):
    with override_settings(**{setting: shared_value}):
        assert edge_errors() == {"edge.E001", check_id}


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
@pytest.mark.parametrize(("conn_max_age", "refused"), [(60, True), (None, True), (0, False)])
def test_a_connection_pool_needs_conn_max_age_zero(conn_max_age, refused):
    pooled = {**settings.DATABASES["default"], "OPTIONS": {"pool": {"min_size": 1}}}
    pooled["CONN_MAX_AGE"] = conn_max_age

    with override_settings(DATABASES={**settings.DATABASES, "default": pooled}):
        assert ("edge.E006" in edge_errors()) is refused


def test_persistent_connections_without_a_pool_are_fine():
    assert settings.DATABASES["default"]["CONN_MAX_AGE"] != 0
    assert "edge.E006" not in edge_errors()


def test_tasks_must_default_to_the_services_own_queue():
    with override_settings(**{**ORDERS, "CELERY_TASK_DEFAULT_QUEUE": "celery"}):
        assert "edge.E007" in edge_errors()
    with override_settings(**ORDERS):
        assert "edge.E007" not in edge_errors()


def test_a_service_without_a_queue_defaults_to_its_own_name():
    auth = {
        "SERVICE_NAME": "auth",
        "SESSION_COOKIE_NAME": "auth_sessionid",
        "CSRF_COOKIE_NAME": "auth_csrftoken",
        "STATIC_URL": "/static/auth/",
    }
    with override_settings(**auth, CELERY_TASK_DEFAULT_QUEUE="auth"):
        assert "edge.E007" not in edge_errors()
    with override_settings(**auth, CELERY_TASK_DEFAULT_QUEUE="notify"):
        assert "edge.E007" in edge_errors()


def _with_token_cache_options(**options: object) -> dict[str, object]:
    # As deployed (edge.testing gives each test a local-memory one instead).
    tokens = {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": settings.REDIS_URL,
        "KEY_PREFIX": "tokens",
        "OPTIONS": {"SOCKET_TIMEOUT": 2, **options},
    }
    return {**settings.CACHES, "tokens": tokens}


def test_the_token_state_cache_as_deployed_fails_closed():
    with override_settings(CACHES=_with_token_cache_options(IGNORE_EXCEPTIONS=False)):
        assert "edge.E008" not in edge_errors()


def test_the_token_state_cache_must_not_ignore_redis_errors():
    with override_settings(CACHES=_with_token_cache_options(IGNORE_EXCEPTIONS=True)):
        assert "edge.E008" in edge_errors()


def test_the_token_state_cache_must_say_so_when_redis_errors_are_ignored_by_default():
    # Without its own IGNORE_EXCEPTIONS, django-redis follows DJANGO_REDIS_IGNORE_EXCEPTIONS.
    assert settings.DJANGO_REDIS_IGNORE_EXCEPTIONS is True
    with override_settings(CACHES=_with_token_cache_options()):
        assert "edge.E008" in edge_errors()


def test_the_token_state_cache_must_exist():
    caches = {alias: cache for alias, cache in settings.CACHES.items() if alias != "tokens"}
    with override_settings(CACHES=caches):
        assert "edge.E008" in edge_errors()


def test_a_service_asks_auth_when_redis_cannot_vouch_for_a_token():
    assert "edge.E013" not in edge_errors()


@pytest.mark.parametrize("url", ["", "file:///etc/passwd"])
def test_a_service_must_have_auth_to_ask_when_redis_cannot_vouch_for_a_token(settings, url):
    settings.EDGE = {**settings.EDGE, "TOKEN_CHECK_URL": url}

    assert "edge.E013" in edge_errors()


def test_tasks_must_be_acknowledged_late():
    with override_settings(CELERY_TASK_ACKS_LATE=False):
        assert edge_errors() == {"edge.E001", "edge.E009"}


def test_edge_settings_must_not_name_another_service():
    with override_settings(EDGE={**settings.EDGE, "SERVICE_NAME": "catalog"}):
        assert edge_errors() == {"edge.E001", "edge.E010"}


def test_the_request_id_middleware_must_come_first():
    middleware = [path for path in settings.MIDDLEWARE if path != REQUEST_ID_MIDDLEWARE]
    with override_settings(MIDDLEWARE=[*middleware, REQUEST_ID_MIDDLEWARE]):
        assert edge_errors() == {"edge.E001", "edge.E011"}


@pytest.mark.parametrize(
    "replacement",
    [
        ["django.contrib.auth.middleware.AuthenticationMiddleware"],
        [GATEWAY_AUTHENTICATION_MIDDLEWARE, "django.contrib.auth.middleware.RemoteUserMiddleware"],
    ],
)
def test_the_user_must_come_from_the_gateway_token_alone(replacement):
    middleware = []
    for path in settings.MIDDLEWARE:
        middleware += replacement if path == GATEWAY_AUTHENTICATION_MIDDLEWARE else [path]
    with override_settings(MIDDLEWARE=middleware):
        assert "edge.E012" in edge_errors()


def test_the_gateway_addresses_must_be_addresses_or_networks(settings):
    settings.EDGE = {**settings.EDGE, "GATEWAY_ADDRESSES": ["10.210.80.10", "10.0.0.0/8", "gateway"]}

    assert "edge.E014" in edge_errors()
