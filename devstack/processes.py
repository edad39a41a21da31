"""Commands the launcher runs to completion while it sets the stack up (initdb, migrations,
the demo data). The long-running processes are supervisord's, not these.

Each command runs in a process group of its own: Ctrl-C in the terminal reaches the launcher
alone, which then stops everything in order, and an interrupted set-up stops the whole
command, ``runuser``'s child included, rather than leaving it behind.
"""

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from devstack.errors import StackError


@dataclass(frozen=True)
class Command:
    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str] | None = None
    # Run as this system user (when the launcher is root).
    user: str | None = None
    # Run in this network namespace: on the host that will run the processes (devstack/hosts.py).
    netns: str | None = None


def in_netns(netns: str | None) -> list[str]:
    """The start of a command line that runs the rest in that network namespace (none: here).
    ``ip netns exec`` enters it and then executes the command, which keeps its pid."""
    return ["ip", "netns", "exec", netns] if netns else []


@contextlib.contextmanager
def uninterrupted() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM while a child is started and recorded, then act on them: an
    exception raised half-way through ``Popen`` leaves the child running, unrecorded and so
    never stopped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    for signum in previous:
        signal.signal(signum, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for signum in received:
            handler = previous[signum]
            if callable(handler):
                handler(signum, None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), signum)


def run(*commands: Command, log_dir: Path) -> None:
    """Run ``commands`` side by side to completion, each with its output in
    ``log_dir/<name>.log``; a failure names the command, its last line and its log."""
    log_dir.mkdir(parents=True, exist_ok=True)
    started: list[tuple[Command, subprocess.Popen, Path]] = []
    try:
        for command in commands:
            argv = command.argv
            if command.user and os.geteuid() == 0:
                argv = ["runuser", "-u", command.user, "--", *argv]
            argv = [*in_netns(command.netns), *argv]
            log_path = log_dir / f"{command.name}.log"
            with log_path.open("wb") as log, uninterrupted():
                popen = subprocess.Popen(
                    argv,
                    cwd=command.cwd,
                    env=command.env,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
                started.append((command, popen, log_path))
        for command, popen, log_path in started:
            if popen.wait() != 0:
                raise StackError(f"{command.name} failed: {last_line(log_path)} (all of it: {log_path})")
    finally:
        for _, popen, _ in started:
            stop_group(popen)


def stop_group(popen: subprocess.Popen) -> None:
    """Stop a process and its group: politely, then for good."""
    if popen.poll() is not None:
        return
    for signum, patience in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(popen.pid, signum)
        try:
            popen.wait(patience)
            return
        except subprocess.TimeoutExpired:
            continue


def last_line(path: Path) -> str:
    """The last line of a log that says something, for a one-line error."""
    if not path.exists():
        return "(no output)"
    lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise StackError(f"timed out after {timeout:.0f}s waiting for {what}")
