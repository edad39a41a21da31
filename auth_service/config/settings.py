"""Settings of the auth service: the shared shape from edge, then the user model and token signing."""

from datetime import timedelta
from pathlib import Path

import environ

from edge.settings import service_settings

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

_shared = service_settings(service="auth", app="accounts", base_dir=BASE_DIR)
globals().update(_shared)

AUTH_USER_MODEL = "accounts.User"
# The users here are the real ones: the admin maps a token to its user instead of a shadow.
EDGE = {**_shared["EDGE"], "SHADOW_USERS": False}


def _read(path: str) -> str:
    with open(path) as key_file:
        return key_file.read()


SIMPLE_JWT = {
    "ALGORITHM": "RS256",
    "SIGNING_KEY": _read(env.str("JWT_PRIVATE_KEY_PATH")),
    "VERIFYING_KEY": _read(env.str("JWT_PUBLIC_KEY_PATH")),
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=env.int("ACCESS_TOKEN_LIFETIME_SECONDS", default=900)),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=env.int("REFRESH_TOKEN_LIFETIME_SECONDS", default=86400)),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "TOKEN_OBTAIN_SERIALIZER": "accounts.api.serializers.TokenObtainSerializer",
}
