"""A stack is safe where it starts: it listens on this machine only, and no password written in
the repository opens it."""

from pathlib import Path

from devstack.stack import StackConfig, demo_staff_password_file, kept_demo_staff_password
from edge.service_table import SERVICES

LOOPBACK = "0100007F"  # 127.0.0.1 as /proc/net/tcp writes it
LISTEN = "0A"


def _listening_addresses(port: int) -> set[str]:
    """The IPv4 addresses something listens on at this port, from the kernel's socket table."""
    addresses = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, port_hex = local.split(":")
        if state == LISTEN and int(port_hex, 16) == port:
            addresses.add(address)
    return addresses


def test_the_gateways_and_every_service_listen_on_loopback_only(stack):
    ports = [
        *stack.config.gateway_ports,
        *stack.config.gateway_internal_ports,
        *(stack.config.service_port(s.name) for s in SERVICES),
    ]

    assert {port: _listening_addresses(port) for port in ports} == {port: {LOOPBACK} for port in ports}


def test_the_listen_address_is_loopback_unless_the_environment_says_otherwise(monkeypatch):
    monkeypatch.delenv("DEVSTACK_LISTEN_ADDRESS", raising=False)
    assert StackConfig.from_environment().listen_address == "127.0.0.1"

    monkeypatch.setenv("DEVSTACK_LISTEN_ADDRESS", "0.0.0.0")
    opened = StackConfig.from_environment()

    assert opened.listen_address == "0.0.0.0"
    assert opened.local_address == "127.0.0.1"


def test_each_stack_makes_its_own_demo_password_once_and_keeps_it_private(tmp_path):
    first, second = tmp_path / "one", tmp_path / "two"

    made = kept_demo_staff_password(first)

    assert kept_demo_staff_password(first) == made
    assert kept_demo_staff_password(second) != made
    assert len(made) >= 16
    assert demo_staff_password_file(first).stat().st_mode & 0o077 == 0
