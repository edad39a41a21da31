"""``python -m devstack run`` starts the whole system in the foreground until Ctrl-C or SIGTERM;
``python -m devstack test`` runs every test suite; ``python -m devstack clean`` removes the
stack's data (not its backups); ``python -m devstack backup`` dumps every service database and
``python -m devstack restore [--backup FOLDER]`` brings a backup into a fresh stack
(``devstack/backup.py`` says what it guarantees).

A user's mistakes and the machine's (a port taken, a program missing, Postgres failing to
start) end with one line, ``devstack: ...``, and a non-zero exit, not a traceback.
"""

import argparse
import signal
import sys
import time
from pathlib import Path

from devstack.errors import MISSING_PYTHON_PACKAGE, StackError


class Stopped(Exception):
    """Ctrl-C or SIGTERM: stop every process started so far, then exit."""


def _stop_on_signals() -> None:
    def stop(signum: int, frame: object) -> None:
        # A second signal must not cut the stop short and leave processes behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise Stopped

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def run_stack() -> int:
    # Before anything is started: a signal at any moment from here on stops what was.
    _stop_on_signals()
    from devstack.stack import DEMO_STAFF_EMAIL, SERVICES, Stack, StackConfig

    stack = Stack(StackConfig.from_environment())
    # Shown once, on the run that makes it; later runs say where it is kept.
    new_password = not stack.demo_staff_password_file.exists()
    try:
        print("Starting Postgres, Redis, the SMTP sink, the services and nginx under supervisord...")
        stack.start()
        gateway = stack.gateway_url
        password = (
            f"password {stack.demo_staff_password} (kept in {stack.demo_staff_password_file})"
            if new_password
            else f"password in {stack.demo_staff_password_file}"
        )
        print(
            f"""
The stack is up. Gateway: {", ".join(stack.gateway_urls)}

  Admin sites   {"  ".join(f"{gateway}/admin/{service.name}/" for service in SERVICES)}
  API docs      {"  ".join(f"{gateway}/api/{service.name}/docs/" for service in SERVICES)}
  Login         {gateway}/login/   staff account: {DEMO_STAFF_EMAIL}, {password}
  Celery        {gateway}/admin/flower/ (Flower, for staff)
  Metrics       {"  ".join(f"{stack.service_url(service.name)}/metrics" for service in SERVICES)}
                {"  ".join(f"http://{address}/metrics" for address in stack.config.gateway_internal_addresses)} (the gateway's)
  Sent email    {stack.mail_dir} (a Maildir: every message the services send lands here)
  Logs          {stack.logs}/ (one file per process)
  Processes     .venv/bin/supervisorctl -c {stack.supervisor.config_path} status
                (and stop, start or restart NAME, e.g. catalog-web; catalog-web:* with replicas)

Ctrl-C stops everything; the data stays in {stack.state} for the next run.""",
            flush=True,
        )
        # supervisord restarts what exits; this waits for Ctrl-C, or for supervisord to end.
        while stack.supervisor.process.poll() is None:
            time.sleep(0.5)
        raise StackError(f"supervisord exited; see {stack.logs / 'supervisord.log'}")
    except Stopped:
        print("\nStopping...", flush=True)
        return 0
    finally:
        stack.stop()


def clean() -> int:
    """Remove the stack's data and the runtime folders kept outside its state folder; its
    backups stay."""
    from devstack.errors import ALREADY_RUNNING
    from devstack.stack import StackConfig, remove_stack_data
    from devstack.supervisor import Supervisor

    state = StackConfig.from_environment().state_dir
    supervisor = Supervisor(state, state / "logs")
    if supervisor.running():
        raise StackError(ALREADY_RUNNING.format(state=state, config=supervisor.config_path))
    remove_stack_data(state)
    return 0


def backup() -> int:
    from devstack.backup import backup as backup_stack
    from devstack.stack import StackConfig

    folder = backup_stack(StackConfig.from_environment())
    print(f"Backed up every service database into {folder}")
    return 0


def restore(source: str | None) -> int:
    from devstack.backup import restore as restore_stack
    from devstack.stack import StackConfig

    config = StackConfig.from_environment()
    restored = restore_stack(config, Path(source) if source else None)
    sent_again = sum(len(events) for events in restored.sent_again.values())
    print(
        f"Restored {restored.backup} into {config.state_dir}. {sent_again} event(s) on their way at the"
        " backup will be sent once more. Tokens and sessions from before are void: log in again."
        "\n`make run` starts it."
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    parser.add_argument("command", choices=["run", "test", "clean", "backup", "restore"])
    parser.add_argument(
        "--suite", action="append", help="test: run only this suite (a service, edge or end-to-end)"
    )
    parser.add_argument(
        "--backup", help="restore: this backup folder (default: the latest of the stack's own backups)"
    )
    parser.epilog = (
        "test: arguments after -- go to pytest, e.g. --suite end-to-end -- -x -k saga, or"
        " --suite end-to-end -- tests/test_roles.py for that file alone"
    )
    # Split by hand: argparse cannot take options both before a positional list and after --.
    argv = sys.argv[1:]
    own, pytest_args = (
        (argv[: argv.index("--")], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [])
    )
    arguments = parser.parse_args(own)
    try:
        if arguments.command == "test":
            from devstack.suite import run_suite

            return run_suite(pytest_args, only=arguments.suite)
        if arguments.command == "clean":
            return clean()
        if arguments.command == "backup":
            return backup()
        if arguments.command == "restore":
            return restore(arguments.backup)
        return run_stack()
    except StackError as error:
        print(f"devstack: {error}", file=sys.stderr, flush=True)
        return 1
    except ModuleNotFoundError as missing:
        print(f"devstack: {MISSING_PYTHON_PACKAGE.format(package=missing.name)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
