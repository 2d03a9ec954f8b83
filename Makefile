# painel — one task runner. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PAINEL_HOME ?= $(CURDIR)/data
HOST ?= 127.0.0.1
PORT ?= 8866
CADEMI_PORT ?= 8867
DEMO_CADEMI_KEY := painel-demo-key
export PAINEL_HOME

.DEFAULT_GOAL := help
.PHONY: help install demo demo-data serve test test-unit test-web test-browser nbval bench lint format clean

help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN{FS=":.*?## "}{printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml constraints.txt
	@command -v $(PYTHON) >/dev/null || { echo "painel needs $(PYTHON) (set PYTHON=...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[test,analyst,dev]'
	@touch $(STAMP)

install: $(STAMP) ## create or update .venv with painel and everything the tests need

demo-data: $(STAMP) ## prepare demo sources and users; run the ETL unless a version is published
	$(BIN)/painel demo prepare
	@$(BIN)/painel store path demo >/dev/null 2>&1 && echo "dataset demo already published (painel etl run demo_enrolment refreshes it)" \
	  || $(BIN)/painel etl run demo_enrolment
	@$(BIN)/painel store path progress >/dev/null 2>&1 && echo "dataset progress already published (painel demo progress-history rebuilds weeks)" \
	  || $(BIN)/painel demo progress-history --weeks 12

demo: demo-data ## set everything up and serve the dashboards on demo data at http://$(HOST):$(PORT)
	@$(BIN)/painel demo logins
	@echo "Cademi simulator on 127.0.0.1:$(CADEMI_PORT) (limits scaled 50x, as parameters/progress.yaml expects)"
	@$(BIN)/painel simulate cademi --host 127.0.0.1 --port $(CADEMI_PORT) --rate-scale 50 --key $(DEMO_CADEMI_KEY) & sim=$$!; \
	  trap 'kill $$sim 2>/dev/null' EXIT INT TERM; \
	  CADEMI_API_KEY=$(DEMO_CADEMI_KEY) $(BIN)/painel serve --host $(HOST) --port $(PORT)

serve: $(STAMP) ## serve the dashboards on the current data directory
	$(BIN)/painel serve --host $(HOST) --port $(PORT)

test: $(STAMP) ## run every test (unit, integration, notebooks, web, browser)
	$(BIN)/python -m pytest tests
	$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider notebooks

test-unit: $(STAMP) ## the quick tests only (no server, no browser)
	$(BIN)/python -m pytest tests -m "not integration and not web and not browser and not slow"

nbval: $(STAMP) ## run every notebook against a tiny fixture store
	$(BIN)/python -m pytest --nbval-lax -p no:cacheprovider notebooks

bench: $(STAMP) ## run the benchmarks and print the figures (not part of make test)
	$(BIN)/python -m bench

lint: $(STAMP) ## ruff check
	$(BIN)/ruff check lib tests bench

format: $(STAMP) ## ruff format
	$(BIN)/ruff format lib tests bench

clean: ## remove the venv and the demo data directory
	rm -rf $(VENV) data
