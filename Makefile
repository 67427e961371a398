# The two commands that matter: `make run` (the service, zero setup) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
PORT ?= 8000
VENV := .venv
TOOLS := .tools
UV_VERSION := 0.13.9
UV := $(TOOLS)/bin/uv
PY := $(VENV)/bin/python

export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)
export UV_NO_PROGRESS := 1

.DEFAULT_GOAL := help
.PHONY: help install run test test-unit lint format services system-packages messages clean bench

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON)
	@touch $@

install: $(VENV)/.installed  ## Create .venv with the locked dependencies

run: install  ## Run web + worker + beat with SQLite and a filesystem broker (Ctrl-C stops)
	$(PY) manage.py runstack --port $(PORT)

services: install  ## Make sure PostgreSQL and Redis answer (starts them on this machine)
	$(PY) -m tests.support.services

system-packages:  ## Install the Debian packages the tests need (chromium), when root
	bash .ci/install-debian-packages

lint: install  ## ruff, mypy, import contracts, migrations check, bandit, pip-audit
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports
	DJANGO_SETTINGS_MODULE=config.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(VENV)/bin/bandit -c pyproject.toml -r config core clinics intake leads booking followups staff -q
# Needs PyPI's JSON API; an audit it cannot do fails with PIP_AUDIT_REQUIRED=true only
# (.ci/pip-audit).
	.ci/pip-audit $(UV) $(VENV)/bin/pip-audit

format: install  ## Apply ruff's fixes and formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# CI builds the test database afresh; developers reuse it between runs (--reuse-db).
PYTEST_DB := $(if $(filter true 1 yes,$(CI)),--create-db,)

test: install system-packages services lint  ## Lint, then every test on the real services
	$(PY) -m pytest $(PYTEST_DB)

test-unit: install  ## Only the fast tests (no worker, browser or server processes)
	$(PY) -m pytest -m "not integration"

bench: install services  ## Every benchmark, then one table of ratios (docs/benchmarks.md)
	$(PY) bench/run.py $(BENCH_ARGS)

clean:  ## Remove the virtual environments and local data under var/
	rm -rf $(VENV) $(TOOLS) var

messages: install  ## Update the Turkish catalogue from the code, then compile it (needs gettext)
	$(PY) manage.py makemessages -l tr --no-location --no-wrap --ignore ".venv/*" --ignore ".tools/*" --ignore "tests/*"
	$(PY) manage.py compilemessages --ignore ".venv/*" --ignore ".tools/*"
