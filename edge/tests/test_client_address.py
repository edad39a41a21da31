"""edge.client_address: the client's address is the gateway's to say, and no one else's."""

import pytest
from django.test import RequestFactory

from edge.client_address import client_address


@pytest.fixture
def gateway_at(settings):
    def configure(*addresses: str) -> None:
        settings.EDGE = {**settings.EDGE, "GATEWAY_ADDRESSES": list(addresses)}

    return configure


def _request(peer: str, **headers: str):
    return RequestFactory().get("/", REMOTE_ADDR=peer, headers=headers)


def test_the_gateway_names_the_client_in_x_real_ip(gateway_at):
    gateway_at("10.210.80.10")

    assert client_address(_request("10.210.80.10", **{"X-Real-IP": "203.0.113.7"})) == "203.0.113.7"


def test_a_gateway_network_is_trusted_whole(gateway_at):
    gateway_at("10.0.0.0/8", "::1")

    assert client_address(_request("10.1.2.3", **{"X-Real-IP": "203.0.113.7"})) == "203.0.113.7"


def test_anyone_else_is_known_by_their_own_address_whatever_they_send(gateway_at):
    gateway_at("10.210.80.10")

    assert client_address(_request("192.0.2.50", **{"X-Real-IP": "203.0.113.7"})) == "192.0.2.50"


def test_a_header_that_is_not_an_address_is_ignored(gateway_at):
    gateway_at("127.0.0.1")

    assert client_address(_request("127.0.0.1", **{"X-Real-IP": "203.0.113.7, 10.0.0.1"})) == "127.0.0.1"


def test_without_the_header_the_connection_is_the_client(gateway_at):
    gateway_at("127.0.0.1")

    assert client_address(_request("127.0.0.1")) == "127.0.0.1"
