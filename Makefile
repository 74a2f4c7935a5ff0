# alvin-integration: every command a developer or CI needs. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
TOOLS := .tools
TOX := $(TOOLS)/bin/tox
# Interpreters installed with pyenv (3.8 ... 3.12) must be visible to tox.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
PYENV_BINS := $(subst $(eval) ,:,$(wildcard $(PYENV_ROOT)/versions/*/bin))
export PATH := $(if $(PYENV_BINS),$(PYENV_BINS):)$(PATH)
# The tests, the demo and the benchmarks never touch the user's Airflow home: the guard runs the
# command and fails if ~/airflow or the caller's $$AIRFLOW_HOME changed meanwhile.
export ALVIN_CALLER_AIRFLOW_HOME := $(AIRFLOW_HOME)
GUARD_HOME := $(PYTHON) tests/support/home_guard.py --

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(TOX):
	@echo "==> installing tox and uv into $(TOOLS)/"
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check tox tox-uv

DEMO := .demo
DEMO_PYTHON := $(firstword $(wildcard $(PYENV_ROOT)/versions/3.11*/bin/python3.11) python3.11)

.PHONY: demo
demo: $(TOX) ## the example DAG through Airflow 2 (pinned by compat/) to a local mock Alvin API
	@echo "==> creating $(DEMO)/venv with Airflow 2 (constraints: compat/constraints/af2.txt) and this package"
	$(TOOLS)/bin/uv venv --quiet --allow-existing --python $(DEMO_PYTHON) $(DEMO)/venv
	UV_CONSTRAINT=compat/constraints/af2.txt VIRTUAL_ENV=$(DEMO)/venv $(TOOLS)/bin/uv pip install --quiet ".[airflow2,sql]"
	@echo "==> alvin-integration demo"
	$(GUARD_HOME) $(DEMO)/venv/bin/alvin-integration demo

.PHONY: test
test: $(TOX) ## run lint and every test environment (what CI runs)
	@echo "==> tox: lint and the test matrix"
	$(GUARD_HOME) $(TOX) run-parallel --parallel-no-spinner --parallel 2 -e ALL

.PHONY: lint
lint: $(TOX) ## ruff, mypy, hadolint and the compose-spec schema
	@echo "==> lint"
	$(TOX) run -e lint

.PHONY: unit
unit: $(TOX) ## unit tests on one Python (no Airflow)
	@echo "==> unit tests"
	$(TOX) run -e unit-py311

.PHONY: bench
bench: $(TOX) ## print benchmarks (delivery, redaction, lineage extraction on the af2 row, the explorer)
	@echo "==> benchmarks (figures, not pass/fail)"
	$(GUARD_HOME) $(TOX) exec -e unit-py311 -- python benchmarks/bench_delivery.py
	$(GUARD_HOME) $(TOX) exec -e unit-py311 -- python benchmarks/bench_redact.py
	$(GUARD_HOME) $(TOX) run -e af2 --notest -q
	$(GUARD_HOME) $(TOX) exec -e af2 -- python benchmarks/bench_lineage.py
	$(GUARD_HOME) $(TOX) run -e browser --notest -q
	$(GUARD_HOME) $(TOX) exec -e browser -- python benchmarks/bench_explorer.py

.PHONY: screenshot
screenshot: $(TOX) ## docs/explorer-lineage.png: the explorer's lineage page in headless Chromium
	$(TOX) run -e browser --notest -q
	$(TOX) exec -e browser -- python scripts/screenshot_explorer.py

.PHONY: readme
readme: $(TOX) ## rewrite the README's generated tables (settings, operator families) from their declarations
	$(TOX) run -e unit-py311 --notest -q
	$(TOX) exec -e unit-py311 -- python scripts/readme_tables.py

.PHONY: soak
soak: $(TOX) ## an outage under load: 20 runs x 25 tasks on the Celery deployment, with and without us
	@echo "==> soak on the af2 row (Celery, Postgres, Redis of this machine; figures, not pass/fail)"
	$(GUARD_HOME) $(TOX) run -e af2 --notest
	$(GUARD_HOME) $(TOX) exec -e af2 -- python benchmarks/soak.py $(SOAK_ARGS)

.PHONY: bench-backfill
bench-backfill: $(TOX) ## onboarding: reconcile --backfill of 100,000 past tries on this machine's Postgres
	@echo "==> backfill on the af2 row (Postgres of this machine; figures, not pass/fail)"
	$(GUARD_HOME) $(TOX) run -e af2 --notest -q
	$(GUARD_HOME) $(TOX) exec -e af2 -- python benchmarks/bench_backfill.py $(BACKFILL_ARGS)

.PHONY: bench-compare
bench-compare: $(TOX) ## the cost per task of (a) nothing, (b) us, (c) the OpenLineage provider, in 4 API states
	@echo "==> side by side on the af2 row's Airflow (venvs in .bench/; figures, not pass/fail)"
	$(GUARD_HOME) $(PYTHON) benchmarks/compare.py $(COMPARE_ARGS)

# --- Docker (the README's local workflow). Needs a running Docker engine. ---------------------
COMPOSE_AIRFLOW2 := docker compose -f docker/airflow2/docker-compose.yaml
COMPOSE_AIRFLOW1 := docker compose -f docker/airflow1/docker-compose.yaml
define require_docker
	@docker info >/dev/null 2>&1 || { echo "make $@: no Docker engine is running. Start Docker (Docker Desktop, or the docker service), then run make $@ again."; exit 1; }
endef

.PHONY: build-airflow
build-airflow: ## build the Airflow 2 images with this package (docker/airflow2)
	@echo "==> building the Airflow 2 image with alvin-integration"
	$(require_docker)
	$(COMPOSE_AIRFLOW2) build

.PHONY: build-legacy
build-legacy: ## build the Airflow 1.10 images with this package (docker/airflow1)
	@echo "==> building the Airflow 1.10 image with alvin-integration"
	$(require_docker)
	$(COMPOSE_AIRFLOW1) build

.PHONY: run-airflow
run-airflow: ## start Airflow 2 + mock Alvin API (UI on http://localhost:8080)
	@echo "==> starting Airflow 2, Celery, postgres, redis and the mock Alvin API"
	$(require_docker)
	$(COMPOSE_AIRFLOW2) up

.PHONY: run-legacy
run-legacy: ## start Airflow 1.10 + mock Alvin API (UI on http://localhost:8080)
	@echo "==> starting Airflow 1.10, Celery, postgres, redis and the mock Alvin API"
	$(require_docker)
	$(COMPOSE_AIRFLOW1) up

.PHONY: stop
stop: ## stop the Docker environments
	@echo "==> stopping the Docker environments"
	$(require_docker)
	$(COMPOSE_AIRFLOW2) down
	$(COMPOSE_AIRFLOW1) down

.PHONY: doctor
doctor: ## check settings, network, API key and spool of this machine
	@echo "==> alvin-integration doctor"
	alvin-integration doctor

.PHONY: hooks
hooks: ## install the commit-msg hook (conventional commits)
	./scripts/pre-commit.sh

.PHONY: clean
clean: ## remove tool and test environments
	rm -rf $(TOOLS) $(DEMO) .tox build dist *.egg-info
