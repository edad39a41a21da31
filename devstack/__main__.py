"""``python -m devstack run`` starts the whole system in the foreground until Ctrl-C;
``python -m devstack test`` runs every test suite."""

import argparse
import signal
import sys
import time

from devstack.stack import DEMO_STAFF_EMAIL, DEMO_STAFF_PASSWORD, SERVICES, Stack, StackConfig
from devstack.suite import run_suite


def run_stack() -> int:
    stack = Stack(StackConfig.from_environment())
    print("Starting Postgres, Redis, the SMTP sink, four services, their workers and relays, and nginx...")
    stack.start()
    gateway = stack.gateway_url
    print(
        f"""
The stack is up. Gateway: {gateway}

  Admin sites   {"  ".join(f"{gateway}/admin/{service}/" for service in SERVICES)}
  API docs      {"  ".join(f"{gateway}/api/{service}/docs/" for service in SERVICES)}
  Login         {gateway}/login/   staff account: {DEMO_STAFF_EMAIL} / {DEMO_STAFF_PASSWORD}
  Sent email    {stack.mail_dir} (a Maildir: every message the services send lands here)
  Logs          {stack.logs}/

Ctrl-C stops everything; the data stays in {stack.state} for the next run.""",
        flush=True,
    )
    stopping = False

    def request_stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        # The stack restarts any process that exits on its own; this waits for Ctrl-C.
        while not stopping:
            time.sleep(0.5)
    finally:
        print("\nStopping...", flush=True)
        stack.stop()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="devstack", description=__doc__)
    parser.add_argument("command", choices=["run", "test"])
    parser.add_argument(
        "--suite", action="append", help="test: run only this suite (a service, edge or end-to-end)"
    )
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed on to pytest (test)")
    arguments = parser.parse_args()
    if arguments.command == "test":
        return run_suite(arguments.pytest_args, only=arguments.suite)
    return run_stack()


if __name__ == "__main__":
    sys.exit(main())
