# The two commands: `make run` starts the whole system, `make test` runs every test.
# Both install what is missing first (Debian packages, then .venv).
PYTHON := .venv/bin/python

.PHONY: run test bench lint format deps lock clean backup restore

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

# Every service database, dumped at one moment into .stack/backups/<UTC time>/ (running or not).
backup: deps
	@$(PYTHON) -m devstack backup

# Replaces the stopped stack's data with a backup: the latest, or BACKUP=<folder>.
restore: deps
	@$(PYTHON) -m devstack restore $(if $(BACKUP),--backup "$(BACKUP)")

# .stack/ but its backups, and the runtime folders kept outside it when run as root (devstack/infra.py).
clean:
	@if [ -x $(PYTHON) ]; then $(PYTHON) -m devstack clean; else rm -rf .stack; fi

bench: deps
	@bin/bootstrap wrk
	@$(PYTHON) -m bench
