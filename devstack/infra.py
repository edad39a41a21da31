"""Postgres and Redis for the stack: private instances under the state folder, run by
supervisord, or servers given by DATABASE_URL and REDIS_URL.

Postgres refuses to run as root, so as root a private cluster runs as the ``postgres`` system
user, with its files in the stack's runtime folder (``runtime_dir`` says why).
"""

import glob
import hashlib
import ipaddress
import os
import secrets
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
import redis
from psycopg import sql

from devstack.errors import MISSING_PROGRAM, PORT_TAKEN, StackError
from devstack.processes import Command, last_line, run, wait_until
from devstack.supervisor import Program, Supervisor
from edge.service_table import FLOWER, SERVICE_NAMES

POSTGRES_USER = "postgres"
# Where the stack's runtime folders are when the launcher is root (``runtime_dir`` says why).
RUNTIME_ROOT = Path("/var/lib/devstack")
INSTALL_HINT = "run `make run` or `bin/bootstrap`, which install Debian's {package} package"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def ensure_port_free(port: int, host: str = "127.0.0.1") -> None:
    if port_is_open(port, host):
        raise StackError(PORT_TAKEN.format(port=port))


def remembered(path: Path, make: Callable[[], object]) -> str:
    """A value kept in a file of the state folder, made once: a second run reuses it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(make()))
        path.chmod(0o600)
    return path.read_text().strip()


def installed(name: str, package: str, *candidates: str) -> str:
    """The path of a program, or a one-line error that says how to install it."""
    for candidate in (*candidates, shutil.which(name)):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise StackError(MISSING_PROGRAM.format(program=name, remedy=INSTALL_HINT.format(package=package)))


def postgres_bin(name: str) -> str:
    return installed(name, "postgresql", *sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))[-1:])


def runtime_dir(state_dir: Path) -> Path:
    """The folder of the files that the stack's servers open as system users: the private
    Postgres cluster (run as the postgres user: Postgres refuses root), and nginx's temporary
    files and its cache (opened by nginx's workers, www-data).

    Those users must be able to enter every folder above such a file, and the cluster's working
    directory too (initdb and postgres fail with "could not change directory ... Permission
    denied" otherwise). A clone under /root (mode 700) or in another user's home is closed to
    them, so as root these files live under /var/lib/devstack instead, in a folder named by a
    hash of the state folder's path: one per state folder, wherever the clone is. Run by
    another user, every server runs as that user, who can enter the state folder itself.
    """
    if os.geteuid() != 0:
        return state_dir
    return RUNTIME_ROOT / hashlib.sha256(str(state_dir.resolve()).encode()).hexdigest()[:16]


def claim_runtime_dir(state_dir: Path) -> Path:
    """The state folder's runtime folder, made ready; the state folder records it."""
    runtime = runtime_dir(state_dir)
    if runtime == state_dir:
        return runtime
    record = state_dir / "runtime-folder"
    if not record.exists():
        # Left by an earlier state folder of the same path (removed by hand): its cluster's
        # superuser password went with that folder.
        shutil.rmtree(runtime, ignore_errors=True)
    runtime.mkdir(parents=True, exist_ok=True)
    for folder in (RUNTIME_ROOT, runtime):
        folder.chmod(0o755)
    record.write_text(f"{runtime}\n")
    return runtime


def remove_runtime_dirs_under(folder: Path) -> None:
    """Remove the runtime folders of every state folder in ``folder`` (``make run``'s, the
    end-to-end tests', the bench's...), before the folder goes."""
    for record in folder.glob("**/runtime-folder"):
        runtime = Path(record.read_text().strip())
        if runtime.parent == RUNTIME_ROOT:
            shutil.rmtree(runtime, ignore_errors=True)


def is_loopback(address: str) -> bool:
    return ipaddress.ip_address(address).is_loopback


class Postgres:
    """A Postgres server with one database and one role per service."""

    def __init__(
        self, state_dir: Path, runtime_dir: Path, admin_url: str | None = None, address: str = "127.0.0.1"
    ) -> None:
        self.dir = state_dir / "postgres"
        self.cluster = runtime_dir / "postgres"
        self.given_url = admin_url
        # Where a private server listens: this machine only, or a host's address for the others.
        self.address = address
        self.owner = POSTGRES_USER if os.geteuid() == 0 else None

    @property
    def private(self) -> bool:
        return not self.given_url

    @property
    def admin_url(self) -> str:
        if self.given_url:
            return self.given_url
        return f"postgresql://postgres:{quote(self._superuser_password)}@{self.address}:{self.port}/postgres"

    def attach(self) -> None:
        """Learn the private cluster's port and superuser password (made on its first run), to
        reach it whether this launcher started it or another one did."""
        if self.private:
            self._superuser_password = remembered(
                self.dir / "superuser-password", lambda: secrets.token_hex(16)
            )
            self.port = int(remembered(self.dir / "port", free_port))

    def url_of(self, database: str) -> str:
        """The admin connection to one database of the server."""
        return urlunsplit(urlsplit(self.admin_url)._replace(path=f"/{quote(database)}"))

    def prepare(self, log_dir: Path) -> list[Program]:
        """Make the cluster once (initdb); the program that runs it."""
        if not self.private:
            return []
        self.dir.mkdir(parents=True, exist_ok=True)
        self.attach()
        ensure_port_free(self.port, self.address)
        data = self.cluster / "data"
        if not (data / "PG_VERSION").exists():
            self.cluster.mkdir(parents=True, exist_ok=True)
            if self.owner:
                shutil.chown(self.cluster, self.owner, self.owner)
            self.cluster.chmod(0o700)
            password_file = self.cluster / "pwfile"
            password_file.write_text(self._superuser_password)
            if self.owner:
                shutil.chown(password_file, self.owner, self.owner)
            try:
                run(
                    Command(
                        "postgres-initdb",
                        [
                            postgres_bin("initdb"),
                            "-D",
                            str(data),
                            "-U",
                            "postgres",
                            "-E",
                            "UTF8",
                            "--auth-local=peer",
                            "--auth-host=scram-sha-256",
                            f"--pwfile={password_file}",
                        ],
                        cwd=self.cluster,
                        user=self.owner,
                    ),
                    log_dir=log_dir,
                )
            finally:
                password_file.unlink(missing_ok=True)
        if not is_loopback(self.address):
            self._allow_clients_of_its_network(data / "pg_hba.conf")
        return [
            Program(
                "postgres",
                [
                    postgres_bin("postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.cluster),
                    "-c",
                    f"listen_addresses={self.address}",
                    "-c",
                    "max_connections=200",
                ],
                directory=self.cluster,
                user=self.owner,
                priority=10,
                # SIGTERM is Postgres' "smart" shutdown, which waits for every client; SIGINT is "fast".
                stopsignal="INT",
                stopwaitsecs=30,
            )
        ]

    @staticmethod
    def _allow_clients_of_its_network(hba: Path) -> None:
        """initdb lets in password logins from this machine only; a server other hosts use lets
        in those of the networks it is on too (``samenet``), with a password all the same."""
        rule = "host all all samenet scram-sha-256"
        if rule not in hba.read_text().splitlines():
            with hba.open("a") as rules:
                rules.write(f"{rule}\n")

    def wait_ready(self, supervisor: Supervisor) -> None:
        if not self.private:
            return
        log = supervisor.logs / "postgres.log"

        def accepts_connections() -> bool:
            if supervisor.states()["postgres"]["statename"] in {"BACKOFF", "FATAL", "EXITED"}:
                raise StackError(f"Postgres did not start: {last_line(log)} (all of it: {log})")
            try:
                with psycopg.connect(self.admin_url, connect_timeout=1):
                    return True
            except psycopg.OperationalError:
                return False

        wait_until(accepts_connections, timeout=60, what=f"Postgres (its log: {log})")

    def ensure_database(self, name: str, password: str) -> str:
        """Create (once) a role and its own database, which no other role may connect to."""
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            role, database = sql.Identifier(name), sql.Identifier(name)
            exists = connection.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name]).fetchone()
            verb = "ALTER" if exists else "CREATE"
            connection.execute(
                sql.SQL(verb + " ROLE {} LOGIN CREATEDB PASSWORD {}").format(role, sql.Literal(password))
            )
            if not connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(database, role))
            connection.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database))
        admin = urlsplit(self.admin_url)
        return (
            f"postgres://{quote(name)}:{quote(password)}@{admin.hostname}:{admin.port or 5432}/{quote(name)}"
        )

    def drop_database(self, name: str) -> None:
        """Remove a database and cut its connections (a restore makes it again, empty)."""
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


