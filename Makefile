# The Exchange: `make demo` to try it, `make test` to check it. See README.md.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXCHANGE := $(BIN)/exchange
# PostgreSQL server for the second test pass; a throw-away database is created on it per run.
TEST_POSTGRES ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres
# The demo's two nodes keep their databases, keys and logs in instance/dakar and instance/abuja.
demo_env = EXCHANGE_DEMO=1 EXCHANGE_INSTANCE_PATH=$(CURDIR)/instance/$(1) EXCHANGE_KEYS_DIR=$(CURDIR)/instance/$(1)/keys

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

# Two nodes, peered, each with its web process and worker: Dakar on 127.0.0.1:5000, Abuja on
# 127.0.0.1:5001 (exchange/demo_nodes.py). Ctrl-C stops both.
demo: $(VENV)/.installed translations
	@scripts/system-packages.sh
	$(BIN)/python -m exchange.demo_nodes --instance $(CURDIR)/instance

# The current second-factor code of a demo user, read from its node's instance and key store
# (users @ng.demo live in Abuja, the others in Dakar): make demo-code EMAIL=officer@sn.demo
demo-code:
	@if [ "$(origin EMAIL)" != "command line" ]; then \
		echo "error: name the demo user: make demo-code EMAIL=officer@sn.demo" >&2; exit 2; fi
	@if [ ! -x $(EXCHANGE) ]; then echo "error: run \`make demo\` first" >&2; exit 2; fi
	@$(call demo_env,$(if $(filter %@ng.demo,$(EMAIL)),abuja,dakar)) $(EXCHANGE) demo code '$(EMAIL)'

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
	@scripts/ensure-postgres.sh
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache .ruff_cache
