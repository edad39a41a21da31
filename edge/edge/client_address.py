"""The address of the client behind a request, as the gateway resolved it.

The gateway takes the client's address from ``X-Forwarded-For`` only when the connection came
from a proxy its configuration trusts (nginx's realip module, ``GATEWAY_TRUSTED_PROXIES``), and
sends the result on in ``X-Real-IP``, which it always overwrites. A service believes that header
only from the gateway (``EDGE["GATEWAY_ADDRESSES"]``): anyone else reaching a service directly
is known by the address of their own connection, whatever header they send.
"""

import ipaddress
from functools import cache

from django.http import HttpRequest

from edge.conf import edge_settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(request: HttpRequest) -> str:
    """The client's IP address: the gateway's ``X-Real-IP`` when the gateway sent the request,
    else the address of the connection."""
    peer = request.META.get("REMOTE_ADDR", "")
    forwarded = request.headers.get("X-Real-IP", "").strip()
    if forwarded and _is_ip(forwarded) and _from_gateway(peer):
        return forwarded
    return peer


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _from_gateway(peer: str) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in _networks(tuple(edge_settings.GATEWAY_ADDRESSES)))


@cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in entries if entry.strip())