ADMIN_USER = "devstack"


@dataclass(frozen=True)
class RedisKind:
    """What one of the stack's Redis servers is for: its name (the program's and its folder's),
    how it keeps its data and memory, and what each service's user may do on it."""

    name: str
    arguments: tuple[str, ...]
    # An ACL rule of a service's user; ``{user}`` is the service's name.
    service_rights: str
    # The ACL rule of Flower's user, on the one server it watches (none: no such user).
    flower_rights: str = ""


# The broker and the token state: nothing may be lost or evicted. An append-only file keeps
# queued events across a restart; with memory full, writes fail rather than drop a message or a
# revocation. Each service's user may use every key and channel (the queues it sends to are the
# other services', Celery keeps keys of its own, and the token state is shared) and every command
# but those that manage the server or walk every key (FLUSHALL, CONFIG, KEYS, SHUTDOWN...:
# Redis' @dangerous). Which service may send which event is the signatures' business
# (edge.messaging.signing), not Redis'.
BROKER = RedisKind(
    "redis",
    ("--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction"),
    "~* &* +@all -@dangerous",
    # Flower reads every key (queue lengths, Celery's bindings) and writes only what its consumers
    # need: the bindings, its queues of events and of answers to its inspections, and its own keys
    # (edge.flower). It publishes on the channels (its broadcasts: inspect, enable events) and
    # listens to the workers' events.
    flower_rights=(
        "%R~* ~_kombu.binding* ~celeryev.* ~*.reply.celery.pidbox* ~flower.* &* +@all -@dangerous"
    ),
)
# The caches of answers (catalog's pages, each service's default cache): rebuilt on a miss, so
# kept in memory alone, capped, and the least recently used keys evicted when full. A flood of
# cache entries can then evict only other cache entries, never a queued event or a revocation,
# which live on the broker's server. Each service's user reaches its own keys (its cache's
# KEY_PREFIX) alone.
CACHE_MAXMEMORY = "64mb"
CACHE = RedisKind(
    "redis-cache",
    ("--appendonly", "no", "--maxmemory", CACHE_MAXMEMORY, "--maxmemory-policy", "allkeys-lru"),
    "~{user}:* +@all -@dangerous",
)


