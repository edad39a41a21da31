"""What a user of ``make run`` can meet: one line that says what is wrong and what to do."""

# Messages are constants so that the tests can name them.
PORT_TAKEN = "port {port} is taken (is another stack running?)"
ALREADY_RUNNING = (
    "the stack of {state} is already running; stop it with "
    "`.venv/bin/supervisorctl -c {config} shutdown` or Ctrl-C in its terminal"
)
MISSING_PROGRAM = "{program} is not installed: {remedy}"
MISSING_PYTHON_PACKAGE = "the Python package {package} is missing: run `make deps`"


class StackError(Exception):
    """An error the launcher reports as ``devstack: <message>``, without a traceback."""
