# The two README commands: `make run` (set up + serve on the embedded defaults) and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := run
VENV := .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test lint format unit integration e2e examples bench migrate clean demo-data

$(VENV)/.installed: requirements.txt scripts/bootstrap.sh
	@scripts/bootstrap.sh runtime

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt scripts/bootstrap.sh scripts/fetch_twilio_spec.sh
	@scripts/bootstrap.sh dev

## Serve the app at http://$${HOST:-127.0.0.1}:$${PORT:-3000} (SQLite, local telephony provider).
run: $(VENV)/.installed
	@$(PY) -m call_center serve

## Everything CI runs: set-up, lint, types, unit, integration and end-to-end tests.
test: $(VENV)/.installed-dev
	@scripts/bootstrap.sh system
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(PY) -m pytest -n 2 tests/unit tests/integration $(PYTEST_ARGS)
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)
	scripts/run_examples.sh

lint: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

format: $(VENV)/.installed-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

unit: $(VENV)/.installed-dev
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

integration: $(VENV)/.installed-dev
	$(PY) -m pytest tests/integration $(PYTEST_ARGS)

e2e: $(VENV)/.installed-dev
	@scripts/bootstrap.sh system
	$(PY) -m pytest tests/e2e $(PYTEST_ARGS)

## The testers' example flows (examples/playwright), run from a directory of their own with only the kit.
examples: $(VENV)/.installed-dev
	@scripts/bootstrap.sh system
	scripts/run_examples.sh

## Fill a fresh database with clearly marked sample agents, contacts and calls (with recordings).
demo-data: $(VENV)/.installed
	$(PY) -m call_center demo-data

migrate: $(VENV)/.installed
	$(PY) -m call_center migrate

clean:
	rm -rf .web .web-* .states .mypy_cache .ruff_cache .pytest_cache
