"""The system over three hosts on this machine (network namespaces joined by veth links): a
data host with Postgres, Redis and the SMTP sink, and two app hosts, each with a gateway and
one of every service process, each host with its own state folder. The tests are a client on
the network: they reach each gateway by its host's address.

The tests of this module run in order, and the last stops one app host for good.
"""

import mailbox
import shutil
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import httpx
import pytest

from devstack.hosts import DATA_HOST, SpreadStack, remove_abandoned, unavailable
from devstack.infra import remove_runtime_dirs_under
from devstack.stack import DEMO_STAFF_EMAIL, ROOT, Stack
from edge.service_table import SERVICES
from tests.support import (
    DEMO_STAFF_PASSWORD,
    Account,
    MaildirInbox,
    create_orderable_product,
    create_product,
    eventually,
    log_in,
    place_order,
    register,
    wait_for_status,
)

pytestmark = pytest.mark.skipif(bool(unavailable()), reason=f"no hosts to make here: {unavailable()}")

APP_HOSTS = ["app1", "app2"]


@pytest.fixture(scope="module")
def hosts() -> Iterator[SpreadStack]:
    state = ROOT / ".stack" / "hosts"
    remove_runtime_dirs_under(state)
    shutil.rmtree(state, ignore_errors=True)
    spread = SpreadStack(
        state,
        app_hosts=len(APP_HOSTS),
        app_config={
            "demo_staff_password": DEMO_STAFF_PASSWORD,
            "visibility_timeout": 10,
            # One of each process per host, each small: two hosts share this machine's cores.
            "web_workers": 1,
            "worker_concurrency": 1,
            "extra_env": {
                "NOTIFY_RETRY_BACKOFF_SECONDS": "1",
                "NOTIFY_RETRY_BACKOFF_MAX": "2",
                # An order of 2 of 5 units: past the 20 % share, within the 3 anyone may hold.
                "CATALOG_CUSTOMER_SHARE_MIN_UNITS": "3",
            },
        },
    )
    with spread:
        yield spread


@pytest.fixture(params=APP_HOSTS)
def gateway(request: pytest.FixtureRequest, hosts: SpreadStack) -> Iterator[httpx.Client]:
    """A client of one app host's gateway (each test runs through both)."""
    with httpx.Client(base_url=hosts.apps[request.param].gateway_url, timeout=15) as client:
        yield client


@pytest.fixture(scope="module")
def gateways(hosts: SpreadStack) -> Iterator[list[httpx.Client]]:
    clients = [httpx.Client(base_url=hosts.apps[name].gateway_url, timeout=15) for name in APP_HOSTS]
    yield clients
    for client in clients:
        client.close()


@pytest.fixture(scope="module")
def inbox(hosts: SpreadStack) -> MaildirInbox:
    """The data host's SMTP sink, where every host's notify sends."""
    return MaildirInbox(hosts.data.mail_dir)


