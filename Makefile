# Every target creates its virtual environment on first use and installs what it needs.
#
# The suite runs twice: in .venv on the newest releases of every dependency, and in
# .venv-oldest on the oldest releases the package declares (constraints/oldest.txt).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OLDEST := .venv-oldest
OLDEST_BIN := $(OLDEST)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
OLDEST_STAMP := $(OLDEST)/.installed-dev
DOCS_STAMP := $(VENV)/.installed-docs
BENCH_STAMP := $(VENV)/.installed-bench
MUTATE_STAMP := $(VENV)/.installed-mutation
MUTATE_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: demo test test-newest test-oldest test-fast lint bench docs clean redis-server mutate

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(OLDEST_BIN)/python:
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST_BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade --upgrade-strategy eager -e '.[dev]'
	touch $@ $(RUN_STAMP)

$(OLDEST_STAMP): pyproject.toml constraints/oldest.txt | $(OLDEST_BIN)/python
	$(OLDEST_BIN)/python -m pip install --quiet -e '.[dev]' -c constraints/oldest.txt
	touch $@

$(DOCS_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

$(BENCH_STAMP): $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	touch $@

$(MUTATE_STAMP): $(DEV_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,mutation]'
	touch $@

demo: $(RUN_STAMP)
	$(BIN)/aioubiwebhooks demo

# The whole suite on the newest dependencies, then on the oldest declared ones.
test: test-newest test-oldest

# The journal tests need Debian's redis-server: installed here when missing and run as
# root; AIOUBIWEBHOOKS_REQUIRE_REDIS=1 turns a missing one into a failure, not a skip.
REDIS := AIOUBIWEBHOOKS_REQUIRE_REDIS=1

redis-server:
	@command -v redis-server >/dev/null || [ "$$(id -u)" != 0 ] || \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server)

test-newest: $(DEV_STAMP) redis-server
	$(REDIS) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-oldest: $(OLDEST_STAMP) redis-server
	$(REDIS) $(OLDEST_BIN)/python -m pytest -p no:cacheprovider $(PYTEST_ARGS)

# The unit tests only: no sockets, a few seconds.
test-fast: $(DEV_STAMP)
	$(BIN)/python -m pytest tests/unit -q

lint: $(DEV_STAMP)
	$(BIN)/ruff check aioubiwebhooks tests benchmarks tools docs/examples docs/_ext
	$(BIN)/ruff format --check aioubiwebhooks tests benchmarks tools docs/examples docs/_ext
	$(BIN)/mypy --strict aioubiwebhooks benchmarks tools

docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run_all

# Mutation testing of the modules that decide (docs/mutation.md), not part of `make test`:
# mutmut from scratch over [tool.mutmut], the hand-made mutants, then the page rewritten.
# Fails when the score is under 90%, a survivor is unexplained or a hand-made one lives.
mutate: $(MUTATE_STAMP)
	rm -rf mutants
	@start=$$(date +%s); \
	$(BIN)/mutmut run --max-children $(MUTATE_WORKERS) || exit 1; \
	$(BIN)/python tools/hand_mutants.py; hand=$$?; \
	$(BIN)/python tools/mutation_report.py --elapsed $$(( $$(date +%s) - start )) || exit 1; \
	exit $$hand

clean:
	rm -rf $(VENV) $(OLDEST) build dist site *.egg-info .pytest_cache .mypy_cache .ruff_cache mutants
