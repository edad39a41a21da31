"""`python -m devstack run` as a user meets it: Ctrl-C or SIGTERM at any moment stops every
process it started, a clone in a folder other users cannot enter works, and what goes wrong is
one line. These start their own stacks (own state folder, own ports), not the session's."""

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from devstack.errors import PORT_TAKEN, StackError
from devstack.infra import installed, port_is_open, remove_runtime_dirs_under
from devstack.stack import ROOT, Stack, StackConfig
from edge.service_table import FLOWER, SERVICES
from tests.deployments import environment_needed
from tests.support import PORT_OFFSET, eventually

# Beside the session's stack: the same ports moved on by 300.
OFFSET = PORT_OFFSET + 300


def _launch(state: Path, output: Path) -> subprocess.Popen:
    env = {**os.environ, "DEVSTACK_STATE_DIR": str(state), "DEVSTACK_PORT_OFFSET": str(OFFSET)}
    for given in ("DATABASE_URL", "REDIS_URL"):
        env.pop(given, None)
    with output.open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "devstack", "run"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )


def _processes_of(state: Path) -> list[str]:
    """Every process whose command line or environment names the state folder: supervisord and
    all it runs (their environment has DEVSTACK_STATE_DIR), the launcher and its set-up commands."""
    mark = str(state).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            if mark in cmdline or mark in (entry / "environ").read_bytes():
                found.append(f"{entry.name}: {cmdline.replace(b'\0', b' ').decode(errors='replace')}")
        except OSError:
            continue
    return found


def _ports_of(state: Path) -> list[int]:
    config = StackConfig(state_dir=state, port_offset=OFFSET)
    remembered = [
        state / "postgres" / "port",
        state / "redis" / "port",
        state / "redis-cache" / "port",
        state / "smtp-port",
    ]
    return [
        *config.gateway_ports,
        *config.gateway_internal_ports,
        *(config.service_port(service.name) for service in SERVICES),
        *(int(path.read_text()) for path in remembered if path.exists()),
    ]


def _terminate_and_check(launcher: subprocess.Popen, state: Path) -> None:
    launcher.send_signal(15)
    launcher.wait(120)
    assert _processes_of(state) == []
    assert [port for port in _ports_of(state) if port_is_open(port)] == []


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "state"
    remove_runtime_dirs_under(tmp_path)


def test_sigterm_during_start_up_and_once_up_stops_every_process_and_frees_every_port(state, tmp_path):
    output = tmp_path / "devstack.out"
    launcher = _launch(state, output)
    try:
        # Migrations running: Postgres, both Redis, the SMTP sink, supervisord and eight set-up commands.
        eventually(lambda: (state / "logs" / "catalog-migrate.log").exists(), timeout=120)
        _terminate_and_check(launcher, state)

        # A second run finds its ports free and its data as the first left it.
        launcher = _launch(state, output)
        config = StackConfig(state_dir=state, port_offset=OFFSET)
        eventually(
            lambda: port_is_open(config.gateway_port) and "The stack is up" in output.read_text(), timeout=240
        )
        _terminate_and_check(launcher, state)
        assert launcher.returncode == 0, output.read_text()
    finally:
        if launcher.poll() is None:
            launcher.kill()


