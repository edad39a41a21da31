"""Hosts on this machine: the system spread over network namespaces, each a host with its own
network, addresses and state folder, joined by veth links to one bridge.

A process in one namespace reaches another host only by that host's address: its 127.0.0.1
is its own. The bridge has an address too, in this (the root) namespace, so the machine that
starts the hosts (the tests) reaches every one of them by address, as a client on the
network would. Making namespaces and links needs root and iproute2's ``ip``.

``SpreadStack`` runs one system that way: a data host with Postgres, both Redis and the SMTP sink,
and app hosts, each with the gateway and one of every service process of the table.
"""

import contextlib
import fcntl
import ipaddress
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack.errors import StackError
from devstack.stack import Stack, StackConfig, copy_secrets
from edge.service_table import FLOWER, SERVICE_NAMES

# The private network the hosts are given a /24 of: 10.213.<n>.0/24, one n per running set.
NETWORK_PREFIX = "10.213"
NETNS_PREFIX = "devstack-"
# Interface names are at most 15 characters: "dsh" and the owner's pid, then "v<n>" per link.
LINK_PREFIX = "dsh"
# Held while a set of hosts picks its subnet and makes its links, so two never pick the same.
LOCK_FILE = Path("/run/lock/devstack-hosts.lock")


def unavailable() -> str | None:
    """Why hosts cannot be made here, or None when they can."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not shutil.which("ip"):
        return "iproute2's `ip` is missing (bin/bootstrap installs it)"
    return None


def _ip(*args: str) -> str:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise StackError(f"ip {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class Host:
    name: str
    netns: str
    address: str
    # Its end of the link, in the root namespace, on the bridge.
    link: str


class Network:
    """A bridge in the root namespace and, per host, a namespace joined to it by a veth pair
    (``eth0`` inside). Named after the pid of the process that made them: a set left behind
    by a process that died is removed by the next one."""

    def __init__(self, names: list[str]) -> None:
        self.owner = os.getpid()
        self.bridge = f"{LINK_PREFIX}{self.owner}"
        self.names = names
        self.hosts: dict[str, Host] = {}
        self.gateway_address = ""

    def create(self) -> "Network":
        LOCK_FILE.parent.mkdir(parents=True, exist_ok=True)
        with LOCK_FILE.open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            remove_abandoned()
            subnet = self._free_subnet()
            try:
                self._create(subnet)
            except BaseException:
                self.remove()
                raise
        return self

    def _free_subnet(self) -> ipaddress.IPv4Network:
        taken = {
            ipaddress.ip_interface(field).network
            for line in _ip("-4", "-o", "addr", "show").splitlines()
            for field in line.split()[3:4]
        }
        for step in range(256):
            subnet = ipaddress.ip_network(f"{NETWORK_PREFIX}.{(self.owner + step) % 256}.0/24")
            if not any(subnet.overlaps(other) for other in taken):
                return subnet
        raise StackError(f"no free /24 left in {NETWORK_PREFIX}.0.0/16 for the hosts")

    def _create(self, subnet: ipaddress.IPv4Network) -> None:
        addresses = list(subnet.hosts())
        self.gateway_address = str(addresses[0])
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway_address}/{subnet.prefixlen}", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")
        for number, name in enumerate(self.names):
            host = Host(
                name,
                netns=f"{NETNS_PREFIX}{self.owner}-{name}",
                address=str(addresses[10 + number]),
                link=f"{self.bridge}v{number}",
            )
            self.hosts[name] = host
            _ip("netns", "add", host.netns)
            _ip("-n", host.netns, "link", "set", "lo", "up")
            _ip("link", "add", host.link, "type", "veth", "peer", "name", "eth0", "netns", host.netns)
            _ip("link", "set", host.link, "master", self.bridge, "up")
            _ip("-n", host.netns, "addr", "add", f"{host.address}/{subnet.prefixlen}", "dev", "eth0")
            _ip("-n", host.netns, "link", "set", "eth0", "up")

    def unplug(self, name: str) -> None:
        """Take a host off the network, as a machine switched off is."""
        _ip("link", "set", self.hosts[name].link, "down")

    def remove(self) -> None:
        """Every process left in the namespaces, the namespaces (their links go with them) and
        the bridge; whatever of it exists."""
        remove_set(self.owner)


def remove_set(owner: int) -> None:
    """Remove the hosts made by ``owner``: every process in their namespaces, the namespaces,
    and the bridge and links on this side (a link whose making was cut short may be left)."""
    for netns in _namespaces():
        if netns.startswith(f"{NETNS_PREFIX}{owner}-"):
            pids = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, check=False)
            for pid in pids.stdout.split():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "delete", netns], capture_output=True, check=False)
    for link in _links():
        if re.fullmatch(rf"{LINK_PREFIX}{owner}(v[0-9]+)?", link):
            subprocess.run(["ip", "link", "delete", link], capture_output=True, check=False)


def _namespaces() -> list[str]:
    return [line.split()[0] for line in _ip("netns", "list").splitlines() if line.strip()]


def _links() -> list[str]:
    """The names of this namespace's network interfaces (a veth's without its ``@peer``)."""
    return [line.split(":")[1].strip().split("@")[0] for line in _ip("-o", "link", "show").splitlines()]


def remove_abandoned() -> None:
    """Remove the sets of hosts whose owner is gone (a run killed before its teardown)."""
    names = [
        netns.removeprefix(NETNS_PREFIX).split("-")[0]
        for netns in _namespaces()
        if netns.startswith(NETNS_PREFIX)
    ]
    names += [
        match[1] for link in _links() if (match := re.fullmatch(rf"{LINK_PREFIX}([0-9]+)(v[0-9]+)?", link))
    ]
    for owner in {int(name) for name in names if name.isdigit()}:
        if not _alive(owner):
            remove_set(owner)


DATA_HOST = "data"


class SpreadStack:
    """One system over hosts: ``data`` runs Postgres, both Redis and the SMTP sink; each app host
    (``app1``, ``app2``...) runs the gateway and one of every service process, reaching the
    data host by its address. Each host keeps its state in ``state_dir/<host>``.

    The first app host migrates and loads the demo data; the others take its secrets (database
    passwords, secret keys, signing keys) into their own state folders and start on the same
    databases. ``app_config`` is given to every app host's ``StackConfig``.
    """

    def __init__(self, state_dir: Path, *, app_hosts: int = 2, app_config: dict[str, object]) -> None:
        self.state_dir = state_dir
        self.app_names = [f"app{number}" for number in range(1, app_hosts + 1)]
        self.network = Network([DATA_HOST, *self.app_names])
        self.app_config = app_config
        self.data: Stack | None = None
        self.apps: dict[str, Stack] = {}

    def start(self) -> "SpreadStack":
        """The hosts, one after the other up to their services' processes (the first app host
        migrates the databases the others use), then every app host's processes at once."""
        try:
            self.network.create()
            self._start_data()
            configs = {name: self._app_config(name) for name in self.app_names}
            for name, config in configs.items():
                # Catalog on each app host tells every gateway, on every app host, its version.
                config.peer_gateways = [
                    address
                    for other, other_config in configs.items()
                    if other != name
                    for address in other_config.gateway_internal_addresses
                ]
                self._set_up_app(name, config)
            for app in self.apps.values():
                app.start_services()
            for app in self.apps.values():
                app.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_data(self) -> None:
        host = self.network.hosts[DATA_HOST]
        self.data = Stack(
            StackConfig(state_dir=self.state_dir / DATA_HOST, listen_address=host.address, netns=host.netns)
        )
        print(f"Starting the data host at {host.address}...", flush=True)
        self.data.start_data()

    def _app_config(self, name: str) -> StackConfig:
        host = self.network.hosts[name]
        return StackConfig(
            **{
                **self.app_config,
                "state_dir": self.state_dir / name,
                "listen_address": host.address,
                "netns": host.netns,
                "database_url": self.data.postgres.admin_url,
                "redis_url": self.data.redis.url,
                "redis_service_urls": {
                    name: self.data.redis.url_for(name) for name in (*SERVICE_NAMES, FLOWER)
                },
                "redis_cache_url": self.data.redis_cache.url,
                "redis_cache_service_urls": {
                    name: self.data.redis_cache.url_for(name) for name in SERVICE_NAMES
                },
                "smtp_address": self.data.config.local_address,
                "smtp_port": self.data.config.smtp_port,
                "migrate": name == self.app_names[0],
            }
        )

    def _set_up_app(self, name: str, config: StackConfig) -> None:
        if not config.migrate:
            config.state_dir.mkdir(parents=True, exist_ok=True)
            copy_secrets(self.apps[self.app_names[0]].state, config.state_dir)
        print(f"Setting up app host {name} at {config.listen_address}...", flush=True)
        self.apps[name] = Stack(config)
        self.apps[name].set_up()

    def stop_host(self, name: str) -> None:
        """Stop every process of an app host and take it off the network."""
        self.apps[name].stop()
        self.network.unplug(name)

    def stop(self) -> None:
        try:
            for app in self.apps.values():
                app.stop()
            if self.data:
                self.data.stop()
        finally:
            self.network.remove()

    def __enter__(self) -> "SpreadStack":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def gateways(self) -> Iterator[str]:
        return (app.gateway_url for app in self.apps.values())
