"""The same models on Spark give the same marts as on DuckDB, row for row.

The test store (the suite's demo store: 3,000 contacts, seed 11, as of 2025-06-30) is built by the
Dagster build job with DBT_TARGET=spark (landing as Spark tables, dbt build with the data tests,
no DuckDB serving file): every mart of tests/spark_support.py's COMPARED_MARTS must equal the
DuckDB build's (`except all` both ways), and the dbt unit tests pass on the catalog it left.
`make spark-test` (env SEGMENT_SPARK_FULL=1) adds a store made of rows that cannot be used (its
data_quality_issues) and the held-out real shop, UCI Online Retail (541,909 lines), each built on
both engines.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from conftest import DEMO_AS_OF, ONLINE_RETAIL_FILE, BuildPool, build_warehouse
from spark_support import (
    COMPARED_MARTS,
    assert_builds_equal,
    build_on_spark,
    compare_builds,
    export_spark_marts,
    run_dbt_on_spark,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.spark,
    pytest.mark.skipif(
        not (Path(__file__).resolve().parents[1] / ".venv" / "bin" / "python").exists(),
        reason="needs the project's .venv",
    ),
]

FULL = os.environ.get("SEGMENT_SPARK_FULL") == "1"
OR_AS_OF = "2011-12-09"


def submit_builds(builds: BuildPool, build_root: Path) -> None:
    """The Spark build of the demo store (after its generation), in the background pool."""
    from conftest import submit_demo_build

    submit_demo_build(builds, build_root)

    def demo_on_spark():
        store = builds.result("demo")[0]
        # a space in the path: the Spark settings quote it (Derby home, Java options)
        return build_on_spark(store, DEMO_AS_OF, build_root / "spark demo")

    builds.submit("spark_demo", demo_on_spark)
    if FULL:
        # a store of rows that cannot be used (tests/test_raw_contract.py): data_quality_issues
        from test_raw_contract import AS_OF as BAD_AS_OF
        from test_raw_contract import write_bad_rows_store

        bad_store = write_bad_rows_store(build_root / "spark_bad_rows_store").folder
        builds.submit(
            "bad_rows_duckdb", build_warehouse, bad_store, BAD_AS_OF, build_root / "bad_rows_duck"
        )
        builds.submit(
            "spark_bad_rows", build_on_spark, bad_store, BAD_AS_OF, build_root / "spark_bad_rows"
        )
    if FULL and ONLINE_RETAIL_FILE.exists():
        or_vars = {"source_system": "online_retail", "online_retail_path": str(ONLINE_RETAIL_FILE)}
        builds.submit(
            "online_retail",
            build_warehouse,
            or_vars,
            OR_AS_OF,
            build_root / "online_retail_warehouse",
        )
        builds.submit(
            "spark_online_retail",
            build_on_spark,
            None,
            OR_AS_OF,
            build_root / "spark_online_retail",
            or_vars,
        )


def test_test_store_marts_equal_on_spark_and_duckdb(
    builds: BuildPool, build_root: Path, demo_warehouse: Path
) -> None:
    build = builds.result("spark_demo").check()
    assert "RUN_SUCCESS" in build.output
    exported = export_spark_marts(build, build_root / "spark_demo_export")
    # the Python models' marts are DuckDB-only; everything else is on Spark
    for mart in COMPARED_MARTS:
        assert mart in exported, f"{mart} missing on Spark (tables: {exported})"
    for mart in ("customer_predictions", "customer_clusters", "predictive_model_fits"):
        assert mart not in exported
    differences = compare_builds(demo_warehouse, build_root / "spark_demo_export")
    assert_builds_equal(differences)
    rows = {difference.mart: difference.duckdb_rows for difference in differences}
    # a comparison of empty marts would prove nothing
    assert rows["customer_segments"] == 3_000
    assert rows["segment_membership"] > 20_000
    assert rows["automation_queue"] > 0


def test_unit_tests_pass_on_spark(builds: BuildPool) -> None:
    """The dbt unit tests (the rules at their boundaries, on fixed inputs) on the Spark catalog the
    test store's build left: the same tests as on DuckDB, less those of the Python models."""
    build = builds.result("spark_demo").check()
    store = builds.result("demo")[0]
    done = run_dbt_on_spark(
        build,
        [
            "test",
            "--select",
            "resource_type:unit_test",
            "--vars",
            json.dumps({"as_of_date": DEMO_AS_OF}),
        ],
        store,
    )
    assert done.returncode == 0, f"unit tests failed on Spark:\n{done.output[-6000:]}"
    summary = re.search(r"Done\. PASS=(\d+) WARN=(\d+) ERROR=(\d+) SKIP=(\d+)", done.output)
    assert summary, done.output[-3000:]
    passed, _, errors, skipped = map(int, summary.groups())
    assert errors == 0 and skipped == 0
    assert passed >= 30, f"only {passed} unit tests ran on Spark"


@pytest.mark.skipif(not FULL, reason="make spark-test (SEGMENT_SPARK_FULL=1)")
def test_bad_rows_store_marts_equal_on_spark_and_duckdb(
    builds: BuildPool, build_root: Path
) -> None:
    """The test store has no rows that cannot be used; this store is made of them."""
    duck = builds.result("bad_rows_duckdb")
    build = builds.result("spark_bad_rows").check()
    export_spark_marts(build, build_root / "spark_bad_rows_export")
    differences = compare_builds(duck, build_root / "spark_bad_rows_export")
    assert_builds_equal(differences)
    rows = {difference.mart: difference.duckdb_rows for difference in differences}
    assert rows["data_quality_issues"] >= 20


@pytest.mark.skipif(not FULL, reason="make spark-test (SEGMENT_SPARK_FULL=1)")
@pytest.mark.skipif(not ONLINE_RETAIL_FILE.exists(), reason=f"{ONLINE_RETAIL_FILE} is missing")
def test_online_retail_marts_equal_on_spark_and_duckdb(builds: BuildPool, build_root: Path) -> None:
    duck = builds.result("online_retail")
    build = builds.result("spark_online_retail").check()
    exported = export_spark_marts(build, build_root / "spark_online_retail_export")
    assert "customer_segments" in exported
    differences = compare_builds(duck, build_root / "spark_online_retail_export")
    assert_builds_equal(differences)
    rows = {difference.mart: difference.duckdb_rows for difference in differences}
    assert rows["customer_segments"] == 4_372
    assert rows["data_quality_issues"] == 140_312
