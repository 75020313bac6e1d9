# Two commands do all set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: venv demo test test-slow lint fmt bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

DEMO_DB := sqlite:///out/corridorguard.sqlite3

# The main job on the built-in CPEC scenario, on the embedded SQLite store (out/corridorguard.sqlite3):
# the store is migrated to this version and the built-in incident layer imported (both idempotent),
# then `plan` reads it from the store.
demo: venv
	mkdir -p out
	$(BIN)/corridorguard db upgrade --db $(DEMO_DB)
	$(BIN)/corridorguard incidents import-builtin cpec --db $(DEMO_DB)
	$(BIN)/corridorguard plan --scenario cpec --days 7 --seed 1 --out out --db $(DEMO_DB)

lint: venv
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

fmt: venv
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

test: lint
	$(BIN)/pytest -m "not slow" -n 2 --dist worksteal --durations=15

test-slow: venv
	$(BIN)/pytest -m slow

bench: venv
	for b in bench/bench_*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
