# segment-warehouse: the two README commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DBT := $(BIN)/dbt
DBT_FLAGS := --profiles-dir . --project-dir .
# The loader that lands the raw files in the warehouse's `raw` schema: run before every dbt build.
LAND := $(BIN)/segment-warehouse-land

DEMO_CONTACTS ?= 20000
DEMO_SEED ?= 42
DEMO_AS_OF ?= $(shell date -u +%F)
DEMO_STORE := data/demo_store
DEMO_DB := target/segment_warehouse.duckdb

SERVING_DIR := target/serving
REPORT_DIR := target/report

TEST_STORE := data/test_store
TEST_DB := target/test_warehouse.duckdb
TEST_AS_OF := 2025-06-30

.PHONY: help install demo demo-data demo-spark report test quick dbt-test lint pytest spark-test fuzz bench bench-spark bench-sync docs dagster clean

help:
	@echo "make demo   - install, generate a $(DEMO_CONTACTS)-contact demo store, build the warehouse, print a summary"
	@echo "make demo-spark - the same demo store built on Spark (profiles.yml target spark; Java 17)"
	@echo "make spark-test - the marts on Spark held against DuckDB: the test store and Online Retail"
	@echo "make report - after make demo: publish the marts to $(SERVING_DIR), write the segment report to $(REPORT_DIR)"
	@echo "make test   - everything CI checks: dbt build + tests, sqlfluff, ruff, pytest"
	@echo "make quick  - the edit-build-check loop: dbt build of the test store, sqlfluff on the SQL you changed, ruff, pytest -m 'not e2e'"
	@echo "make fuzz   - random stores, dates and vars, each build held against the pandas reference (FUZZ_CASES, FUZZ_SEED)"
	@echo "make bench  - build benchmarks (100k, 1M, 10M orders) and the daily sync (1M contacts); BENCHMARKS.md"
	@echo "make bench-spark - Spark local against DuckDB: the test store and 1M orders; BENCHMARKS.md"
	@echo "make docs   - dbt docs generate (target/index.html)"
	@echo "make dagster - the Dagster UI on http://127.0.0.1:3000"

# The virtual env is (re)built when pyproject.toml changes. uv installs in seconds; pip is the fallback.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv \
		&& $(BIN)/uv pip install --quiet --python $(BIN)/python -e '.[dev,spark]' \
		|| $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,spark]'
	touch $@

install: $(VENV)/.installed

demo-data: install
	$(BIN)/segment-warehouse-generate --contacts $(DEMO_CONTACTS) --seed $(DEMO_SEED) --as-of $(DEMO_AS_OF) --out $(DEMO_STORE)

demo: demo-data
	mkdir -p target
	DBT_DUCKDB_PATH=$(DEMO_DB) SEGMENT_RAW_DATA_PATH=$(DEMO_STORE) $(LAND)
	DBT_DUCKDB_PATH=$(DEMO_DB) SEGMENT_RAW_DATA_PATH=$(DEMO_STORE) \
		$(DBT) build $(DBT_FLAGS) --vars '{as_of_date: $(DEMO_AS_OF)}'
	$(BIN)/segment-warehouse-summary --database $(DEMO_DB)

# The demo store on Spark (dbt-spark, local session; README, "When one machine is not enough"): the
# loader lands the files as Spark tables under target/spark, then the same dbt build.
demo-spark: demo-data
	DBT_TARGET=spark SEGMENT_RAW_DATA_PATH=$(DEMO_STORE) $(LAND)
	DBT_TARGET=spark SEGMENT_RAW_DATA_PATH=$(DEMO_STORE) \
		$(DBT) build $(DBT_FLAGS) --vars '{as_of_date: $(DEMO_AS_OF)}'

# What the Dagster job does after a build (published_segments, then segment_report), for the
# warehouse `make demo` built: the marts as Parquet and serving.duckdb, then the HTML report.
report: install
	@test -f $(DEMO_DB) || { echo "$(DEMO_DB) is missing: run make demo first"; exit 1; }
	$(BIN)/python -c 'from pathlib import Path; from orchestration.publishing import publish; \
		print(publish(Path("$(DEMO_DB)"), Path("$(SERVING_DIR)"))["rows"])'
	$(BIN)/segment-warehouse-report --serving $(SERVING_DIR) --warehouse $(DEMO_DB) --out $(REPORT_DIR)

$(TEST_STORE)/.done: $(VENV)/.installed segment_warehouse/demo_store.py
	$(BIN)/segment-warehouse-generate --contacts 2000 --seed 7 --as-of $(TEST_AS_OF) --out $(TEST_STORE)
	touch $@

