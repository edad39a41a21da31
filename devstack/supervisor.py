"""supervisord runs the stack's processes: its configuration, rendered from the programs the
stack asks for, and supervisorctl.

supervisord restarts what exits (with a growing delay while a process keeps failing to
start), stops each process with its whole group, and keeps one log file per process; the
launcher only sets things up around it. ``.venv/bin/supervisorctl -c <state>/supervisord.conf``
stops, starts and shows them (README.md, "Running it").
"""

import contextlib
import shlex
import subprocess
import sys
import xmlrpc.client
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from supervisor.xmlrpc import SupervisorTransport

from devstack.errors import ALREADY_RUNNING, StackError
from devstack.processes import in_netns, last_line, stop_group, uninterrupted, wait_until

BIN = Path(sys.executable).parent
# How long supervisord may take to stop every process: the longest stopwaitsecs and then some.
SHUTDOWN_TIMEOUT_S = 90
STOPPED_STATES = {None, "STOPPED", "EXITED", "FATAL"}
# Where a program's command says which of its replicas runs it (1, 2, ...): supervisord's own
# %(process_num)d, which the rendering would otherwise escape.
REPLICA_NUMBER = "{replica_number}"


@dataclass(frozen=True)
class Program:
    name: str
    command: list[str]
    directory: Path
    # Added to supervisord's own environment, which is the launcher's.
    environment: Mapping[str, str] = field(default_factory=dict)
    # The system user it runs as (supervisord must be root for that).
    user: str | None = None
    # supervisord starts lower priorities first and stops them last.
    priority: int = 100
    stopsignal: str = "TERM"
    stopwaitsecs: int = 10
    # How many copies run: supervisord's numprocs. With more than one, its processes are
    # ``<name>-1``, ``<name>-2``... in the group ``<name>`` (supervisorctl stop <name>:*).
    replicas: int = 1


def _escape(value: object) -> str:
    # supervisord expands %(name)s in its values: a literal % is written %%.
    return str(value).replace("%", "%%")


def _environment(values: Mapping[str, str]) -> str:
    for name, value in values.items():
        if '"' in value:
            raise StackError(f"{name} holds a double quote, which supervisord's environment cannot")
    return ",".join(f'{name}="{_escape(value)}"' for name, value in values.items())


