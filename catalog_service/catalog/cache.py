"""Cached API responses (Redis, through Django's cache) that are never served stale.

Every cache key carries the current ``CacheVersion``, and every write bumps that version in
its own transaction. The version is read from Postgres, not Redis, because only then does
it change atomically with the data: a reader that sees the new version is guaranteed to
read the new data, while an answer built from old data can only ever be stored under an
old version, which nobody asks for again. Bumping a Redis counter after commit would leave
a moment after each commit (and all of a Redis outage) in which old answers are served.

Redis is an accelerator here, never a source of truth: when it is down, answers are built
from the database.

The gateways cache public answers too, keyed by the same version, which every write's commit
pushes to each of them before the write answers (``catalog.gateways``): a client never reads,
through any gateway, something older than a write that has answered. The gateways learn it
from catalog alone, over HTTP: they share no file with it.
"""

import hashlib
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, NamedTuple

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.http import QueryDict
from rest_framework.request import Request

from catalog.gateways import gateway_version_push
from catalog.models import CacheVersion

VERSION_NAME = "api"
HIT, MISS, BYPASS = "HIT", "MISS", "BYPASS"
# One statement, so the version row exists even in a database that never had a write.
BUMP_VERSION_SQL = (
    "INSERT INTO catalog_cacheversion (name, value) VALUES (%s, 1) "
    "ON CONFLICT (name) DO UPDATE SET value = catalog_cacheversion.value + 1 RETURNING value"
)


# Set inside deferred_invalidation(): the writes there ask for a bump, which comes at its end.
_deferred: ContextVar[list[bool] | None] = ContextVar("catalog_deferred_invalidation", default=None)
NOT_IN_TRANSACTION = "deferred_invalidation() must run inside the transaction of its writes."


def cache_invalidate() -> None:
    """Make every cached answer old; call it last in a write's transaction.

    The version row stays locked until the transaction ends. Taking it last in every write
    keeps one lock order (data rows, then the version), so writers never deadlock.
    """
    pending = _deferred.get()
    if pending is not None:
        pending.append(True)
        return
    with connection.cursor() as cursor:
        cursor.execute(BUMP_VERSION_SQL, [VERSION_NAME])
        (version,) = cursor.fetchone()
    transaction.on_commit(lambda: gateway_version_push(version, committed_at=time.monotonic()))


@contextmanager
def deferred_invalidation() -> Iterator[None]:
    """Several writes in one transaction (an admin form, a CSV import): one bump, after the last."""
    if not connection.in_atomic_block:
        raise RuntimeError(NOT_IN_TRANSACTION)
    if _deferred.get() is not None:
        yield
        return
    pending: list[bool] = []
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
    # Only reached without an exception: with one, the transaction is rolled back anyway.
    if pending:
        cache_invalidate()


def cache_version() -> int:
    return CacheVersion.objects.filter(name=VERSION_NAME).values_list("value", flat=True).first() or 0


class Cached(NamedTuple):
    answer: Any
    # HIT or MISS, or BYPASS with the cache off.
    state: str
    # The query was not the one the answer is keyed by (a parameter no view reads, another order).
    query_rewritten: bool = False


def cached(
    request: Request, *, scope: str, build: Callable[[], Any], parameters: Collection[str] = ()
) -> Cached:
    """``build()``'s answer to this request, from the cache when it holds the current one.

    Only the public's answers are cached: staff see the stock numbers, which change with
    every order, and the version moves only with what the public sees (``catalog.services``).
    The public's answer is built from the query ``parameters`` the view reads alone, in one
    order (``recognised_query``), and keyed by that URL: pages carry absolute links, and a
    parameter no view reads (``?x=<random>``) must not make a new entry of the same answer.
    """
    if not settings.CATALOG_CACHE_ENABLED or request.user.is_staff:
        return Cached(build(), BYPASS)
    rewritten = recognised_query(request, parameters)
    url = hashlib.sha256(request.build_absolute_uri().encode()).hexdigest()
    version = cache_version()
    key = f"api:v{version}:{scope}:public:{url}"
    # With Redis down, django-redis answers a miss and drops the write (edge's settings).
    answer = cache.get(key)
    if answer is not None:
        return Cached(answer, HIT, rewritten)
    answer = build()
    cache.set(key, answer, timeout=settings.CATALOG_CACHE_TIMEOUT)
    return Cached(answer, MISS, rewritten)


def recognised_query(request: Request, parameters: Collection[str]) -> bool:
    """Make the request's query the ``parameters`` it holds alone, sorted by name (the values of
    one name in the order given): what the view reads, the links it writes and the cache key all
    come from it. True when that changed the query."""
    query = QueryDict(mutable=True)
    for name in sorted(parameters):
        if values := request.query_params.getlist(name):
            query.setlist(name, values)
    django_request = request._request
    recognised = query.urlencode()
    if recognised == django_request.META.get("QUERY_STRING", ""):
        return False
    django_request.GET = query
    django_request.META["QUERY_STRING"] = recognised
    return True