# dbt build (models, seeds, unit tests, data tests) on a small generated store.
dbt-test: $(TEST_STORE)/.done
	mkdir -p target
	rm -f $(TEST_DB)
	DBT_DUCKDB_PATH=$(TEST_DB) SEGMENT_RAW_DATA_PATH=$(TEST_STORE) $(LAND)
	DBT_DUCKDB_PATH=$(TEST_DB) SEGMENT_RAW_DATA_PATH=$(TEST_STORE) \
		$(DBT) build $(DBT_FLAGS) --vars '{as_of_date: $(TEST_AS_OF)}'
	DBT_DUCKDB_PATH=$(TEST_DB) SEGMENT_RAW_DATA_PATH=$(TEST_STORE) \
		$(DBT) docs generate $(DBT_FLAGS) --vars '{as_of_date: $(TEST_AS_OF)}' > target/docs_generate.log \
		|| { cat target/docs_generate.log; exit 1; }

# sqlfluff templates in one process and parses and lints in one per core (--processes 0).
# sqlfluff compiles the base_raw__ models, which look at the landing tables: the loader runs first.
# dbt-score checks the project's conventions on the parsed manifest (pyproject.toml, [tool.dbt-score]).
lint: $(TEST_STORE)/.done
	mkdir -p target
	DBT_DUCKDB_PATH=$(TEST_DB) SEGMENT_RAW_DATA_PATH=$(TEST_STORE) $(LAND)
	DBT_DUCKDB_PATH=$(TEST_DB) SEGMENT_RAW_DATA_PATH=$(TEST_STORE) \
		$(BIN)/sqlfluff lint models data-tests --processes 0
	DBT_DUCKDB_PATH=$(TEST_DB) SEGMENT_RAW_DATA_PATH=$(TEST_STORE) $(DBT) parse $(DBT_FLAGS) --quiet
	$(BIN)/dbt-score lint --manifest target/manifest.json
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

pytest: install
	$(BIN)/pytest

test: dbt-test lint pytest

# Every mart built on Spark held against DuckDB's, row for row: the test store (also in make test)
# and the held-out real shop, UCI Online Retail (tests/test_spark_equality.py).
spark-test: install
	SEGMENT_SPARK_FULL=1 $(BIN)/pytest -m spark

# The loop for whoever edits SQL (a few minutes instead of make test's full run; CI still runs
# everything): dbt build of the small test store (models, contracts, unit and data tests), sqlfluff
# on the models and data tests changed since the last commit (or new), ruff, and the pytest tests
# that build nothing (`-m 'not e2e'`: the reference rules, the activation syncs against real
# servers, docs and conventions).
QUICK_SQL = $(shell { git diff --name-only HEAD; git ls-files --others --exclude-standard; } 2>/dev/null \
	| grep -E '^(models|data-tests)/.*\.sql$$' | sort -u)

quick: $(TEST_STORE)/.done
	mkdir -p target
	DBT_DUCKDB_PATH=$(TEST_DB) SEGMENT_RAW_DATA_PATH=$(TEST_STORE) $(LAND)
	DBT_DUCKDB_PATH=$(TEST_DB) SEGMENT_RAW_DATA_PATH=$(TEST_STORE) \
		$(DBT) build $(DBT_FLAGS) --vars '{as_of_date: $(TEST_AS_OF)}'
	$(if $(QUICK_SQL),DBT_DUCKDB_PATH=$(TEST_DB) SEGMENT_RAW_DATA_PATH=$(TEST_STORE) \
		$(BIN)/sqlfluff lint $(QUICK_SQL) --processes 0,@echo "sqlfluff: no SQL changed since the last commit")
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest -m "not e2e"

FUZZ_CASES ?= 10
FUZZ_SEED ?= 1

# Not part of `make test`: each case is a whole dbt build (10 to 30 s).
fuzz: install
	$(BIN)/python tests/fuzz_vs_reference.py --cases $(FUZZ_CASES) --seed $(FUZZ_SEED)

bench: install
	$(BIN)/python -m benchmarks.bench

# Spark local against DuckDB on this machine, one after the other: the test store and 1M orders
# (BENCHMARKS.md, "Spark local against DuckDB"; SPARK_BENCH_ORDERS=test,100k,1M).
SPARK_BENCH_ORDERS ?= test,1M
bench-spark: install
	$(BIN)/python -m benchmarks.bench_spark --orders $(SPARK_BENCH_ORDERS)
	$(BIN)/python -m benchmarks.bench_sync

bench-sync: install
	$(BIN)/python -m benchmarks.bench_sync

docs: install
	DBT_DUCKDB_PATH=$(DEMO_DB) SEGMENT_RAW_DATA_PATH=$(DEMO_STORE) $(DBT) docs generate $(DBT_FLAGS)

dagster: install
	mkdir -p .dagster_home
	cp dagster.yaml .dagster_home/dagster.yaml
	DAGSTER_HOME=$(CURDIR)/.dagster_home $(BIN)/dagster dev -m orchestration.definitions -h 127.0.0.1 -p 3000

clean:
	rm -rf target logs data/test_store
