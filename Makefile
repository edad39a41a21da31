# The two commands: `make run` starts the whole system, `make test` runs every test.
# Both install what is missing first (Debian packages, then .venv).
PYTHON := .venv/bin/python

.PHONY: run test bench lint format deps lock clean

deps:
	@bin/bootstrap

run: deps
	@$(PYTHON) -m devstack run

test: deps lint
	@bin/bootstrap chromium
	@$(PYTHON) -m devstack test

lint: deps
	@.venv/bin/ruff check .
	@.venv/bin/ruff format --check .

format: deps
	@.venv/bin/ruff format .
	@.venv/bin/ruff check --fix .

# After editing requirements.in or requirements-dev.in: writes both lock files (commit all four).
lock:
	@bin/lock

# .stack/, and the runtime folders kept outside it when run as root (devstack/infra.py).
clean:
	@if [ -x $(PYTHON) ]; then $(PYTHON) -m devstack clean; else rm -rf .stack; fi

bench: deps
	@bin/bootstrap wrk
	@$(PYTHON) -m bench
