"""``make backup`` and ``make restore``: every service database of a stack, dumped at one moment
of its event flow, and brought back into a fresh stack.

A backup is a folder ``<state>/backups/<UTC time>/`` holding one ``pg_dump`` in the custom format
per service of ``edge.service_table`` (``<service>.dump``) and ``manifest.json`` (when, from
which stack, the Postgres and pg_dump versions, each dump's size and SHA-256, each service's
latest migration per app). It is written under a temporary name and renamed when complete, so
the latest backup is never a half-written one.

**One moment for all the databases.** Postgres cannot share a snapshot between databases, and
dumps taken one after the other could catch a consumer's effect of an event whose publishing
transaction is missing from the publisher's dump (a stock reservation for an order the orders
database never had). So the backup first holds, in every service database at once, an
``EXCLUSIVE`` lock on the event tables (outbox, inbox, dead letters): reading goes on, but no
transaction that publishes, marks sent, handles or dead-letters an event can commit until the
dumps are done. Then each database exports its snapshot and ``pg_dump --snapshot`` dumps
exactly that. Every transaction that sent or handled an event is in all the dumps or in none.
Writers wait for the dumps (about a second on a small stack); nothing fails. A lock that is not
granted within a few seconds (a writer holding it while it waits on another service) releases
every lock and tries again.

**What a restore guarantees.** ``make restore`` replaces the stack's data, as ``make clean``
would (its backups stay), with a fresh stack holding the backup's databases: the same users,
catalogue, stock, orders and notifications, and event tables that send every event exactly
as far as it had gone:

- an event unsent at the backup is sent by the restored relays, once;
- an event sent and handled by every subscriber is never sent again;
- an event sent that some subscriber had not handled yet (it waited in Redis, which is not
  backed up) is marked unsent again, and the relays send it once more. A subscriber that had
  handled it finds its inbox row and does nothing twice; the others handle it once.

**Redis is not backed up; a restore starts it empty.** It holds the broker's queues (the
events on their way, which the outboxes bring back as above), cached answers (rebuilt on
demand, and the catalog's cache version lives in Postgres), and the token state: each user's
standing is read again from auth's database on a miss, and the denylist of logged-out access
tokens matters only for tokens signed with the keys a restored stack no longer has. A stack
whose Redis is given by REDIS_URL has that Redis database emptied.

**Tokens and sessions do not survive a restore.** auth's signing keys and each service's
secret key are the new stack's own, so every token and session issued before it is refused and
users log in again. That is wanted: a token issued after the backup could name a user id that
the restored database gives to someone else.

**What the restore cannot finish.** An email whose notification was pending at the backup
(going out that very moment, or waiting for a retry of a refusing mail server) stays pending:
notify's admin shows it and resends it.

The restore refuses, in one line, while the stack of that state folder runs: stop it first. It
leaves the stack stopped; ``make run`` starts it (and migrates a backup of older code forward).
"""

import contextlib
import hashlib
import json
import os
import random
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from devstack.errors import StackError
from devstack.infra import postgres_bin
from devstack.processes import Command, run
from devstack.stack import ROOT, Stack, StackConfig, backups_dir, remove_stack_data
from devstack.supervisor import Supervisor
from edge.events import EVENT_TYPES
from edge.service_table import SERVICES

MANIFEST = "manifest.json"
# Backup folders are named by their UTC time, so that their names sort by age.
FOLDER_TIME = "%Y%m%dT%H%M%SZ"
PARTIAL_SUFFIX = ".partial"

# edge.messaging's tables: a write to any of them sends, handles or gives up on an event. Locked
# in the order writers take them (a handler writes its inbox row, then publishes what follows
# from it; a replayed dead letter is marked last), so that holding them never deadlocks one.
EVENT_TABLES = ("messaging_inboxmessage", "messaging_outboxmessage", "messaging_deadletter")
LOCK_TIMEOUT = "5s"
FREEZE_ATTEMPTS = 5
# The events a service has received: handled (inbox) or given up on (dead letters).
RECEIVED_SQL = (
    "SELECT event_id::text FROM messaging_inboxmessage "
    "UNION SELECT event_id FROM messaging_deadletter WHERE event_id <> ''"
)
SENT_SQL = "SELECT event_id::text, event_type FROM messaging_outboxmessage WHERE sent_at IS NOT NULL"
SEND_AGAIN_SQL = "UPDATE messaging_outboxmessage SET sent_at = NULL WHERE event_id = ANY(%s::uuid[])"
MIGRATIONS_SQL = "SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app"