class Redis:
    """A Redis server of one ``kind`` where every client logs in: a user per service of the
    table, each with its own password, kept in the state folder (``users/<name>``) and written
    into its configuration file; devstack's own user may do anything; the default user, which
    needs no password, is off."""

    def __init__(
        self,
        state_dir: Path,
        url: str | None = None,
        address: str = "127.0.0.1",
        *,
        kind: RedisKind = BROKER,
        service_urls: dict[str, str] | None = None,
    ) -> None:
        self.kind = kind
        self.dir = state_dir / kind.name
        self.given_url = url
        self.address = address
        # Each service's own URL on a Redis that another host runs (devstack/hosts.py).
        self.given_service_urls = service_urls or {}

    @property
    def url(self) -> str:
        """devstack's own connection, which may do anything (empty it, put a message on a queue)."""
        if self.given_url:
            return self.given_url
        return self._user_url(ADMIN_USER)

    def url_for(self, name: str) -> str:
        """The connection of one service, as its own user; edge's tests, no service, connect as
        devstack. A Redis given by REDIS_URL alone is the same URL for every service."""
        if self.given_url:
            return self.given_service_urls.get(name, self.given_url)
        return self._user_url(name if name in self._user_names else ADMIN_USER)

    @property
    def _user_names(self) -> tuple[str, ...]:
        return (*SERVICE_NAMES, FLOWER) if self.kind.flower_rights else SERVICE_NAMES

    def _user_url(self, user: str) -> str:
        return f"redis://{quote(user)}:{quote(self._password(user))}@{self.address}:{self.port}/0"

    def _password(self, user: str) -> str:
        return remembered(self.dir / "users" / user, lambda: secrets.token_hex(16))

    def _configuration(self) -> str:
        """A configuration file of the server's users, readable by its owner alone: a password
        on the command line would show in every user's ``ps``."""
        users = [
            "user default off",
            f"user {ADMIN_USER} on >{self._password(ADMIN_USER)} ~* &* +@all",
            *(
                f"user {name} on >{self._password(name)} {self.kind.service_rights.format(user=name)}"
                for name in SERVICE_NAMES
            ),
            *(
                [f"user {FLOWER} on >{self._password(FLOWER)} {self.kind.flower_rights}"]
                if self.kind.flower_rights
                else []
            ),
        ]
        config = self.dir / "redis.conf"
        config.write_text("".join(f"{line}\n" for line in users))
        config.chmod(0o600)
        return str(config)

    def prepare(self) -> list[Program]:
        if self.given_url:
            return []
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = int(remembered(self.dir / "port", free_port))
        ensure_port_free(self.port, self.address)
        return [
            Program(
                self.kind.name,
                [
                    installed("redis-server", "redis-server"),
                    self._configuration(),
                    "--port",
                    str(self.port),
                    "--bind",
                    self.address,
                    "--dir",
                    str(self.dir),
                    *self.kind.arguments,
                    "--save",
                    "",
                    "--daemonize",
                    "no",
                ],
                directory=self.dir,
                priority=10,
            )
        ]

    def wait_ready(self, supervisor: Supervisor) -> None:
        if self.given_url:
            return
        wait_until(lambda: port_is_open(self.port, self.address), timeout=15, what=self.kind.name)

    def empty(self) -> None:
        """Drop every key of its database: queued tasks and token state, or cached answers."""
        client = redis.Redis.from_url(self.url)
        try:
            client.flushdb()
        finally:
            client.close()
