# Two commands matter on a fresh clone: `make run` (the main job on embedded defaults) and
# `make test`. Both create .venv and install what they need on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

export DAGSTER_HOME := $(CURDIR)
export RUNTIME__DLTHUB_TELEMETRY := false
export DO_NOT_TRACK := 1

SCENARIO ?=
ISSUES ?=
SEED ?=
WAREHOUSE ?= data/warehouse.duckdb

RUN_ARGS := --warehouse $(WAREHOUSE)
ifneq ($(SCENARIO),)
RUN_ARGS += --scenario $(SCENARIO)
endif
ifneq ($(ISSUES),)
RUN_ARGS += --issues $(ISSUES)
endif
ifneq ($(SEED),)
RUN_ARGS += --seed $(SEED)
endif

.PHONY: install run dev test lint chaos bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## The main job: start the bundled Jira Cloud simulator, connect to it as an operator would,
## materialize every asset into $(WAREHOUSE), print a summary, stop the simulator.
run: $(STAMP)
	$(BIN)/jira-sync demo $(RUN_ARGS)

## Simulator + webhook receiver + `dagster dev` on http://127.0.0.1:3000.
dev: $(STAMP)
	$(BIN)/jira-sync dev $(RUN_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not slow"

## The full reliability suite (faults, crashes, fuzzing, secrets, credentials, concurrency):
## the fast subset of `make test` and the long scenarios, each printing its figures (docs/reliability.md).
chaos: $(STAMP)
	$(BIN)/pytest -s -p no:cacheprovider --durations=0 tests/reliability

bench: $(STAMP)
	$(BIN)/python benchmarks/simulator_throughput.py
	$(BIN)/python benchmarks/import_issues.py --issues 10000

clean:
	rm -rf data .dagster_home/storage .dagster_home/compute_logs
