"""Cached API responses (Redis, through Django's cache) that are never served stale.

Every cache key carries the current ``CacheVersion``, and every write bumps that version in
its own transaction. The version is read from Postgres, not Redis, because only then does
it change atomically with the data: a reader that sees the new version is guaranteed to
read the new data, while an answer built from old data can only ever be stored under an
old version, which nobody asks for again. Bumping a Redis counter after commit would leave
a moment after each commit (and all of a Redis outage) in which old answers are served.

Redis is an accelerator here, never a source of truth: when it is down, answers are built
from the database.
"""

import hashlib
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError
from rest_framework.request import Request

from catalog.models import CacheVersion

logger = logging.getLogger(__name__)

VERSION_NAME = "api"
HIT, MISS = "HIT", "MISS"
# One statement, so the version row exists even in a database that never had a write.
BUMP_VERSION_SQL = (
    "INSERT INTO catalog_cacheversion (name, value) VALUES (%s, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = catalog_cacheversion.value + 1"
)


def cache_invalidate() -> None:
    """Make every cached answer old; call it last in a write's transaction.

    The version row stays locked until the transaction ends: last, the lock is held briefly.
    """
    with connection.cursor() as cursor:
        cursor.execute(BUMP_VERSION_SQL, [VERSION_NAME])


def cache_version() -> int:
    return CacheVersion.objects.filter(name=VERSION_NAME).values_list("value", flat=True).first() or 0


def cached(request: Request, *, scope: str, build: Callable[[], Any]) -> tuple[Any, str]:
    """``build()``'s answer to this request, from the cache when it holds the current one.

    Returns the answer and whether it was a cache HIT or MISS. Staff and the public see
    different fields, and pages carry absolute links: both are part of the key.
    """
    audience = "staff" if request.user.is_staff else "public"
    url = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
    key = f"api:v{cache_version()}:{scope}:{audience}:{url}"
    try:
        answer = cache.get(key)
    except (ConnectionInterrupted, RedisError) as error:
        logger.warning("cache unavailable", extra={"error": str(error)})
        return build(), MISS
    if answer is not None:
        return answer, HIT
    answer = build()
    try:
        cache.set(key, answer, timeout=settings.CATALOG_CACHE_TIMEOUT)
    except (ConnectionInterrupted, RedisError) as error:
        logger.warning("cache unavailable", extra={"error": str(error)})
    return answer, MISS
