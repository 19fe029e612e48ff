"""The project built on Spark (profiles.yml's `spark` target) and its marts held against DuckDB's.

A Spark build runs as the Dagster build job with DBT_TARGET=spark (the one setting that selects
the engine), in a process of its own whose Spark folder (SEGMENT_SPARK_DIR: Parquet tables, Derby
catalog) lives in the test's temporary folder. Its marts are written out as Parquet by a second
process (the embedded catalog takes one process at a time) and compared with the DuckDB build of
the same store and date in DuckDB: `except all` both ways on every column, the Spark values cast
to the DuckDB column's type after checking that both are of the same kind (a decimal stays a
decimal, a double a double), so equal means equal, not close.

Left out of the comparison, because they come from the Python models, which run on DuckDB only
(README, "When one machine is not enough"): the predictive and cluster columns of
customer_segments (null on Spark) and their membership families.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

ROOT = Path(__file__).resolve().parents[1]
PYTHON = ROOT / ".venv" / "bin" / "python"

#: The marts held against DuckDB (schema main). The predictive and cluster marts are DuckDB-only.
COMPARED_MARTS = (
    "customer_rfm",
    "customer_lifecycle",
    "customer_focus_segments",
    "customer_engagement",
    "customer_scores",
    "customer_profile",
    "customer_microsegments",
    "customer_segments",
    "segment_membership",
    "segment_membership_history",
    "segment_membership_changes",
    "data_quality_issues",
    "automation_entries",
    "automation_queue",
    "automation_issued",
    "automation_held",
    "activation_members",
    "activation_automation_steps",
)
#: Columns filled by the Python models on DuckDB and null on Spark.
PYTHON_COLUMNS = (
    "p_alive",
    "expected_orders_365d",
    "predicted_clv_365d",
    "churn_risk",
    "value_tier",
    "purchase_intent",
    "cluster_name",
)
#: segment_membership families that come from those columns.
PYTHON_FAMILIES = ("churn_risk", "value_tier", "purchase_intent", "cluster")

_KINDS = {
    "TINYINT": "integer",
    "SMALLINT": "integer",
    "INTEGER": "integer",
    "BIGINT": "integer",
    "HUGEINT": "integer",
    "DOUBLE": "double",
    "FLOAT": "double",
    "VARCHAR": "text",
    "JSON": "text",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamp",
    "TIMESTAMP_NS": "timestamp",
}


def kind_of(duckdb_type: str) -> str:
    """The kind of a DuckDB type, for the engines' types to be compared (DECIMAL(18,2) and
    DECIMAL(38,6) are both decimal; BIGINT and INTEGER both integer)."""
    if duckdb_type.startswith("DECIMAL"):
        return "decimal"
    if duckdb_type.startswith("STRUCT"):
        return "struct"
    if duckdb_type.endswith("[]"):
        return "list"
    return _KINDS.get(duckdb_type, duckdb_type)


def spark_env(folder: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a Spark build whose files and catalog live in `folder`."""
    env = os.environ.copy()
    for name in ("DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "DBT_LOG_PATH", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)
    env.update(
        {
            "DBT_TARGET": "spark",
            "SEGMENT_SPARK_DIR": str(folder / "spark"),
            "DBT_TARGET_PATH": str(folder / "dbt-target"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update(extra or {})
    return env


@dataclass
class SparkBuild:
    folder: Path
    returncode: int
    output: str
    seconds: float

    def check(self) -> SparkBuild:
        assert self.returncode == 0, f"Spark build failed:\n{self.output[-6000:]}"
        return self


_DAGSTER_BUILD = """
import json, sys
import dagster as dg
from orchestration.dbt import build_run_config
from orchestration.definitions import defs
from orchestration.jobs import BUILD_JOB_NAME
from orchestration.resources import ENGINE
assert ENGINE == "spark", ENGINE
as_of, dbt_vars = sys.argv[1], json.loads(sys.argv[2])
result = defs.resolve_job_def(BUILD_JOB_NAME).execute_in_process(
    run_config=build_run_config(as_of, **dbt_vars),
    instance=dg.DagsterInstance.ephemeral(),
    raise_on_error=False,
)
for event in result.all_events:
    if event.is_failure:
        print(event.message, flush=True)
print("RUN_SUCCESS" if result.success else "RUN_FAILURE", flush=True)
sys.exit(0 if result.success else 1)
"""


def build_on_spark(
    store: Path | None,
    as_of: str,
    folder: Path,
    dbt_vars: dict[str, Any] | None = None,
    timeout: int = 2400,
) -> SparkBuild:
    """The Dagster build job on Spark for one as-of date (landing, then dbt build with the data
    tests); `store`: the raw-contract folder (env SEGMENT_RAW_DATA_PATH), or None when the vars
    name the source (Online Retail)."""
    folder.mkdir(parents=True, exist_ok=True)
    extra = {"SEGMENT_RAW_DATA_PATH": str(Path(store).resolve())} if store is not None else {}
    began = time.perf_counter()
    done = subprocess.run(
        [str(PYTHON), "-c", _DAGSTER_BUILD, as_of, json.dumps(dbt_vars or {})],
        cwd=ROOT,
        env=spark_env(folder, extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    output = done.stdout + done.stderr
    (folder / "build.log").write_text(output)
    return SparkBuild(folder, done.returncode, output, time.perf_counter() - began)


def run_dbt_on_spark(
    build: SparkBuild, args: list[str], store: Path | None = None, timeout: int = 1800
) -> SparkBuild:
    """A dbt command (e.g. `test --select resource_type:unit_test`) on the catalog of `build`."""
    extra = {"SEGMENT_RAW_DATA_PATH": str(Path(store).resolve())} if store is not None else {}
    began = time.perf_counter()
    done = subprocess.run(
        [
            str(PYTHON.parent / "dbt"),
            *args,
            "--profiles-dir",
            str(ROOT),
            "--project-dir",
            str(ROOT),
        ],
        cwd=ROOT,
        env=spark_env(build.folder, extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return SparkBuild(
        build.folder, done.returncode, done.stdout + done.stderr, time.perf_counter() - began
    )


_EXPORT = """
import sys
from pathlib import Path
from segment_warehouse.spark import spark_session
out = Path(sys.argv[1])
session = spark_session()
session.conf.set("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
shown = session.sql("show tables in main").collect()
tables = [row.tableName for row in shown if not row.isTemporary]
for table in tables:
    session.table(f"main.{table}").write.mode("overwrite").parquet(str(out / table))
print("\\n".join(tables))
"""


def export_spark_marts(build: SparkBuild, out: Path) -> list[str]:
    """Every table of the Spark build's schema `main`, as Parquet under `out/<table>/`."""
    done = subprocess.run(
        [str(PYTHON), "-c", _EXPORT, str(out)],
        cwd=ROOT,
        env=spark_env(build.folder),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, f"export failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return [line for line in done.stdout.splitlines() if line.strip()]


@dataclass
class MartDifference:
    mart: str
    duckdb_rows: int
    spark_rows: int
    only_duckdb: list[tuple]
    only_spark: list[tuple]
    problems: list[str]

    @property
    def equal(self) -> bool:
        return not self.problems and not self.only_duckdb and not self.only_spark

    def describe(self) -> str:
        lines = [f"{self.mart}: {self.duckdb_rows} rows on DuckDB, {self.spark_rows} on Spark"]
        lines += [f"  {problem}" for problem in self.problems]
        lines += [f"  only DuckDB: {row}" for row in self.only_duckdb[:5]]
        lines += [f"  only Spark:  {row}" for row in self.only_spark[:5]]
        return "\n".join(lines)


def compare_mart(
    con: duckdb.DuckDBPyConnection, mart: str, export: Path, where: str | None = None
) -> MartDifference:
    """The DuckDB mart (attached as `duck`) against the Spark one exported under `export`."""
    if not (export / mart).is_dir():
        return MartDifference(mart, 0, 0, [], [], [f"{mart} was not built on Spark"])
    files = str(export / mart / "*.parquet")
    described = f"describe select * from read_parquet('{files}')"
    duck_types = dict(
        con.execute(f"select column_name, column_type from (describe duck.main.{mart})").fetchall()
    )
    spark_types = dict(
        con.execute(f"select column_name, column_type from ({described})").fetchall()
    )
    problems = []
    left_out = PYTHON_COLUMNS if mart == "customer_segments" else ()
    columns = [column for column in duck_types if column not in left_out]
    missing = [column for column in columns if column not in spark_types]
    extra = [column for column in spark_types if column not in duck_types]
    if missing or extra:
        problems.append(f"columns only on DuckDB: {missing}; only on Spark: {extra}")
    columns = [column for column in columns if column in spark_types]
    for column in columns:
        if kind_of(duck_types[column]) != kind_of(spark_types[column]):
            problems.append(
                f"column {column}: {duck_types[column]} on DuckDB, {spark_types[column]} on Spark"
            )
    duck_select = ", ".join(f'"{column}"' for column in columns)
    spark_select = ", ".join(
        f'cast("{column}" as {duck_types[column]}) as "{column}"' for column in columns
    )
    if mart in (
        "segment_membership",
        "segment_membership_history",
        "segment_membership_changes",
        "activation_members",
    ):
        families = ", ".join(f"'{family}'" for family in PYTHON_FAMILIES)
        where = f"segment_family not in ({families})"
    condition = f" where {where}" if where else ""
    duck_sql = f"select {duck_select} from duck.main.{mart}{condition}"
    spark_sql = f"select {spark_select} from read_parquet('{files}'){condition}"
    only_duck = con.execute(f"{duck_sql} except all {spark_sql}").fetchall()
    only_spark = con.execute(f"{spark_sql} except all {duck_sql}").fetchall()
    duck_rows = con.execute(f"select count(*) from ({duck_sql})").fetchone()[0]
    spark_rows = con.execute(f"select count(*) from ({spark_sql})").fetchone()[0]
    return MartDifference(mart, duck_rows, spark_rows, only_duck, only_spark, problems)


def compare_builds(
    duckdb_path: Path, export: Path, marts: tuple[str, ...] = COMPARED_MARTS
) -> list[MartDifference]:
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute(f"attach '{duckdb_path}' as duck (read_only)")
    try:
        return [compare_mart(con, mart, export) for mart in marts]
    finally:
        con.close()


def assert_builds_equal(differences: list[MartDifference]) -> None:
    unequal = [difference for difference in differences if not difference.equal]
    assert not unequal, "marts differ between DuckDB and Spark:\n" + "\n".join(
        difference.describe() for difference in unequal
    )


def main(argv: list[str] | None = None) -> int:
    """`python tests/spark_support.py DUCKDB_FILE EXPORT_DIR`: print the comparison."""
    args = argv if argv is not None else sys.argv[1:]
    differences = compare_builds(Path(args[0]), Path(args[1]))
    for difference in differences:
        print(("equal  " if difference.equal else "DIFFER ") + difference.describe())
    return 0 if all(difference.equal for difference in differences) else 1


if __name__ == "__main__":
    sys.exit(main())