NOTHING_TO_BACK_UP = "no stack has run in {state}: there is nothing to back up"
NO_BACKUP = "no backup in {folder}: make one with `make backup`, or name one with BACKUP=<folder>"
NOT_A_BACKUP = "{folder} is not a complete backup: {reason}"
RESTORE_WHILE_RUNNING = (
    "the stack of {state} is running: stop it (Ctrl-C in its terminal, or "
    "`.venv/bin/supervisorctl -c {config} shutdown`), then restore"
)
BACKUP_INSIDE_STATE = "{folder} is inside {state}, which the restore replaces: move it out, or into {backups}"
EVENT_TABLES_BUSY = "the event tables stayed locked by the stack's writers for {attempts} tries; try again"


@dataclass(frozen=True)
class Restored:
    backup: Path
    # The outbox rows sent before the backup that some subscriber had not handled: sent again.
    sent_again: dict[str, list[str]]


def backup(config: StackConfig) -> Path:
    """Dump every service database of the stack into a new backup folder; its path.

    A running stack is dumped as it runs; a stopped one has its Postgres started for the dump.
    """
    state = config.state_dir
    if config.database_url is None and not (state / "postgres" / "port").exists():
        raise StackError(NOTHING_TO_BACK_UP.format(state=state))
    stack = Stack(replace(config))
    try:
        if stack.supervisor.running():
            stack.postgres.attach()
        else:
            stack.supervisor.start(stack.postgres.prepare(stack.logs), stack.base_env)
            stack.postgres.wait_ready(stack.supervisor)
        return _dump(stack)
    finally:
        # Only what this call started: a running stack's supervisord is not this one's to stop.
        stack.stop()


def _dump(stack: Stack) -> Path:
    created = datetime.now(UTC).replace(microsecond=0)
    folder = backups_dir(stack.state) / created.strftime(FOLDER_TIME)
    if folder.exists():
        raise StackError(f"{folder} exists already: one backup a second")
    partial = folder.with_name(folder.name + PARTIAL_SUFFIX)
    partial.mkdir(parents=True)
    databases = {service.name: stack.config.database_name(service.name) for service in SERVICES}
    urls = {name: stack.postgres.url_of(database) for name, database in databases.items()}
    try:
        with _event_flow_held(urls) as connections:
            held_since = time.monotonic()
            snapshots = {
                name: connection.execute("SELECT pg_export_snapshot()").fetchone()[0]
                for name, connection in connections.items()
            }
            migrations = {
                name: dict(connection.execute(MIGRATIONS_SQL).fetchall())
                for name, connection in connections.items()
            }
            server_version = connections[SERVICES[0].name].execute("SHOW server_version").fetchone()[0]
            run(
                *(
                    _libpq_command(
                        f"pg_dump-{name}",
                        [
                            postgres_bin("pg_dump"),
                            "--format=custom",
                            f"--snapshot={snapshots[name]}",
                            f"--file={partial / f'{name}.dump'}",
                        ],
                        urls[name],
                    )
                    for name in urls
                ),
                log_dir=stack.logs,
            )
            held_for = time.monotonic() - held_since
        manifest = {
            "created_at": created.isoformat().replace("+00:00", "Z"),
            "stack": str(stack.state),
            "code": _code_version(),
            # How long the event tables were held: what a writer waited at most.
            "event_flow_held_seconds": round(held_for, 3),
            "postgres": server_version,
            "pg_dump": subprocess.run(
                [postgres_bin("pg_dump"), "--version"], capture_output=True, text=True, check=True
            ).stdout.strip(),
            "services": {
                name: {
                    "database": databases[name],
                    "dump": f"{name}.dump",
                    "bytes": (partial / f"{name}.dump").stat().st_size,
                    "sha256": _sha256(partial / f"{name}.dump"),
                    "migrations": migrations[name],
                }
                for name in urls
            },
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        partial.rename(folder)
    except BaseException:
        for leftover in partial.glob("*"):
            leftover.unlink()
        partial.rmdir()
        raise
    return folder


@contextlib.contextmanager
def _event_flow_held(urls: dict[str, str]) -> Iterator[dict[str, psycopg.Connection]]:
    """A transaction in each database that holds its event tables, all at once; the snapshot
    each then takes sees one moment of the event flow across every service."""
    lock = sql.SQL("LOCK TABLE {} IN EXCLUSIVE MODE").format(
        sql.SQL(", ").join(sql.Identifier(table) for table in EVENT_TABLES)
    )
    for attempt in range(FREEZE_ATTEMPTS):
        with contextlib.ExitStack() as opened:
            connections = {}
            try:
                for name, url in urls.items():
                    connection = opened.enter_context(psycopg.connect(url))
                    connections[name] = connection
                    connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
                    # LOCK takes no snapshot: the first query after every lock is held does.
                    connection.execute(
                        sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT))
                    )
                    connection.execute(lock)
            except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected):
                for connection in connections.values():
                    connection.rollback()
                # A writer that holds one database's tables may wait on another's: let it finish.
                time.sleep(random.uniform(0.5, 2) * (attempt + 1))  # noqa: S311  a jitter, not a secret
                continue
            except psycopg.Error as error:
                raise StackError(f"cannot read {name}'s database: {str(error).strip()}") from None
            yield connections
            for connection in connections.values():
                connection.rollback()
            return
    raise StackError(EVENT_TABLES_BUSY.format(attempts=FREEZE_ATTEMPTS))