@pytest.fixture(scope="module")
def staff(gateways: list[httpx.Client]) -> dict[str, str]:
    answer = gateways[0].post(
        "/api/auth/token/", json={"email": DEMO_STAFF_EMAIL, "password": DEMO_STAFF_PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access']}"}


def _reachable(netns: str, address: str, port: int) -> bool:
    """Whether a process on the host of ``netns`` can open a connection to ``address:port``."""
    probe = f"import socket; socket.create_connection(({address!r}, {port}), timeout=2).close()"
    attempt = subprocess.run(["ip", "netns", "exec", netns, sys.executable, "-c", probe], capture_output=True)
    return attempt.returncode == 0


def _welcome_emails(hosts: SpreadStack, address: str) -> list:
    """The welcome emails to ``address`` that reached the data host's SMTP sink."""
    return [
        message
        for message in mailbox.Maildir(hosts.data.mail_dir)
        if address in message["To"] and message["Subject"] == "Welcome to Commerce"
    ]


def _namespaces() -> list[str]:
    return subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout.split()


def test_hosts_left_behind_by_a_killed_run_are_removed_by_the_next():
    killed = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from devstack.hosts import Network; Network(['a', 'b']).create(); print('up'); input()",
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert killed.stdout.readline() == "up\n"
    assert f"devstack-{killed.pid}-b" in _namespaces()
    killed.kill()
    killed.wait()

    remove_abandoned()

    assert not [netns for netns in _namespaces() if netns.startswith(f"devstack-{killed.pid}-")]
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert f"dsh{killed.pid}" not in links


def test_each_host_reaches_the_others_by_address_and_no_other_host_on_its_own_loopback(hosts):
    data = hosts.data
    postgres = urlsplit(data.postgres.admin_url)
    for name in APP_HOSTS:
        app: Stack = hosts.apps[name]
        netns = hosts.network.hosts[name].netns
        for service in SERVICES:
            settings = app.service_settings[service.name]
            assert urlsplit(settings["DATABASE_URL"]).hostname == postgres.hostname
            assert urlsplit(settings["REDIS_URL"]).hostname == data.config.local_address
            assert urlsplit(settings["REDIS_CACHE_URL"]).hostname == data.config.local_address
            assert urlsplit(settings["EMAIL_URL"]).hostname == data.config.local_address
            # Its own auth, catalog and gateway: by this host's address too.
            assert {
                urlsplit(value).hostname for variable, value in settings.items() if variable.endswith("_URL")
            } <= {data.config.local_address, app.config.local_address}
        # Postgres is on the data host's address, and nowhere on the app host's own loopback.
        assert _reachable(netns, postgres.hostname, postgres.port)
        assert not _reachable(netns, "127.0.0.1", postgres.port)
        states = {info["statename"] for info in app.supervisor.states().values()}
        assert states == {"RUNNING"}
    assert hosts.network.hosts[DATA_HOST].address == postgres.hostname
    assert len({data.state, *(app.state for app in hosts.apps.values())}) == 1 + len(APP_HOSTS)


def test_the_app_hosts_differ_only_in_their_own_addresses_and_folders(hosts):
    """Same secrets, same databases: what one host's processes seal, sign or store, the
    other's read."""
    first, second = (hosts.apps[name] for name in APP_HOSTS)
    for service in SERVICES:
        ours, theirs = first.service_settings[service.name], second.service_settings[service.name]
        assert ours.keys() == theirs.keys()
        differing = [variable for variable in ours if ours[variable] != theirs[variable]]
        assert [
            variable
            for variable in differing
            if first.config.local_address not in ours[variable] and str(first.state) not in ours[variable]
        ] == [], service.name


def test_register_log_in_and_get_the_welcome_email_through_either_gateway(hosts, gateway, inbox):
    account = register(gateway, inbox)

    me = gateway.get("/api/auth/me/", headers=account.auth)

    assert me.status_code == 200
    assert me.json()["email"] == account.email
    assert eventually(lambda: _welcome_emails(hosts, account.email), timeout=30)


def test_staff_log_in_to_the_admin_sites_through_either_gateway(gateway):
    landed = log_in(gateway, DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD)

    assert landed.status_code == 302
    for service in SERVICES:
        assert gateway.get(f"/admin/{service.name}/").status_code == 200, service.name


def test_an_order_placed_through_either_gateway_is_confirmed(hosts, gateway, inbox, staff):
    product = create_orderable_product(gateway, staff, hosts.apps[APP_HOSTS[0]], on_hand=5, price="8.00")
    customer = register(gateway, inbox)

    placed = place_order(gateway, customer, [(product["id"], 2)])

    assert placed.status_code == 201, placed.text
    wait_for_status(gateway, customer, placed.json()["id"], "confirmed")


def test_a_token_revoked_through_one_gateway_is_refused_through_both(gateways, inbox):
    first, second = gateways
    account = register(first, inbox)
    tokens = first.post(
        "/api/auth/token/", json={"email": account.email, "password": account.password}
    ).json()
    bearer = {"Authorization": f"Bearer {tokens['access']}"}
    assert [client.get("/api/orders/", headers=bearer).status_code for client in gateways] == [200, 200]

    logout = second.post("/api/auth/logout/", json={"refresh": tokens["refresh"]}, headers=bearer)

    assert logout.status_code == 204
    for path in ("/api/auth/me/", "/api/orders/", "/api/notify/notifications/"):
        assert [client.get(path, headers=bearer).status_code for client in gateways] == [401, 401], path


def test_catalog_reads_through_either_gateway_are_never_older_than_the_last_write(gateways, staff):
    """Writes alternate between the gateways; after each has answered, both gateways are read
    (their caches warm): a read older than the write is stale."""
    product = create_product(gateways[0], staff, on_hand=5, price="10.00")
    detail = f"/api/catalog/products/{product['id']}/"
    stale, warm = [], []
    for round_ in range(10):
        price = f"{11 + round_}.00"
        for client in gateways:
            client.get(detail)
            warm.append(client.get(detail).headers["X-Gateway-Cache"])
        changed = gateways[round_ % 2].patch(detail, json={"price": price}, headers=staff)
        assert changed.status_code == 200, changed.text
        for client in gateways:
            if client.get(detail).json()["price"] != price:
                stale.append((round_, str(client.base_url)))

    assert stale == []
    # Both gateways served the product from their caches before each write: a stale read could be.
    assert warm == ["HIT"] * len(warm)


def test_with_one_app_host_stopped_the_other_serves_and_confirms_orders(hosts, gateways, inbox, staff):
    stopped, surviving = gateways
    hosts.stop_host(APP_HOSTS[0])
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{stopped.base_url}/healthz", timeout=2)

    product = create_orderable_product(surviving, staff, hosts.apps[APP_HOSTS[1]], on_hand=3, price="5.00")
    customer: Account = register(surviving, inbox)
    placed = place_order(surviving, customer, [(product["id"], 1)])

    assert placed.status_code == 201, placed.text
    wait_for_status(surviving, customer, placed.json()["id"], "confirmed")
    assert eventually(lambda: _welcome_emails(hosts, customer.email), timeout=30)
