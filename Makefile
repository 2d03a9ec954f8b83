# painel — one task runner. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PAINEL_HOME ?= $(CURDIR)/data
HOST ?= 127.0.0.1
PORT ?= 8866
export PAINEL_HOME

.DEFAULT_GOAL := help
.PHONY: help install demo demo-data lab serve test test-unit test-web test-browser nbval bench lint format clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt tests/oidc/package-lock.json
	@command -v $(PYTHON) >/dev/null || { echo "painel needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,analyst,dev]'
	@# the single sign-on tests' OpenID Connect provider (Node.js, from the npm registry)
	@if command -v npm >/dev/null; then cd tests/oidc && npm ci --no-audit --no-fund --silent; \
	else echo "npm not found: the single sign-on tests need Node.js 20+ (apt-get install nodejs npm)"; fi
	@touch $(STAMP)

install: $(STAMP) ## create or update .venv with painel and everything the tests need

demo-data: $(STAMP) ## demo users, sources and each domain's first published versions (idempotent)
	$(BIN)/painel demo prepare

demo: demo-data ## set everything up and serve the dashboards on demo data at http://$(HOST):$(PORT)
	$(BIN)/painel demo serve --host $(HOST) --port $(PORT)

lab: $(STAMP) ## JupyterLab on the project; dashboards render as AS=<user> (default analista), ETL writes to a scratch store
	$(BIN)/painel lab --as $(or $(AS),analista)

serve: $(STAMP) ## serve the dashboards on the current data directory
	$(BIN)/painel serve --host $(HOST) --port $(PORT)

test: lint ## lint, then every test (unit, integration, notebooks, web, browser)
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider notebooks

test-unit: $(STAMP) ## the quick tests only (no server, no browser)
	$(BIN)/python -m pytest tests -m "not integration and not web and not browser and not slow"

nbval: $(STAMP) ## run every notebook against a tiny fixture store
	$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider notebooks

bench: $(STAMP) ## run the benchmarks and print the figures (not part of make test)
	$(BIN)/python -m bench

lint: $(STAMP) ## ruff check, ruff format --check, mypy (make format fixes the formatting)
	$(BIN)/ruff check lib tests bench conftest.py
	$(BIN)/ruff format --check lib tests bench conftest.py
	$(BIN)/mypy

format: $(STAMP) ## ruff format
	$(BIN)/ruff format lib tests bench conftest.py

clean: ## remove the venv and the demo data directory
	rm -rf $(VENV) data
