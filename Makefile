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

# --- Poetry (the README's poetry paths) and the newest releases: run by hand, not in CI --------
POETRY := $(TOOLS)/poetry/bin/poetry

$(POETRY):
	@echo "==> installing poetry into $(TOOLS)/poetry/"
	$(PYTHON) -m venv $(TOOLS)/poetry
	$(TOOLS)/poetry/bin/pip install --quiet --disable-pip-version-check "poetry>=2.1,<3"

.PHONY: poetry-lock
poetry-lock: $(POETRY) ## after editing pyproject.toml: rewrite poetry.lock for Python 3.12 (lint checks they agree)
	@# poetry also runs the `python` of PATH (pyenv's 2.7 comes first here): make it 3.12's
	PATH=$$(dirname $$(command -v python3.12)):$$PATH; $(POETRY) env use -q python3.12 && $(POETRY) lock

.PHONY: poetry-check
poetry-check: $(TOX) $(POETRY) ## the README's poetry paths in temp dirs: install -E in a clone, add beside a pinned Airflow (POETRY_FRESH_CACHE=1: cold)
	@echo "==> poetry install -E <extra> in a copy of this tree; poetry add of its wheel in a new project"
	$(GUARD_HOME) env POETRY=$(POETRY) UV=$(TOOLS)/bin/uv bash scripts/poetry_check.sh

# The newest Airflow 2 and 3 with the newest providers, no constraints: what a user upgrading today
# gets. The af2 and af3 environments of tox.ini (vendors and vendors3 too, with LATEST_ENVS) with
# UV_CONSTRAINT holding only the Airflow major (tox installs the providers before the package's
# extra: unbounded, the newest providers would bring Airflow 3's core into an Airflow 2), in a tox
# work directory of their own (.tox-latest, recreated each run) so the pinned environments stay
# as they are. Not in CI (`make test`): its result changes with every release on PyPI.
LATEST_ENVS ?= af2,af3
LATEST_DIR := $(CURDIR)/.tox-latest
comma := ,
latest_major = $(if $(filter %3,$(1)),3,2)
LATEST_OVERRIDES := $(foreach env,$(subst $(comma), ,$(LATEST_ENVS)),\
	-x "testenv:$(env).setenv+=UV_CONSTRAINT=$(LATEST_DIR)/airflow$(call latest_major,$(env)).txt"\
	-x "testenv:$(env).setenv+=ALVIN_UNCONSTRAINED=1")

.PHONY: test-latest
test-latest: $(TOX) ## before a release: the newest Airflow 2 and 3 and providers, unconstrained (LATEST_ENVS=af2,af3)
	@echo "==> tox $(LATEST_ENVS) with the newest releases of each Airflow major (work directory .tox-latest)"
	mkdir -p $(LATEST_DIR)
	echo "apache-airflow>=2,<3" > $(LATEST_DIR)/airflow2.txt
	echo "apache-airflow>=3,<4" > $(LATEST_DIR)/airflow3.txt
	$(GUARD_HOME) $(TOX) --workdir $(LATEST_DIR) run --recreate -e $(LATEST_ENVS) $(LATEST_OVERRIDES); \
	status=$$?; $(foreach env,$(subst $(comma), ,$(LATEST_ENVS)),echo "==> $(env) got: $$($(TOOLS)/bin/uv pip list -q \
	--python $(LATEST_DIR)/$(env)/bin/python 2>/dev/null | grep -E '^apache-airflow(-core|-providers-[a-z-]+)? ' | tr -s ' ' | tr '\n' ' ')";) \
	exit $$status

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
	rm -rf $(TOOLS) $(DEMO) .tox .tox-latest build dist *.egg-info
