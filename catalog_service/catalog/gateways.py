"""Telling every gateway replica the cache version, with no file shared between them and catalog.

Each gateway holds the version in memory and keys its cache of public answers with it
(nginx/catalog_version.lua). After a write that moved the version commits, and before that write
answers, catalog PUTs the new version to every gateway's internal server at once. A gateway
that does not take it (stopped, unreachable, too slow) may still hold the previous version, but
only under the lease of a poll that read it before the commit: so the write then answers only
once that lease has run out, ``CATALOG_GATEWAY_LEASE_SECONDS`` after the commit. Either way,
once a write has answered, no gateway serves an answer older than it; a gateway catalog cannot
reach costs the writes a wait, never a stale read.

Where the gateways are: ``CATALOG_GATEWAYS``, the host:port of their internal servers. Each host
is resolved on every push to all its addresses, so one name can stand for every replica (a
Kubernetes headless Service, a compose service scaled up). A gateway that no name leads to yet
(a new pod before DNS lists it) is the one case left to the lease: it may serve the previous
version's answers for at most ``CATALOG_GATEWAY_LEASE_SECONDS`` after a write.
"""

import logging
import socket
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings

logger = logging.getLogger(__name__)

PUSH_PATH = "/catalog-cache-version"
# Waited past the lease, so that a gateway's last poll has surely run out whatever the two
# machines' scheduling: nothing is gained by cutting it close, the wait is already seconds.
LEASE_MARGIN_SECONDS = 0.5
# Straight to each gateway: an HTTP_PROXY of the environment is for the outside world.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def gateway_version_push(version: int, *, committed_at: float) -> list[str]:
    """Tell every gateway ``version``, which a transaction committed at ``committed_at``
    (``time.monotonic()``); return once none can serve an answer older than it.

    Returns the gateways that did not take it, each with why (the wait then covered them).
    """
    targets, missed = _gateway_targets(settings.CATALOG_GATEWAYS)
    if targets:
        with ThreadPoolExecutor(max_workers=len(targets)) as pool:
            missed += [failure for failure in pool.map(lambda url: _push(url, version), targets) if failure]
    if missed:
        lease_end = committed_at + settings.CATALOG_GATEWAY_LEASE_SECONDS + LEASE_MARGIN_SECONDS
        logger.warning(
            "Cache version %d did not reach every gateway (%s): the write answers when their "
            "lease has run out, in %.1f s",
            version,
            "; ".join(missed),
            max(lease_end - time.monotonic(), 0),
        )
        time.sleep(max(lease_end - time.monotonic(), 0))
    return missed


def _gateway_targets(gateways: list[str]) -> tuple[list[str], list[str]]:
    """The push URL of every address the gateways' names resolve to, and the names that did not
    resolve (each with why)."""
    urls: set[str] = set()
    unresolved: list[str] = []
    for gateway in gateways:
        host, _, port = gateway.rpartition(":")
        try:
            addresses = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
        except (OSError, ValueError) as error:
            unresolved.append(f"{gateway}: {error}")
            continue
        for family, _, _, _, (address, port_number, *_) in addresses:
            host_part = f"[{address}]" if family == socket.AF_INET6 else address
            urls.add(f"http://{host_part}:{port_number}{PUSH_PATH}")
    return sorted(urls), unresolved


def _push(url: str, version: int) -> str | None:
    """None once the gateway at ``url`` holds ``version`` (or a later one), else why not."""
    request = urllib.request.Request(url, data=str(version).encode(), method="PUT")  # noqa: S310
    try:
        with _opener.open(request, timeout=settings.CATALOG_GATEWAY_PUSH_TIMEOUT) as response:
            if response.status == 204:
                return None
            return f"{url}: answered {response.status}"
    except OSError as error:
        return f"{url}: {error}"
