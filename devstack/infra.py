"""Postgres and Redis for the stack: private instances under the state folder, or given servers.

Postgres refuses to run as root, so a private cluster runs as the ``postgres`` system user.
"""

import glob
import os
import secrets
import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import quote, urlsplit

import psycopg
from psycopg import sql

from devstack.processes import Process, run, wait_until


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex((host, port)) == 0


def remembered(path: Path, make: object) -> str:
    """A value kept in a file of the state folder, made once: a second run reuses it."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(str(make()))
        path.chmod(0o600)
    return path.read_text().strip()


def _postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    on_path = shutil.which(name)
    if on_path:
        return on_path
    raise FileNotFoundError(f"{name} not found: install Debian's postgresql package (make does)")


class Postgres:
    """A Postgres server with one database and one role per service."""

    def __init__(self, state_dir: Path, admin_url: str | None = None) -> None:
        self.dir = state_dir / "postgres"
        self.given_url = admin_url
        self.process: Process | None = None

    @property
    def admin_url(self) -> str:
        if self.given_url:
            return self.given_url
        return f"postgresql://postgres:{quote(self._superuser_password)}@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        if self.given_url:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self._superuser_password = remembered(self.dir / "superuser-password", lambda: secrets.token_hex(16))
        self.port = int(remembered(self.dir / "port", free_port))
        data = self.dir / "data"
        owner = "postgres" if os.geteuid() == 0 else None
        if owner:
            shutil.chown(self.dir, owner, owner)
        if not (data / "PG_VERSION").exists():
            password_file = self.dir / "pwfile"
            password_file.write_text(self._superuser_password)
            if owner:
                shutil.chown(password_file, owner, owner)
            run(
                [
                    _postgres_bin("initdb"),
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
                user=owner,
            )
            password_file.unlink()
        if port_is_open(self.port):
            raise RuntimeError(
                f"port {self.port} (Postgres of {self.dir}) is taken; is another stack running?"
            )
        argv = [
            _postgres_bin("postgres"),
            "-D",
            str(data),
            "-p",
            str(self.port),
            "-k",
            str(self.dir),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "max_connections=200",
            "-c",
            "fsync=on",
        ]
        if owner:
            argv = ["runuser", "-u", owner, "--", *argv]
        self.process = Process(
            "postgres", argv, self.dir, dict(os.environ), self.dir / "postgres.log"
        ).start()
        wait_until(self._accepts_connections, timeout=30, what="Postgres")

    def _accepts_connections(self) -> bool:
        if self.process and not self.process.running:
            raise RuntimeError(f"Postgres exited:\n{self.process.log_tail()}")
        try:
            with psycopg.connect(self.admin_url, connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self) -> None:
        if self.process:
            # SIGTERM is Postgres' "smart" shutdown, which waits for clients; SIGINT is "fast".
            self.process.signal(2)
            try:
                self.process.popen.wait(20)
            except subprocess.TimeoutExpired:
                self.process.stop()

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


class Redis:
    """Redis with an append-only file, so queued events survive a restart."""

    def __init__(self, state_dir: Path, url: str | None = None) -> None:
        self.dir = state_dir / "redis"
        self.given_url = url
        self.process: Process | None = None

    @property
    def url(self) -> str:
        return self.given_url or f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        if self.given_url:
            return
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = int(remembered(self.dir / "port", free_port))
        if port_is_open(self.port):
            raise RuntimeError(f"port {self.port} (Redis of {self.dir}) is taken; is another stack running?")
        argv = [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            "everysec",
            "--maxmemory-policy",
            "noeviction",
            "--save",
            "",
            "--daemonize",
            "no",
        ]
        self.process = Process("redis", argv, self.dir, dict(os.environ), self.dir / "redis.log").start()
        wait_until(lambda: port_is_open(self.port), timeout=15, what="Redis")

    def stop(self) -> None:
        if self.process:
            self.process.stop()
