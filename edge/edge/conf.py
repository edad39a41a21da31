"""Edge's own settings, read lazily from ``settings.EDGE`` with defaults (as DRF reads ``REST_FRAMEWORK``)."""

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed

DEFAULTS: dict[str, Any] = {
    # The name of the service (its admin title, its health answer): the top-level SERVICE_NAME
    # setting unless EDGE says otherwise, which edge.checks refuses.
    "SERVICE_NAME": None,
    # auth's JSON Web Key Set: the public keys that verify access tokens (see edge.jwks).
    "JWT_JWKS_URL": "",
    # A token with a kid not known yet refetches the set, at most this often per process.
    "JWT_JWKS_REFETCH_INTERVAL_SECONDS": 5.0,
    "JWT_JWKS_TIMEOUT_SECONDS": 2.0,
    # Dotted path of ``f(kid) -> public key or None`` used instead of the JWKS: auth's own keys.
    "JWT_PUBLIC_KEY_LOADER": "",
    "JWT_ALGORITHM": "RS256",
    # Who signs the tokens and whom they are for: auth writes both claims, every verifier checks
    # both, so a token another system signed with a key we happen to trust is still refused.
    "JWT_ISSUER": "commerce-auth",
    "JWT_AUDIENCE": "commerce-api",
    # Fernet keys that seal secrets in events and rows (edge.sealing): the first seals, any opens.
    "SEAL_KEYS": [],
    # Where the gateway connects to the services from (addresses or networks): only a request
    # from one of them is believed about its client's address (``X-Real-IP``, edge.client_address).
    "GATEWAY_ADDRESSES": ["127.0.0.1", "::1"],
    # This service's Ed25519 private key (hex), which signs every event it sends, and the
    # producers' public keys, "<service>=<hex>" each (two for one while its key is rotated), by
    # which it accepts an event only from a producer its contract names (edge.messaging.signing).
    "EVENT_SIGNING_KEY": "",
    "EVENT_VERIFY_KEYS": [],
    # The HttpOnly cookie that carries the access token of a browser session.
    "ACCESS_COOKIE_NAME": "access_token",
    # The cache shared by every service that holds revoked tokens and users' standing.
    "TOKEN_STATE_CACHE": "tokens",
    # When the cache cannot give a token's state (Redis out of reach, the user's standing
    # missing), auth reads it from its database with this dotted path of
    # ``f(claims) -> edge.revocation.TokenState``...
    "TOKEN_STATE_LOADER": "",
    # ...and every other service asks auth's own check at this URL (its ``/internal/verify``),
    # refusing the token when auth cannot answer in time.
    "TOKEN_CHECK_URL": "",
    "TOKEN_CHECK_TIMEOUT_SECONDS": 2.0,
    # Other services keep a local "shadow" of each verified user for their admin;
    # auth_service owns the real users and maps a token to one of them instead.
    "SHADOW_USERS": True,
    # Dotted path of this service's ``{role slug: ["app_label.codename", ...]}``: what each staff
    # role of the token gives here (edge.roles). Empty: no role gives anything.
    "ROLE_PERMISSIONS": "",
    # How long an unsent outbox row waits before the relay resends it (the first send is on commit).
    "OUTBOX_RELAY_AFTER_SECONDS": 5.0,
    "OUTBOX_RELAY_INTERVAL_SECONDS": 1.0,
    # Sent outbox rows and handled inbox rows are deleted after these ages, by the relay, at most
    # once per interval. An inbox row must outlive every redelivery of its event (the broker's
    # within the visibility timeout, the relay's resend of a row whose "sent" mark was lost), so
    # it is kept twice as long as the outbox row that could be resent.
    "OUTBOX_KEEP_SENT_SECONDS": 7 * 24 * 60 * 60,
    "INBOX_KEEP_SECONDS": 14 * 24 * 60 * 60,
    "MESSAGES_PRUNE_INTERVAL_SECONDS": 60 * 60,
    # A service's own periodic work, run by its outbox relays besides relaying, so that it needs
    # no scheduler process: {dotted path of a function of no arguments: seconds between runs}.
    # Each relay runs each job at most once per interval; relays run side by side, so a job
    # claims its rows (SELECT ... FOR UPDATE SKIP LOCKED) to do nothing twice.
    "RELAY_PERIODIC_JOBS": {},
    # How long a client may retry a request with its Idempotency-Key (Stripe keeps keys a day).
    "IDEMPOTENCY_KEY_TTL_SECONDS": 24 * 60 * 60,
    # How often each process deletes expired keys after a request that stored one.
    "IDEMPOTENCY_PRUNE_INTERVAL_SECONDS": 60.0,
    # Check each event against its schema as it is published. Off in production, where every
    # consumer checks what it receives anyway; on in every test run (edge.testing), so that a
    # producer that breaks its contract fails its own tests before a consumer sees the message.
    "VALIDATE_PUBLISHED_EVENTS": False,
    # The panels of the service's admin dashboard, above its list of models: dotted paths of
    # ``f(request) -> edge.dashboard.Panel | None`` (edge.dashboard). Its event health comes last.
    "DASHBOARD_PANELS": [],
    # A message whose handler fails is retried this often, after exponential backoff with full
    # jitter (a random delay up to 1, 2, 4... seconds, at most the maximum); then it goes to the
    # dead letters, where staff replay it from the admin.
    "EVENT_MAX_RETRIES": 8,
    "EVENT_RETRY_BACKOFF_SECONDS": 1.0,
    "EVENT_RETRY_BACKOFF_MAX_SECONDS": 60.0,
    # Dotted paths of Prometheus collectors that read the database when /metrics is scraped
    # (edge.metrics): a service appends its own.
    "METRICS_COLLECTORS": ["edge.metrics.EventHealthCollector"],
    # Where a Celery worker serves its own metrics (edge.metrics.serve_worker_metrics); none when
    # it shares its metrics folder with its service's web process, which serves them (the local stack).
    "WORKER_METRICS_PORT": None,
}


class EdgeSettings:
    def __getattr__(self, name: str) -> Any:
        if name not in DEFAULTS:
            raise AttributeError(f"Invalid edge setting: {name!r}")
        default = getattr(settings, "SERVICE_NAME", "") if name == "SERVICE_NAME" else DEFAULTS[name]
        value = getattr(settings, "EDGE", {}).get(name, default)
        # Cache the result; setting_changed clears it for tests that override settings.
        setattr(self, name, value)
        return value

    def reload(self) -> None:
        for name in DEFAULTS:
            self.__dict__.pop(name, None)


edge_settings = EdgeSettings()


def _reload_edge_settings(*, setting: str, **kwargs: Any) -> None:
    if setting in ("EDGE", "SERVICE_NAME"):
        edge_settings.reload()


setting_changed.connect(_reload_edge_settings)
