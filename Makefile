# azlogs: every target sets itself up first (a project-local .venv and Azurite from npm).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser test test-fast demo ui lint format docs bench clean stack-down

setup: $(STAMP) node_modules/.package-lock.json

# The browser test drives Debian's chromium; installed here when missing and we may (root + apt).
browser:
	@test -x /usr/bin/chromium || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || { echo "Debian's chromium is needed by the browser test: run 'sudo apt-get install -y chromium'"; exit 1; }

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: install Python 3.11 or run 'make PYTHON=python3 ...'"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

test: setup browser
	$(BIN)/python -m pytest -n 2 --durations=15

# The edit-test loop: no service (emulator, Azurite, PostgreSQL, Chromium, webhook receiver), no Dagster
# run, no azlogs process, no generated lake (markers set in azlogs_pipeline_tests/conftest.py).
test-fast: setup
	$(BIN)/python -m pytest -n 2 -q -m "not integration and not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy azlogs_pipeline

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: setup
	$(BIN)/python -m azlogs_pipeline.demo

ui: setup
	$(BIN)/python -m azlogs_pipeline.ui

# docs/queries.md: its query sections rendered from azlogs_pipeline/queries/sql/*.sql.
docs: setup
	$(BIN)/python -m azlogs_pipeline.queries.docs docs/queries.md

bench: setup
	$(BIN)/python bench/run_all.py

stack-down: setup
	$(BIN)/azlogs stack down

clean:
	rm -rf $(VENV) node_modules .azlogs-stack