def test_a_port_taken_is_one_line_and_a_failure_not_a_traceback(state):
    gateway_port = StackConfig(port_offset=OFFSET).gateway_port
    with socket.socket() as taken:
        # A connection to an earlier test's gateway on this port may still be in TIME_WAIT.
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        taken.bind(("127.0.0.1", gateway_port))
        taken.listen()
        result = subprocess.run(
            [sys.executable, "-m", "devstack", "run"],
            cwd=ROOT,
            env={**os.environ, "DEVSTACK_STATE_DIR": str(state), "DEVSTACK_PORT_OFFSET": str(OFFSET)},
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert result.returncode != 0
    assert result.stderr == f"devstack: {PORT_TAKEN.format(port=gateway_port)}\n"
    assert "Traceback" not in result.stdout


def test_a_missing_program_says_how_to_install_it():
    with pytest.raises(StackError, match=r"^no-such-server is not installed: .*no-such-package"):
        installed("no-such-server", "no-such-package")


@pytest.fixture
def closed_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder only its owner may enter, as /root is (mode 700)."""
    folder = tmp_path / "closed"
    folder.mkdir()
    folder.chmod(0o700)
    yield folder
    remove_runtime_dirs_under(folder)


def _infrastructure(state: Path) -> Stack:
    return Stack(StackConfig(state_dir=state, port_offset=OFFSET))


def test_postgres_and_nginx_run_for_a_clone_in_a_folder_others_cannot_enter(closed_folder, tmp_path):
    if os.geteuid() == 0:
        # Postgres runs as the postgres user there, nginx's workers as www-data: neither can enter.
        for user in ("postgres", "www-data"):
            assert subprocess.run(["runuser", "-u", user, "--", "test", "-x", str(closed_folder)]).returncode
    stack = _infrastructure(closed_folder / "clone" / ".stack")
    # Catalog's part, played by a static file server: the gateway polls the catalog's cache
    # version, and nginx's workers keep the answer in their cache.
    (tmp_path / "catalog" / "api" / "catalog" / "products").mkdir(parents=True)
    (tmp_path / "catalog" / "api" / "catalog" / "products" / "index.html").write_text("[]")
    (tmp_path / "catalog" / "internal").mkdir()
    (tmp_path / "catalog" / "internal" / "cache-version").write_text("1")
    catalog = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "http.server",
            str(stack.config.service_port("catalog")),
            "--bind",
            "127.0.0.1",
        ],
        cwd=tmp_path / "catalog",
        stderr=subprocess.DEVNULL,
    )
    try:
        stack.start_infrastructure()
        with psycopg.connect(stack.service_env["orders"]["DATABASE_URL"], connect_timeout=3) as connection:
            assert connection.execute("SELECT current_user").fetchone()[0] == "orders"
        stack.supervisor.apply([*stack.programs.values(), *stack.gateway_programs().values()])
        products = f"{stack.gateway_url}/api/catalog/products/"
        eventually(lambda: port_is_open(stack.config.gateway_port), timeout=30)
        # Until its first poll has answered, the gateway serves nothing from its cache.
        eventually(lambda: httpx.get(products).headers["X-Gateway-Cache"] != "BYPASS", timeout=10)
        answers = [httpx.get(products) for _ in range(2)]
    finally:
        stack.stop()
        catalog.terminate()
        catalog.wait(10)

    assert [answer.status_code for answer in answers] == [200, 200]
    assert [answer.headers["X-Gateway-Cache"] for answer in answers] == ["HIT", "HIT"]


def test_postgres_failing_to_start_is_one_line_that_names_its_log(closed_folder):
    state = closed_folder / "clone" / ".stack"
    stack = _infrastructure(state)
    try:
        stack.start_infrastructure()
    finally:
        stack.stop()
    with (stack.postgres.cluster / "data" / "postgresql.conf").open("a") as config:
        config.write("no_such_setting = on\n")

    stack = _infrastructure(state)
    started = time.monotonic()
    try:
        with pytest.raises(StackError) as failure:
            stack.start_infrastructure()
    finally:
        stack.stop()

    assert re.fullmatch(r"Postgres did not start: .+ \(all of it: \S+/postgres\.log\)", str(failure.value))
    assert time.monotonic() - started < 30


def test_supervisord_runs_the_processes_the_service_table_names_and_no_other(stack):
    def replicas(name: str, role: str) -> set[str]:
        count = stack.config.replicas_of(role)
        return {name} if count == 1 else {f"{name}-{number}" for number in range(1, count + 1)}

    # A worker only for a service with a queue: auth consumes no event, so it has none.
    expected = {
        process
        for service in SERVICES
        for role in service.processes
        for process in replicas(f"{service.name}-{role}", role)
    }

    states = stack.supervisor.states()

    # The session's stack sends email to the tests' own SMTP server: no sink runs.
    assert set(states) == {
        *expected,
        "postgres",
        "redis",
        "redis-cache",
        FLOWER,
        *stack.config.gateway_names,
    }
    assert {name: info["statename"] for name, info in states.items()} == dict.fromkeys(states, "RUNNING")
    # Its workers and relays run replicated, each replica in its program's group.
    assert {name for name, info in states.items() if info["group"] == "catalog-worker"} == {
        "catalog-worker-1",
        "catalog-worker-2",
    }
    assert len(stack.supervisor.pids_of("orders-relay")) == 2


def test_the_stack_gives_each_service_what_compose_and_kubernetes_must_give_it(stack):
    # The deployments' tests hold compose.yml and deploy/k8s to the same list; the local stack
    # alone may leave the allowed hosts at their default, which is its own host.
    for service in SERVICES:
        needed = environment_needed(service) - {"DJANGO_ALLOWED_HOSTS"}

        missing = needed - set(stack.service_settings[service.name])

        assert not missing, f"devstack gives {service.name} no {sorted(missing)}"


def test_the_web_replicas_of_a_service_share_its_port_and_each_serves_requests(stack):
    path = "/api/catalog/health/"
    logs = [stack.logs / "catalog-web-1.log", stack.logs / "catalog-web-2.log"]

    def served() -> list[int]:
        return [log.read_text().count(path) for log in logs]

    before = served()
    # A connection each: the kernel hands each new one to either replica.
    answers = [httpx.get(f"{stack.service_url('catalog')}{path}") for _ in range(20)]

    assert {answer.status_code for answer in answers} == {200}
    assert eventually(lambda: all(now > then for now, then in zip(served(), before, strict=True)), timeout=10)


def test_stopping_a_replicated_program_stops_every_replica_and_starting_it_starts_them(stack):
    stack.stop_process("notify-relay")
    try:
        stopped = {name: info["statename"] for name, info in stack.supervisor.states().items()}
    finally:
        stack.start_process("notify-relay")

    assert (stopped["notify-relay-1"], stopped["notify-relay-2"]) == ("STOPPED", "STOPPED")
    assert len(stack.supervisor.pids_of("notify-relay")) == 2
