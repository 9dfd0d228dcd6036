# The two commands: `make run` (set up everything, load the sample, serve on :5000) and
# `make test` (set up what the tests need, run them). Both are safe to run again.
SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
WITH_ENV := scripts/with-env.sh
HOST ?= 127.0.0.1
PORT ?= 5000
# loadgroup: the tests of one xdist_group run on one worker (the replica tests share their clusters)
PYTEST_ARGS ?= -n auto --dist loadgroup

.PHONY: help run test bench system database assets venv lint clean

help:
	@echo "make run    install what is missing, migrate, load the sample, serve http://$(HOST):$(PORT)"
	@echo "make test   set up what the tests need and run them"
	@echo "make bench  benchmarks (BENCH_ARGS='--only load --load-seconds 20': the load test alone, short)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || (scripts/apt-ensure.sh python3-venv && $(PYTHON) -m venv $(VENV))

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

venv: $(VENV)/.installed

app/static/vendor/.installed-from-lock: package.json package-lock.json
	command -v npm >/dev/null || scripts/apt-ensure.sh nodejs npm
	scripts/vendor-assets.sh

assets: app/static/vendor/.installed-from-lock

system:
	scripts/ensure-postgis.sh

database: system venv
	$(WITH_ENV) $(BIN)/asset-registry db create
	$(WITH_ENV) $(BIN)/asset-registry db upgrade

run: database assets
	$(WITH_ENV) $(BIN)/asset-registry sample load
	$(WITH_ENV) $(BIN)/asset-registry serve --host $(HOST) --port $(PORT)

test: system venv assets
	scripts/apt-ensure.sh chromium gdal-bin nginx python3-qgis postgresql-client-15 poppler-utils
	$(WITH_ENV) $(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	  if [ $$status -eq 5 ]; then echo "no tests collected"; status=0; fi; exit $$status

# the load test's Locust lives in a venv of its own, never in the app's
LOAD_VENV := .bench-venv-locust
$(LOAD_VENV)/.installed: bench/requirements-load.txt
	$(PYTHON) -m venv $(LOAD_VENV) || (scripts/apt-ensure.sh python3-venv && $(PYTHON) -m venv $(LOAD_VENV))
	$(LOAD_VENV)/bin/pip install --quiet -r bench/requirements-load.txt
	touch $@

bench: database assets $(LOAD_VENV)/.installed
	scripts/apt-ensure.sh gdal-bin
	$(WITH_ENV) $(BIN)/python -m bench $(BENCH_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app registry geo cli sample_parcels bench

clean:
	rm -rf $(VENV) node_modules app/static/vendor .pytest_cache
