"""Counting failed password checks in Redis, per account and client address, and per client address.

A guesser who tries one account from one address meets growing delays after a few failures; one
who tries many accounts from one address (password spraying) meets them after more. The owner of
an account, logging in from another address, is not held up by a stranger's failures: nothing
here locks an account as such.

Each attempt is counted *before* the password is checked, in one Lua script that Redis runs
atomically: refused while a delay runs, else counted and allowed. So guesses sent all at once
cannot slip between a check and a count; a login that succeeds takes its attempt back. Every
count is in Redis' own clock (``TIME``), the same for every auth process.
"""

import hashlib
import ipaddress
import logging
import math
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches
from django_redis import get_redis_connection
from redis.commands.core import Script
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

# KEYS: the count of this account at this client address, then the client address's count over
# every account; each a hash of its failures ("count") and when the next attempt may come
# ("until", milliseconds of Redis' clock).
# ARGV: the free failures of each key (two values), the first and the longest delay in
# milliseconds, and how long a count is kept after its last failure, in seconds.
# Returns {1, the wait in ms that this attempt's failure will impose (0: none)} when the attempt
# may go on, {0, the wait in ms still to run} when it may not (and then it is not counted).
ATTEMPT_SCRIPT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local waiting = 0
for _, key in ipairs(KEYS) do
    local until_ms = tonumber(redis.call('HGET', key, 'until') or '0')
    if until_ms > now then
        waiting = math.max(waiting, until_ms - now)
    end
end
if waiting > 0 then
    return {0, waiting}
end
local first, longest, kept = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local delay = 0
for index, key in ipairs(KEYS) do
    local count = redis.call('HINCRBY', key, 'count', 1)
    local beyond = count - tonumber(ARGV[index])
    if beyond > 0 then
        local wait = math.min(first * 2 ^ math.min(beyond - 1, 40), longest)
        redis.call('HSET', key, 'until', now + wait)
        delay = math.max(delay, wait)
    end
    redis.call('EXPIRE', key, kept)
end
return {1, delay}
"""

# A login that succeeded: its account's count at that address is forgotten, and the address's
# own count gives back the attempt it took.
SUCCESS_SCRIPT = """
redis.call('DEL', KEYS[1])
if redis.call('HINCRBY', KEYS[2], 'count', -1) < 0 then
    redis.call('HSET', KEYS[2], 'count', 0)
end
return 0
"""


@dataclass(frozen=True)
class Attempt:
    """What counting one attempt answered: whether it may go on, and the wait in whole seconds
    (while refused: until the next attempt; while allowed: the wait its failure imposes)."""

    allowed: bool
    wait_seconds: int = 0


def login_attempt_count(*, email: str, client: str) -> Attempt:
    """Count one password check of ``email``'s account from ``client``, or refuse it while a
    delay runs. With Redis out of reach nothing is counted and every attempt goes on (logins
    keep working; the gateway's limit per address still holds)."""
    try:
        allowed, wait_ms = _script(ATTEMPT_SCRIPT)(
            keys=_keys(email, client),
            args=[
                settings.LOGIN_FREE_FAILURES_PER_ACCOUNT,
                settings.LOGIN_FREE_FAILURES_PER_CLIENT,
                settings.LOGIN_FIRST_DELAY_SECONDS * 1000,
                settings.LOGIN_LONGEST_DELAY_SECONDS * 1000,
                settings.LOGIN_FAILURES_KEPT_SECONDS,
            ],
        )
    except RedisError:
        logger.warning("Failed logins cannot be counted: Redis is out of reach", exc_info=True)
        return Attempt(allowed=True)
    return Attempt(allowed=bool(allowed), wait_seconds=math.ceil(int(wait_ms) / 1000))


def login_attempt_forget(*, email: str, client: str) -> None:
    """The attempt succeeded: the account's failures at this address are forgotten."""
    try:
        _script(SUCCESS_SCRIPT)(keys=_keys(email, client))
    except RedisError:
        logger.warning("A login's earlier failures cannot be forgotten: Redis is out of reach", exc_info=True)


def _script(source: str) -> Script:
    # register_script runs it by its SHA, loading it once per server.
    return get_redis_connection(settings.ABUSE_COUNTS_CACHE).register_script(source)


def _keys(email: str, client: str) -> list[str]:
    # Hashed: Redis holds no email addresses. An IPv6 client is its /64, which one host owns whole.
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    address = _client_network(client)
    counts = caches[settings.ABUSE_COUNTS_CACHE]
    return [
        counts.make_key(f"login-failures:account:{account}:{address}"),
        counts.make_key(f"login-failures:client:{address}"),
    ]


def _client_network(client: str) -> str:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)
