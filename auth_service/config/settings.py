"""Settings of the auth service: edge's shared base, then the user model and token signing."""

from datetime import timedelta
from pathlib import Path

from edge.logging import logging_config
from edge.service_table import GATEWAY_PORT
from edge.settings.base import *  # noqa: F403  the settings every service shares
from edge.settings.base import CACHES, EDGE, INSTALLED_APPS, LOG_LEVEL, REDIS_URL, SPECTACULAR_SETTINGS, env

# The service's name in the table of services (edge.service_table); edge.checks holds the
# settings below to it.
SERVICE_NAME = "auth"
BASE_DIR = Path(__file__).resolve().parent.parent

INSTALLED_APPS += ["accounts", "rest_framework_simplejwt.token_blacklist"]

# Four admin sites share one host: each keeps its own cookies and static path.
SESSION_COOKIE_NAME = "auth_sessionid"
CSRF_COOKIE_NAME = "auth_csrftoken"
STATIC_URL = "/static/auth/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))

CACHES["default"]["KEY_PREFIX"] = "auth"
# auth consumes no event and runs no worker: its queue only keeps a stray task apart from the others.
CELERY_TASK_DEFAULT_QUEUE = "auth"
SPECTACULAR_SETTINGS["TITLE"] = "auth service API"
LOGGING = logging_config(service="auth", level=LOG_LEVEL)

AUTH_USER_MODEL = "accounts.User"
# Passwords (the login page, the token endpoint) and auth's own groups and permissions, then
# the permissions of the token's staff roles, as in every service.
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend", "edge.backends.RolePermissionBackend"]
EDGE = {
    **EDGE,
    # What each staff role of the token gives here (edge.roles).
    "ROLE_PERMISSIONS": "accounts.roles.ROLE_PERMISSIONS",
    # The users here are the real ones: the admin maps a token to its user instead of a shadow.
    "SHADOW_USERS": False,
    # A token's state that Redis cannot give is read from the database (and the standing
    # written back to Redis): auth answers exactly while Redis is down, for itself and for the
    # services that ask it.
    "TOKEN_STATE_LOADER": "accounts.selectors.token_state_get",
    # auth verifies with its own keys, read from disk: no HTTP call to its own JWKS.
    "JWT_PUBLIC_KEY_LOADER": "accounts.keys.public_key",
    # auth seals the links of its account emails (a password reset, a confirmation) for notify
    # (edge.sealing).
    "SEAL_KEYS": env.list("EDGE_SEAL_KEYS"),
    # auth signs the events it sends with its own key (edge.messaging.signing).
    "EVENT_SIGNING_KEY": env.str("EVENT_SIGNING_KEY"),
    # The admin's dashboard (accounts.dashboard).
    "DASHBOARD_PANELS": ["accounts.dashboard.sign_ups", "accounts.dashboard.staff"],
}

# auth's signing keys, its alone (``<kid>.pem``, ``current``, retired ``<kid>.pub``); see accounts.keys.
JWT_PRIVATE_KEY_DIR = env.str("JWT_PRIVATE_KEY_DIR")

SIMPLE_JWT = {
    # The keys come from accounts.keys through the token classes of accounts.tokens.
    "ALGORITHM": "RS256",
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("ACCESS_TOKEN_LIFETIME_SECONDS", default=900)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("REFRESH_TOKEN_LIFETIME_SECONDS", default=86400)),
    # A refresh token works once: refreshing returns a new one and blacklists the old.
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "TOKEN_OBTAIN_SERIALIZER": "accounts.api.serializers.TokenObtainSerializer",
    "TOKEN_REFRESH_SERIALIZER": "accounts.api.serializers.TokenRefreshSerializer",
}

# A staff browser session slides while it is used, up to this absolute limit.
STAFF_SESSION_MAX_AGE = timedelta(seconds=env.int("STAFF_SESSION_MAX_AGE_SECONDS", default=12 * 3600))
REFRESH_COOKIE_NAME = "refresh_token"
# The refresh cookie goes only to the login pages, which renew and end sessions.
REFRESH_COOKIE_PATH = "/login/"

# Failed password checks (accounts.throttling): counted per account and client address, and per
# client address over every account. Past the free failures, each further one makes the next
# attempt wait: the first delay, doubling with each failure, up to the longest. A count is
# forgotten that long after its last failure; a login forgets its account's count at that address.
LOGIN_FREE_FAILURES_PER_ACCOUNT = env.int("LOGIN_FREE_FAILURES_PER_ACCOUNT", default=5)
LOGIN_FREE_FAILURES_PER_CLIENT = env.int("LOGIN_FREE_FAILURES_PER_CLIENT", default=100)
LOGIN_FIRST_DELAY_SECONDS = env.int("LOGIN_FIRST_DELAY_SECONDS", default=1)
LOGIN_LONGEST_DELAY_SECONDS = env.int("LOGIN_LONGEST_DELAY_SECONDS", default=900)
LOGIN_FAILURES_KEPT_SECONDS = env.int("LOGIN_FAILURES_KEPT_SECONDS", default=24 * 3600)
# Failed logins and emails sent per address (accounts.throttling, account_email_slot_take) are
# counted on the Redis that evicts nothing, with the token state: on the caches' Redis, a flood
# of cached answers could evict the counts that make a guesser wait or an inbox rest.
ABUSE_COUNTS_CACHE = "abuse_counts"
CACHES[ABUSE_COUNTS_CACHE] = {**CACHES["default"], "LOCATION": REDIS_URL}

# Argon2id, the hasher Django recommends: memory-hard, so that guessing on GPUs costs memory as
# well as time, and at Django's parameters a third of the CPU of its PBKDF2 (a login is the
# costliest thing auth does). Hashes made with PBKDF2 before still check, and become Argon2 at the
# user's next login.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
]

# A password reset link works for an hour, and once: its token is made from the password hash
# (Django's PasswordResetTokenGenerator), which the reset changes.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT_SECONDS", default=3600)

# Registration and password reset email an address at most this many times in any hour, however
# often they are asked (accounts.services.account_email_slot_take); past it they answer the same
# and send nothing.
ACCOUNT_EMAILS_PER_ADDRESS_PER_HOUR = env.int("ACCOUNT_EMAILS_PER_ADDRESS_PER_HOUR", default=3)

# Links in emails: the gateway's address as configured, never the Host of a request.
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default=f"http://localhost:{GATEWAY_PORT}").rstrip("/")
