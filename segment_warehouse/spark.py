"""The Spark side of the warehouse: the session dbt's `spark` target opens, and landing on it.

profiles.yml's `spark` target runs dbt-spark's `session` method: a local PySpark inside the dbt
process, its tables Parquet files under $SEGMENT_SPARK_DIR/warehouse (default target/spark) and its
catalog an embedded Derby metastore beside them. `spark_conf` gives the same settings, so that the
loader and the tests open the catalog dbt writes to (one process at a time: Derby is embedded).

Landing on Spark reuses the DuckDB loader unchanged (file discovery, encodings, aliases, errors,
only new and changed files): it lands into a DuckDB file of its own
($SEGMENT_SPARK_DIR/landing.duckdb), then writes each landing table as Parquet under
$SEGMENT_SPARK_DIR/landing/<schema>/<table>/ and declares it in Spark as an external table
`raw.<table>` over those files, which dbt source `raw` (or `online_retail`) reads as on DuckDB.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from segment_warehouse.files import sql_literal

ROOT = Path(__file__).resolve().parent.parent


def spark_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get("SEGMENT_SPARK_DIR", "target/spark"))


def spark_conf(environ: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The settings of profiles.yml's spark target (server_side_parameters), from the same env."""
    folder = spark_dir(environ)
    return {
        "spark.master": environ.get("SEGMENT_SPARK_MASTER", "local[2]"),
        "spark.driver.memory": environ.get("SEGMENT_SPARK_DRIVER_MEMORY", "4g"),
        "spark.sql.warehouse.dir": f"{folder}/warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL": (
            f"jdbc:derby:;databaseName={folder}/metastore_db;create=true"
        ),
        "spark.driver.extraJavaOptions": f"-Dderby.system.home='{folder}'",
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.parquet.inferTimestampNTZ.enabled": "false",
        "spark.sql.shuffle.partitions": environ.get("SEGMENT_SPARK_SHUFFLE_PARTITIONS", "4"),
        "spark.ui.enabled": "false",
    }


def spark_session(environ: Mapping[str, str] = os.environ):  # noqa: ANN201 (pyspark optional)
    """A SparkSession on the catalog of the spark target (pip install -e '.[spark]')."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "the spark target needs PySpark and dbt-spark: pip install -e '.[spark]' (Java 17)"
        ) from error
    spark_dir(environ).mkdir(parents=True, exist_ok=True)
    builder = SparkSession.builder.appName("segment-warehouse").enableHiveSupport()
    for key, value in spark_conf(environ).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


def target_type(target: str | None, environ: Mapping[str, str] = os.environ) -> str:
    """The adapter type (duckdb, spark) of a profiles.yml output; default: env DBT_TARGET or dev."""
    import yaml

    name = target or environ.get("DBT_TARGET") or None
    folder = Path(environ.get("DBT_PROFILES_DIR", ROOT))
    profile = yaml.safe_load((folder / "profiles.yml").read_text())["segment_warehouse"]
    name = name or profile.get("target", "dev")
    outputs = profile["outputs"]
    if name not in outputs:
        raise ValueError(f"profiles.yml has no target {name!r} (targets: {', '.join(outputs)})")
    return str(outputs[name]["type"])


def publish_landing_to_spark(
    database: Path,
    schema: str,
    log: Callable[[str], None] = print,
    environ: Mapping[str, str] = os.environ,
) -> list[str]:
    """Writes every table of `schema` in the DuckDB `database` as Parquet under the Spark folder
    and (re)declares each as the external Spark table `<schema>.<table>`. Returns the tables."""
    import duckdb

    landing_dir = (spark_dir(environ) / "landing").resolve()
    con = duckdb.connect(str(database), read_only=True)
    try:
        tables = [
            row[0]
            for row in con.execute(
                "select table_name from information_schema.tables where table_schema = ?"
                " order by table_name",
                [schema],
            ).fetchall()
        ]
        for table in tables:
            folder = landing_dir / schema / table
            staged = folder.with_name(f".{table}.new")
            shutil.rmtree(staged, ignore_errors=True)
            staged.mkdir(parents=True)
            con.execute(
                f'copy (select * from "{schema}"."{table}") to'
                f" {sql_literal(str(staged / 'part-0.parquet'))} (format parquet)"
            )
            shutil.rmtree(folder, ignore_errors=True)
            staged.rename(folder)
    finally:
        con.close()
    session = spark_session(environ)
    session.sql(f"create database if not exists `{schema}`")
    for table in tables:
        location = landing_dir / schema / table
        session.sql(f"drop table if exists `{schema}`.`{table}`")
        session.sql(
            f"create table `{schema}`.`{table}` using parquet location {sql_literal(str(location))}"
        )
    log(f"landing on spark: {len(tables)} tables declared in schema {schema} ({landing_dir})")
    return tables


def land_on_spark(
    values: Mapping[str, Any], log: Callable[[str], None] = print, environ=os.environ
) -> list[Any]:
    """segment-warehouse-land for the spark target: the DuckDB loader into the Spark folder's
    landing.duckdb, then its `raw` schema published to Spark. The publishing runs in a process of
    its own: Spark's embedded catalog stays locked by the process that opened it until that
    process ends, and dbt (or a Dagster op after this one) opens it next."""
    from segment_warehouse.landing import land_source

    database = spark_dir(environ) / "landing.duckdb"
    loads = land_source({**values, "database": str(database)}, log)
    if values["source_system"] in ("raw", "online_retail"):
        done = subprocess.run(
            [sys.executable, "-m", "segment_warehouse.spark", str(database), values["raw_schema"]],
            cwd=ROOT,
            env={
                **environ,
                "PYTHONPATH": os.pathsep.join([str(ROOT), environ.get("PYTHONPATH", "")]),
            },
            capture_output=True,
            text=True,
        )
        for line in done.stdout.splitlines():
            log(line)
        if done.returncode != 0:
            raise RuntimeError(
                f"landing on spark: declaring the tables in Spark failed:\n{done.stderr[-3000:]}"
            )
    return loads


def main(argv: list[str] | None = None) -> int:
    """`python -m segment_warehouse.spark LANDING_DUCKDB SCHEMA`: publish_landing_to_spark."""
    args = argv if argv is not None else sys.argv[1:]
    publish_landing_to_spark(Path(args[0]), args[1], log=lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