class Supervisor:
    """One supervisord per state folder, a child of the launcher, reached on a unix socket.

    Started in a network namespace (``netns``), it and every process it runs are on that
    namespace's network (a host of its own, devstack/hosts.py). Its socket is a file, which the launcher
    reaches from any namespace.
    """

    def __init__(self, state: Path, logs: Path, netns: str | None = None) -> None:
        self.state, self.logs = state, logs
        self.netns = netns
        self.config_path = state / "supervisord.conf"
        self.socket = state / "supervisor.sock"
        self.process: subprocess.Popen | None = None
        self.programs: list[Program] = []

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def render(self, programs: Iterable[Program]) -> str:
        sections = [
            f"""\
[unix_http_server]
file={_escape(self.socket)}
chmod=0700

[supervisord]
logfile={_escape(self.logs / "supervisord.log")}
pidfile={_escape(self.state / "supervisord.pid")}
childlogdir={_escape(self.logs)}
nodaemon=true
silent=true

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface

[supervisorctl]
serverurl={_escape(self.url)}
"""
        ]
        for program in programs:
            command = _escape(shlex.join(program.command)).replace(REPLICA_NUMBER, "%(process_num)d")
            log_suffix = "-%(process_num)d" if program.replicas > 1 else ""
            lines = [
                f"[program:{program.name}]",
                f"command={command}",
                f"directory={_escape(program.directory)}",
                f"priority={program.priority}",
                "autostart=true",
                # Started again whenever it exits; one that fails within startsecs is retried
                # after 1, 2, 3... seconds, startretries times, before supervisord gives up (FATAL).
                "autorestart=true",
                "startsecs=2",
                "startretries=10",
                f"stopsignal={program.stopsignal}",
                f"stopwaitsecs={program.stopwaitsecs}",
                # Signals go to the process group: gunicorn's and Celery's workers, nginx's.
                "stopasgroup=true",
                "killasgroup=true",
                # One log per process: catalog-worker.log, or catalog-worker-1.log, -2.log...
                f"stdout_logfile={_escape(self.logs / program.name)}{log_suffix}.log",
                "stdout_logfile_maxbytes=50MB",
                "stdout_logfile_backups=2",
                "redirect_stderr=true",
            ]
            if program.replicas > 1:
                lines += [
                    f"numprocs={program.replicas}",
                    "numprocs_start=1",
                    "process_name=%(program_name)s-%(process_num)d",
                ]
            if program.user:
                lines.append(f"user={program.user}")
            if program.environment:
                lines.append(f"environment={_environment(program.environment)}")
            sections.append("\n".join(lines) + "\n")
        return "\n".join(sections)

    def write(self, programs: Iterable[Program]) -> None:
        self.programs = list(programs)
        self.logs.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.render(self.programs))
        # It holds each service's database password and secret key.
        self.config_path.chmod(0o600)

    def answers(self) -> bool:
        try:
            return self.rpc().supervisor.getState()["statename"] == "RUNNING"
        except (OSError, xmlrpc.client.Fault):
            return False

    def running(self) -> bool:
        """Whether a supervisord of this state folder runs (started by any launcher)."""
        return self.socket.exists() and self.answers()

    def start(self, programs: Iterable[Program], environment: Mapping[str, str]) -> None:
        """Start supervisord with these programs and wait until it answers."""
        if self.running():
            raise StackError(ALREADY_RUNNING.format(state=self.state, config=self.config_path))
        self.write(programs)
        with uninterrupted():
            self.process = subprocess.Popen(
                [*in_netns(self.netns), str(BIN / "supervisord"), "-c", str(self.config_path)],
                env=dict(environment),
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

        def up() -> bool:
            if self.process.poll() is not None:
                raise StackError(
                    f"supervisord exited: {last_line(self.logs / 'supervisord.log')}"
                    f" (all of it: {self.logs / 'supervisord.log'})"
                )
            return self.answers()

        wait_until(up, timeout=30, what="supervisord")

    def apply(self, programs: Iterable[Program]) -> None:
        """Rewrite the configuration and apply it: new programs start, changed ones restart,
        the others run on untouched."""
        self.write(programs)
        self.ctl("update")

    def ctl(self, *args: str) -> str:
        """supervisorctl, as a user would type it."""
        result = subprocess.run(
            [str(BIN / "supervisorctl"), "-c", str(self.config_path), *args],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"supervisorctl {' '.join(args)}: {(result.stdout + result.stderr).strip()}")
        return result.stdout

    def rpc(self) -> xmlrpc.client.ServerProxy:
        # The host is a placeholder: the transport talks to the unix socket.
        return xmlrpc.client.ServerProxy(
            "http://127.0.0.1", transport=SupervisorTransport(None, None, self.url)
        )

    def states(self) -> dict[str, dict]:
        """Each process's state as supervisord reports it (statename, pid, group...), by name:
        a program's name, or ``<program>-<n>`` for each of its replicas."""
        return {info["name"]: info for info in self.rpc().supervisor.getAllProcessInfo()}

    def _stop_programs(self) -> None:
        """Stop the programs one priority at a time, highest first (nginx, the services, then
        Postgres and Redis), and those of one priority all at once. supervisord's own shutdown
        keeps the order but stops one program at a time: twenty seconds instead of five."""
        rpc = self.rpc().supervisor
        for priority in sorted({program.priority for program in self.programs}, reverse=True):
            names = {program.name for program in self.programs if program.priority == priority}
            for name in names:
                # Not running, or not started yet: nothing to stop.
                with contextlib.suppress(xmlrpc.client.Fault):
                    rpc.stopProcessGroup(name, False)
            patience = max(program.stopwaitsecs for program in self.programs if program.name in names)

            def stopped(names: set[str] = names) -> bool:
                return all(
                    info["statename"] in STOPPED_STATES
                    for info in self.states().values()
                    if info["group"] in names
                )

            wait_until(stopped, timeout=patience + 5, what="the programs to stop")

    def pids(self) -> dict[str, int]:
        """The pid of each running process, by its name (a program's, or a replica's)."""
        return {name: info["pid"] for name, info in self.states().items() if info["pid"]}

    def pids_of(self, program: str) -> list[int]:
        """The pids of a program's running processes: one, or one per replica."""
        return sorted(
            info["pid"] for info in self.states().values() if info["group"] == program and info["pid"]
        )

    def stop(self) -> None:
        """Stop every process, then supervisord."""
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(OSError, xmlrpc.client.Fault, StackError):
                self._stop_programs()
            self.process.terminate()
            try:
                self.process.wait(SHUTDOWN_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                print("devstack: supervisord did not stop in time; killing it", file=sys.stderr)
                stop_group(self.process)
        self.process = None
