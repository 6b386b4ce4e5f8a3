# The Exchange: `make demo` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXCHANGE := $(BIN)/exchange
# PostgreSQL server for the second test pass; a throw-away database is created on it per run.
TEST_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
DEMO_ENV := EXCHANGE_DEMO=1 EXCHANGE_INSTANCE_PATH=$(CURDIR)/instance EXCHANGE_KEYS_DIR=$(CURDIR)/instance/keys

.PHONY: demo demo-code test test-sqlite test-postgres lint bench translations system-packages browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installed (again) whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $@

# Compile the translation catalogs (.po -> .mo); they are built, not tracked.
translations: $(VENV)/.installed
	$(BIN)/python -c "from exchange.i18n import compile_catalogs; print(compile_catalogs(), \"catalogs compiled\")"

# System packages that later parts need (WeasyPrint's Pango and HarfBuzz, fonts, PDF tools).
system-packages:
	@scripts/system-packages.sh

# Debian's Chromium for the browser tests (Playwright's own download does not work offline).
browser:
	@scripts/system-packages.sh chromium

demo: $(VENV)/.installed translations
	@scripts/system-packages.sh
	$(DEMO_ENV) $(EXCHANGE) db upgrade
	$(DEMO_ENV) $(EXCHANGE) demo setup
	@echo "Portal: http://127.0.0.1:5000  (Ctrl-C to stop)"
	$(DEMO_ENV) $(EXCHANGE) run --host 127.0.0.1 --port 5000

# The current second-factor code of a demo user, read from the demo's own instance and key store:
# make demo-code EMAIL=officer@sn.demo
demo-code:
	@if [ "$(origin EMAIL)" != "command line" ]; then \
		echo "error: name the demo user: make demo-code EMAIL=officer@sn.demo" >&2; exit 2; fi
	@if [ ! -x $(EXCHANGE) ]; then echo "error: run \`make demo\` first" >&2; exit 2; fi
	@$(DEMO_ENV) $(EXCHANGE) demo code '$(EMAIL)'

test: $(VENV)/.installed translations browser
	@scripts/ensure-redis.sh
	$(MAKE) --no-print-directory test-sqlite test-postgres

test-sqlite:
	EXCHANGE_TEST_DATABASE=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-postgres:
	@scripts/ensure-postgres.sh
	EXCHANGE_TEST_DATABASE=$(TEST_POSTGRES) $(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

bench: $(VENV)/.installed
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
