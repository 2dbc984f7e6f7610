# Quick start on a fresh machine: `make demo`, `make test`. Each creates .venv if missing.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PYTHON ?= python3

.PHONY: demo test bench bench-full docs lint format clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed-base: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[test]"
	touch $@

$(VENV)/.installed-bench: pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q -e ".[test,bench]"
	touch $@

# The demo runs in float64 (JAX_ENABLE_X64 is read by JAX at start-up; the library never sets it).
demo: $(VENV)/.installed-base
	JAX_ENABLE_X64=1 $(VENV)/bin/jaxglm demo

# Two pytest workers (CI has 2 cores; each file's tests stay in one worker, sharing its
# compiled programs). TEST_WORKERS=0 runs serially.
TEST_WORKERS ?= 2
test: $(VENV)/.installed-test
	$(PY) -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=15

# The documentation site (mkdocs + mkdocstrings) into site/, offline, warnings as errors.
docs: $(VENV)/.installed-test
	$(VENV)/bin/mkdocs build --strict --site-dir site

bench: $(VENV)/.installed-bench
	$(PY) -m benchmarks.run --quick --budget 20

bench-full: $(VENV)/.installed-bench
	$(PY) -m benchmarks.run

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check jaxglm tests benchmarks docs
	$(VENV)/bin/ruff format --check jaxglm tests benchmarks docs

format: $(VENV)/.installed-test
	$(VENV)/bin/ruff format jaxglm tests benchmarks docs
	$(VENV)/bin/ruff check --fix jaxglm tests benchmarks docs

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis site
