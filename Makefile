# Set-up and everyday commands. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: install install-dev run demo web worker test lint check bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUNTIME_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[postgres]'
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(RUNTIME_STAMP)

install: $(RUNTIME_STAMP)  ## runtime dependencies in .venv
install-dev: $(DEV_STAMP)  ## runtime + test and lint tools in .venv

run: install  ## migrate, then run Vigie (console mode without Slack credentials)
	$(BIN)/vigie db upgrade
	$(BIN)/vigie run

demo: install  ## migrate, then show alerts from the bundled sample feed (console mode)
	$(BIN)/vigie db upgrade
	$(BIN)/vigie demo

web: install
	$(BIN)/vigie db upgrade
	$(BIN)/vigie web

worker: install
	$(BIN)/vigie worker

# One test worker per core (pytest-xdist): the suite is mostly CPU-bound and ran on one core
# of CI's two. TEST_WORKERS=0 (or ARGS='-n 0') runs it in one process, as a debugger needs.
TEST_WORKERS ?= auto

test: install-dev  ## the whole test suite (SQLite and PostgreSQL) on every core; ARGS='-k digest' for pytest
	$(BIN)/pytest -n $(TEST_WORKERS) $(ARGS)

lint: install-dev  ## ruff, mypy and the dependency rules
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

check: test lint

bench: install-dev  ## every benchmark (with the stacks bench_ingest compares Vigie with)
	$(BIN)/pip install --quiet -e '.[bench]'
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
