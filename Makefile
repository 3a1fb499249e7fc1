# fishhook: `make run` starts the service, `make test` runs the tests. Both set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-8s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(STAMP) ## create .venv with the service and its test tools

run: $(STAMP) ## start the service on :8000 (embedded PostgreSQL; the AceData simulator without a token)
	$(BIN)/fishhook serve

test: $(STAMP) ## run the whole test suite (FISHHOOK_TEST_DATABASE_URL, else an embedded PostgreSQL)
	$(BIN)/python -m pytest

lint: $(STAMP) ## ruff and mypy --strict
	$(BIN)/ruff check app tests migrations bench
	$(BIN)/ruff format --check app tests migrations bench
	$(BIN)/mypy app

bench: $(STAMP) ## the callback benchmark against two reference receivers (BENCH_DATABASE_URL, else embedded)
	$(BIN)/python -m bench.run

clean: ## remove .venv and the local database
	rm -rf $(VENV) .fishhook

.PHONY: help install run test lint bench clean
