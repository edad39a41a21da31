"""System checks of the invariants every service's settings must keep (``manage.py check``).

Each has its own id, so that a broken setting is named when a service starts (``migrate`` and
``runserver`` run them too) rather than found later as two admin sites logging each other out,
a token let through during a Redis outage, or an event lost with its worker.
"""

import ipaddress
from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

from edge.admin_site import csrf_cookie_name
from edge.conf import edge_settings
from edge.roles import ROLES, role_declaration
from edge.service_table import SERVICE_NAMES, service_named

REQUEST_ID_MIDDLEWARE = "edge.middleware.RequestIdMiddleware"
GATEWAY_AUTHENTICATION_MIDDLEWARE = "edge.middleware.GatewayAuthenticationMiddleware"
# Each would set request.user from the session after edge set it from the verified token.
SESSION_AUTHENTICATION_MIDDLEWARE = (
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.RemoteUserMiddleware",
    "django.contrib.auth.middleware.PersistentRemoteUserMiddleware",
)


def _service_name() -> str:
    return getattr(settings, "SERVICE_NAME", "")


@register(Tags.compatibility)
def check_service_name(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    """SERVICE_NAME is a service of the table, its app is installed and EDGE does not contradict it."""
    name = _service_name()
    errors: list[CheckMessage] = []
    if name not in SERVICE_NAMES:
        errors.append(
            Error(
                f"SERVICE_NAME is {name!r}, which is no service of edge.service_table.",
                hint=f"Set SERVICE_NAME to one of {', '.join(SERVICE_NAMES)}.",
                id="edge.E001",
            )
        )
    else:
        app = service_named(name).app
        if not apps.is_installed(app):
            errors.append(
                Error(
                    f"The {name} service's app {app!r} is not in INSTALLED_APPS.",
                    hint=f'Add INSTALLED_APPS += ["{app}"] to its settings.',
                    id="edge.E002",
                )
            )
    edge_name = getattr(settings, "EDGE", {}).get("SERVICE_NAME")
    if edge_name is not None and edge_name != name:
        errors.append(
            Error(
                f"EDGE['SERVICE_NAME'] is {edge_name!r} but SERVICE_NAME is {name!r}.",
                hint="Remove SERVICE_NAME from EDGE: edge reads the top-level SERVICE_NAME.",
                id="edge.E010",
            )
        )
    return errors


@register(Tags.security)
def check_own_cookies_and_static_path(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Four admin sites share one host: each service's cookies and static path must be its own."""
    name = _service_name()
    own = {
        "SESSION_COOKIE_NAME": ("edge.E003", f"{name}_sessionid"),
        "CSRF_COOKIE_NAME": ("edge.E004", csrf_cookie_name(name)),
        "STATIC_URL": ("edge.E005", f"/static/{name}/"),
    }
    errors: list[CheckMessage] = []
    for setting, (check_id, example) in own.items():
        value = getattr(settings, setting, None) or ""
        # The shared logout page finds a site's CSRF cookie by its name (edge.admin_site).
        fits = value == example if setting == "CSRF_COOKIE_NAME" else bool(name) and name in value
        if not fits:
            errors.append(
                Error(
                    f"{setting} is {value!r}, which does not name the {name!r} service: the admin "
                    "sites of the services share one host, and would overwrite each other's.",
                    hint=f'Set {setting} = "{example}".',
                    id=check_id,
                )
            )
    return errors


@register(Tags.compatibility)
def check_pooled_connections_are_not_kept(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Django refuses a connection pool with persistent connections, but only at the first query."""
    return [
        Error(
            f"DATABASES[{alias!r}] has a connection pool and CONN_MAX_AGE {database.get('CONN_MAX_AGE')}.",
            hint="A pooled connection goes back to its pool after each request: set CONN_MAX_AGE = 0.",
            id="edge.E006",
        )
        for alias, database in settings.DATABASES.items()
        if database.get("OPTIONS", {}).get("pool") and database.get("CONN_MAX_AGE", 0) != 0
    ]


@register(Tags.compatibility)
def check_celery_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """A service's tasks go to its own queue, acknowledged only once they ran."""
    name = _service_name()
    errors: list[CheckMessage] = []
    if name in SERVICE_NAMES:
        queue = service_named(name).queue or name
        default_queue = getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", None)
        if default_queue != queue:
            errors.append(
                Error(
                    f"CELERY_TASK_DEFAULT_QUEUE is {default_queue!r}, not the {name} service's queue.",
                    hint=f'Set CELERY_TASK_DEFAULT_QUEUE = "{queue}".',
                    id="edge.E007",
                )
            )
    if getattr(settings, "CELERY_TASK_ACKS_LATE", False) is not True:
        errors.append(
            Error(
                "CELERY_TASK_ACKS_LATE is off: a worker killed in the middle of a task loses its event.",
                hint="Set CELERY_TASK_ACKS_LATE = True (edge.settings.base does).",
                id="edge.E009",
            )
        )
    return errors


@register(Tags.caches)
def check_token_state_cache_fails_closed(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The cache of revocations must raise when Redis is down, not answer "not revoked"."""
    alias = edge_settings.TOKEN_STATE_CACHE
    cache = settings.CACHES.get(alias)
    if cache is None:
        return [
            Error(
                f"CACHES has no {alias!r} cache, where edge keeps revoked tokens and users' standing.",
                hint="Keep the 'tokens' cache of edge.settings.base.",
                id="edge.E008",
            )
        ]
    # Only django-redis swallows errors; it reads the global setting for a cache whose OPTIONS
    # do not say.
    ignores = cache["BACKEND"].startswith("django_redis.") and cache.get("OPTIONS", {}).get(
        "IGNORE_EXCEPTIONS", getattr(settings, "DJANGO_REDIS_IGNORE_EXCEPTIONS", False)
    )
    if ignores:
        return [
            Error(
                f"CACHES[{alias!r}] ignores Redis errors: a revoked token would pass as a cache miss.",
                hint=f'Set CACHES["{alias}"]["OPTIONS"]["IGNORE_EXCEPTIONS"] = False.',
                id="edge.E008",
            )
        ]
    return []


@register(Tags.security)
def check_token_state_has_a_source_besides_redis(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """When Redis cannot say whether a token was revoked, auth's database or auth itself must."""
    if edge_settings.TOKEN_STATE_LOADER or edge_settings.TOKEN_CHECK_URL.startswith(("http://", "https://")):
        return []
    return [
        Error(
            "Neither EDGE['TOKEN_STATE_LOADER'] nor an http(s) EDGE['TOKEN_CHECK_URL'] is set: "
            "every token Redis cannot vouch for (Redis down, a standing lost) would be refused.",
            hint="Set TOKEN_CHECK_URL to auth's /internal/verify (edge.settings.base does, from the table).",
            id="edge.E013",
        )
    ]


@register(Tags.compatibility)
def check_middleware_order(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """The request id comes first; request.user comes from the verified token, and from nothing else."""
    middleware = list(settings.MIDDLEWARE)
    errors: list[CheckMessage] = []
    if not middleware or middleware[0] != REQUEST_ID_MIDDLEWARE:
        errors.append(
            Error(
                f"{REQUEST_ID_MIDDLEWARE} is not the first MIDDLEWARE: what runs before it logs and "
                "answers without the gateway's request id.",
                hint=f"Put {REQUEST_ID_MIDDLEWARE} first in MIDDLEWARE.",
                id="edge.E011",
            )
        )
    session_auth = [path for path in middleware if path in SESSION_AUTHENTICATION_MIDDLEWARE]
    if GATEWAY_AUTHENTICATION_MIDDLEWARE not in middleware or session_auth:
        errors.append(
            Error(
                f"MIDDLEWARE must set request.user with {GATEWAY_AUTHENTICATION_MIDDLEWARE} alone"
                + (f", not also with {', '.join(session_auth)}." if session_auth else "."),
                hint=f"Keep {GATEWAY_AUTHENTICATION_MIDDLEWARE} in place of Django's AuthenticationMiddleware.",
                id="edge.E012",
            )
        )
    return errors


@register(Tags.security)
def check_gateway_addresses(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Who may name a request's client (edge.client_address): addresses or networks, each valid."""
    invalid = []
    for entry in edge_settings.GATEWAY_ADDRESSES:
        try:
            ipaddress.ip_network(entry.strip(), strict=False)
        except ValueError:
            invalid.append(entry)
    if not invalid:
        return []
    return [
        Error(
            f"EDGE['GATEWAY_ADDRESSES'] holds {', '.join(map(repr, invalid))}, not an IP address or network.",
            hint="Set GATEWAY_ADDRESSES to where the gateway connects from, e.g. 10.210.80.10 or 10.0.0.0/8.",
            id="edge.E014",
        )
    ]


@register(Tags.security)
def check_role_permissions(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """What this service says each role gives (edge.roles): known roles, existing permissions.

    A misspelt permission would grant nothing, silently; a role outside the vocabulary could
    never be granted in auth.
    """
    try:
        declaration = role_declaration()
    except ImportError as error:
        return [
            Error(
                f"EDGE['ROLE_PERMISSIONS'] cannot be imported: {error}",
                hint="Name the module attribute that declares the roles, e.g. catalog.roles.ROLE_PERMISSIONS.",
                id="edge.E030",
            )
        ]
    errors: list[CheckMessage] = []
    existing = _model_permissions()
    for role, permissions in declaration.items():
        if role not in ROLES:
            errors.append(
                Error(
                    f"The role {role!r} is given permissions but is no role of edge.roles.ROLES.",
                    hint=f"Use one of: {', '.join(sorted(ROLES))}.",
                    id="edge.E031",
                )
            )
        for permission in permissions:
            if permission not in existing:
                errors.append(
                    Error(
                        f"The role {role!r} gives {permission!r}, which no model of this service has.",
                        hint="Name it as app_label.codename, e.g. catalog.change_product.",
                        id="edge.E032",
                    )
                )
    return errors


def _model_permissions() -> set[str]:
    """Every permission the installed models have ("app_label.codename"), as Django creates them."""
    permissions = set()
    for model in apps.get_models():
        opts = model._meta
        codenames = [f"{action}_{opts.model_name}" for action in opts.default_permissions]
        codenames += [codename for codename, _ in opts.permissions]
        permissions.update(f"{opts.app_label}.{codename}" for codename in codenames)
    return permissions