def restore(config: StackConfig, source: Path | None = None) -> Restored:
    """Replace the stack's data with a backup's (the latest of the stack's own by default), in a
    fresh stack left stopped; the events it sends again."""
    state = config.state_dir
    supervisor = Supervisor(state, state / "logs")
    if supervisor.running():
        raise StackError(RESTORE_WHILE_RUNNING.format(state=state, config=supervisor.config_path))
    folder = (source or latest_backup(state)).resolve()
    manifest = read_backup(folder)
    backups = backups_dir(state).resolve()
    if folder.is_relative_to(state.resolve()) and not folder.is_relative_to(backups):
        raise StackError(BACKUP_INSIDE_STATE.format(folder=folder, state=state, backups=backups))

    remove_stack_data(state)
    # A copy: starting the infrastructure settles parts of its configuration (the mail sink's
    # port), which the stack started from ``config`` afterwards must settle again for itself.
    stack = Stack(replace(config))
    try:
        stack.start_infrastructure()
        stack.redis.empty()
        # Answers cached under the versions the restored catalog will count through again.
        stack.redis_cache.empty()
        urls = {}
        for service in SERVICES:
            # Empty databases, also on a server given by DATABASE_URL that holds older ones.
            stack.postgres.drop_database(config.database_name(service.name))
            urls[service.name] = stack.settings_for(service.name)["DATABASE_URL"]
        run(
            *(
                _libpq_command(
                    f"pg_restore-{name}",
                    [
                        postgres_bin("pg_restore"),
                        # Owned by the new stack's role of the service, whatever the old one was.
                        "--no-owner",
                        "--no-privileges",
                        "--exit-on-error",
                        "--single-transaction",
                        str(folder / manifest["services"][name]["dump"]),
                    ],
                    url,
                )
                for name, url in urls.items()
            ),
            log_dir=stack.logs,
        )
        sent_again = outbox_send_again_what_was_not_received(urls)
    finally:
        stack.stop()
    return Restored(folder, sent_again)


def outbox_send_again_what_was_not_received(urls: dict[str, str]) -> dict[str, list[str]]:
    """Mark unsent each sent outbox row that a subscriber has neither handled nor dead-lettered:
    the broker had it at the backup, and the restored stack's Redis does not. The relays send it
    again; a subscriber that had handled it finds it in its inbox. By publisher, the event ids."""
    received = {}
    for name, url in urls.items():
        with psycopg.connect(url) as connection:
            received[name] = {row[0] for row in connection.execute(RECEIVED_SQL)}
    sent_again = {}
    for name, url in urls.items():
        with psycopg.connect(url) as connection:
            unreceived = [
                event_id
                for event_id, event_type in connection.execute(SENT_SQL)
                if event_type in EVENT_TYPES
                and any(
                    event_id not in received[subscriber] for subscriber in EVENT_TYPES[event_type].subscribers
                )
            ]
            connection.execute(SEND_AGAIN_SQL, [unreceived])
        sent_again[name] = unreceived
    return sent_again


def latest_backup(state: Path) -> Path:
    folders = sorted(
        folder
        for folder in backups_dir(state).glob("*")
        if folder.is_dir() and not folder.name.endswith(PARTIAL_SUFFIX)
    )
    if not folders:
        raise StackError(NO_BACKUP.format(folder=backups_dir(state)))
    return folders[-1]


def read_backup(folder: Path) -> dict:
    """The backup's manifest, once every service of the table has its dump there, intact."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError) as error:
        raise StackError(
            NOT_A_BACKUP.format(folder=folder, reason=f"no readable {MANIFEST} ({error})")
        ) from None
    for service in SERVICES:
        entry = manifest.get("services", {}).get(service.name)
        if entry is None:
            raise StackError(NOT_A_BACKUP.format(folder=folder, reason=f"it has no dump of {service.name}"))
        dump = folder / entry["dump"]
        if not dump.exists() or _sha256(dump) != entry["sha256"]:
            raise StackError(
                NOT_A_BACKUP.format(folder=folder, reason=f"{dump.name} is missing or not what was dumped")
            )
    return manifest


def _libpq_command(name: str, argv: list[str], url: str) -> Command:
    """A libpq program connecting to ``url``, its password in the environment, not the command line."""
    parameters = conninfo_to_dict(url)
    password = parameters.pop("password", None)
    env = {**os.environ, **({"PGPASSWORD": password} if password else {})}
    return Command(name, [*argv, f"--dbname={make_conninfo(**parameters)}"], ROOT, env)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _code_version() -> str | None:
    """The commit of the code that made the backup, when it runs from a git checkout."""
    result = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    return result.stdout.strip() or None
