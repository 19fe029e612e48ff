"""Publishing for BI: the marts as Parquet files plus a small serving.duckdb of views over them.

BI tools open `serving.duckdb` read-only. Its views read fixed Parquet paths, so they are written
once (when missing) and a rebuild only swaps the Parquet files (written aside, then os.replace).
A reader holding serving.duckdb open therefore never blocks a rebuild of the main warehouse nor a
publication, and its next query sees the new files.

serving.duckdb is written in the storage format of DuckDB 1.1 (SERVING_STORAGE_VERSION): the
DuckDB 2.0 of this project writes version 999 by default, which the DuckDB 1.x that BI tools ship
(Metabase's and DBeaver's drivers, duckdb-engine, Evidence) refuse to open. When views are missing
or the file is in another format, the whole file is written aside and renamed over the old one, so
it is never opened for writing where a reader holds it.
"""

from collections.abc import Sequence
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster_dbt import get_asset_key_for_model

from orchestration.dbt import BUILD_RETRY_POLICY, segment_warehouse_dbt
from orchestration.resources import DUCKDB_POOL, ON_SPARK, serving_dir, warehouse_path
from segment_warehouse.files import replaced_together, sql_literal

PUBLISHED_MODELS = (
    "customer_segments",
    "segment_membership",
    "customer_rfm",
    "customer_lifecycle",
    "customer_focus_segments",
    "customer_engagement",
    "customer_scores",
    "customer_profile",
    "customer_predictions",
    "predictive_model_fits",
    "predictive_backtest",
    "customer_clusters",
    "cluster_centroids",
    "customer_microsegments",
    "data_quality_issues",
)
SERVING_DATABASE = "serving.duckdb"
# The oldest DuckDB whose storage format serving.duckdb is written in; DuckDB 1.1 to 2.0 open it.
SERVING_STORAGE_VERSION = "v1.1.0"
# What duckdb_databases() reports for a file written in that format.
_SERVING_STORAGE_TAG = "v1.0.0+"


def export_parquet(warehouse: Path, out_dir: Path, tables: Sequence[str]) -> dict[str, int]:
    """Copy each table of the warehouse's main schema to out_dir/<table>.parquet, atomically.

    Each file is written under a temporary name in the same folder; only when every export
    succeeded are they renamed over the old ones, so a reader sees either the old or the new
    file, never a partial one.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[str, int] = {}
    with replaced_together() as aside, duckdb.connect(str(warehouse), read_only=True) as con:
        for table in tables:
            temporary = aside(out_dir / f"{table}.parquet")
            con.execute(
                f'copy (select * from main."{table}") to {sql_literal(str(temporary))} '
                "(format parquet, compression zstd)"
            )
            rows[table] = con.execute(f'select count(*) from main."{table}"').fetchone()[0]
    return rows


def view_sql(table: str, parquet: Path) -> str:
    return (
        f'create or replace view "{table}" as '
        f"select * from read_parquet({sql_literal(str(parquet.resolve()))})"
    )


def ensure_serving_views(out_dir: Path, tables: Sequence[str]) -> list[str]:
    """Make serving.duckdb hold one view per table over its Parquet file, in the storage format
    of SERVING_STORAGE_VERSION; return the views that had to be (re)created.

    When every view exists and the format is right, the file is only opened read-only, which
    works while BI readers hold it open. Otherwise a new file with every view is written aside and
    renamed over the old one (a reader holding the old file keeps reading it until it reconnects).
    """
    database = out_dir / SERVING_DATABASE
    existing: dict[str, str] = {}
    storage = None
    if database.exists():
        with duckdb.connect(str(database), read_only=True) as con:
            existing = dict(
                con.execute(
                    "select view_name, sql from duckdb_views() where not internal"
                ).fetchall()
            )
            storage = con.execute(
                "select tags['storage_version'] from duckdb_databases()"
                " where database_name = current_database()"
            ).fetchone()[0]
    missing = [
        table
        for table in tables
        if sql_literal(str((out_dir / f"{table}.parquet").resolve())) not in existing.get(table, "")
    ]
    if storage != _SERVING_STORAGE_TAG:
        missing = list(tables)
    if missing:
        views = list(dict.fromkeys([*existing, *tables]))
        with replaced_together() as aside:
            temporary = aside(database)
            config = {"storage_compatibility_version": SERVING_STORAGE_VERSION}
            with duckdb.connect(str(temporary), config=config) as con:
                for table in views:
                    if table in tables:
                        con.execute(view_sql(table, out_dir / f"{table}.parquet"))
                    else:  # a view someone added to the file by hand: kept as it was
                        con.execute(existing[table])
    return missing


def publish(warehouse: Path, out_dir: Path, tables: Sequence[str] = PUBLISHED_MODELS) -> dict:
    rows = export_parquet(warehouse, out_dir, tables)
    created = ensure_serving_views(out_dir, tables)
    return {"rows": rows, "views_created": created}


def gating_check_keys() -> list[dg.AssetCheckKey]:
    """Every check on the dbt assets (the dbt tests) plus customer_segments_not_empty."""
    return [*segment_warehouse_dbt.check_keys, *customer_segments_not_empty.check_keys]


def checks_blocking_publication(
    instance: dg.DagsterInstance, run_id: str, check_keys: Sequence[dg.AssetCheckKey]
) -> list[str]:
    """The checks whose latest execution forbids publishing, each with why.

    A check blocks when its latest evaluation failed with severity ERROR, or when it was planned
    by a run that ended without running it (a build that broke half-way left the tables in an
    unknown state). Checks never run on this instance do not block.
    """
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(check_keys))
    blocked: list[str] = []
    for key, record in sorted(latest.items(), key=lambda item: item[0].to_user_string()):
        name = key.to_user_string()
        if record.status == AssetCheckExecutionRecordStatus.FAILED:
            evaluation = record.event.dagster_event.event_specific_data if record.event else None
            severity = getattr(evaluation, "severity", dg.AssetCheckSeverity.ERROR)
            if severity == dg.AssetCheckSeverity.ERROR:
                blocked.append(f"{name} failed in run {record.run_id}")
        elif record.status == AssetCheckExecutionRecordStatus.PLANNED and record.run_id != run_id:
            run = instance.get_run_by_id(record.run_id)
            if run is not None and run.is_finished:
                blocked.append(f"{name} never ran in run {record.run_id} ({run.status.value})")
    return blocked


@dg.asset(
    # on Spark this asset is not in the definitions (the predictive marts do not exist there)
    deps=[
        get_asset_key_for_model([segment_warehouse_dbt], model)
        for model in ([] if ON_SPARK else PUBLISHED_MODELS)
    ],
    group_name="serving",
    kinds={"parquet", "duckdb"},
    retry_policy=BUILD_RETRY_POLICY,
    pool=DUCKDB_POOL,
    description=(
        "The marts as Parquet in SEGMENT_SERVING_DIR (default target/serving/) and serving.duckdb "
        "there with one view per mart, for BI tools (open it read-only). Runs only after a build "
        "whose blocking checks passed; a failed build leaves the last good copy in place."
    ),
)
def published_segments(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    blocked = checks_blocking_publication(context.instance, context.run.run_id, gating_check_keys())
    if blocked:
        # Also when published_segments is materialised alone: the last build's results count.
        raise dg.Failure(
            description="not published, the last build's checks failed: " + "; ".join(blocked),
            metadata={"blocking_checks": blocked},
            allow_retries=False,
        )
    out_dir = serving_dir()
    result = publish(warehouse_path(), out_dir)
    context.log.info("published %s to %s", result["rows"], out_dir)
    return dg.MaterializeResult(
        metadata={
            "serving_dir": dg.MetadataValue.path(str(out_dir)),
            "serving_database": dg.MetadataValue.path(str(out_dir / SERVING_DATABASE)),
            "views_created": result["views_created"],
            **{f"rows/{table}": count for table, count in result["rows"].items()},
        }
    )


@dg.asset_check(
    asset=get_asset_key_for_model([segment_warehouse_dbt], "customer_segments"),
    blocking=True,
    pool=DUCKDB_POOL,
    description="customer_segments has at least one contact: an empty export is never published.",
)
def customer_segments_not_empty() -> dg.AssetCheckResult:
    with duckdb.connect(str(warehouse_path()), read_only=True) as con:
        count = con.execute("select count(*) from main.customer_segments").fetchone()[0]
    return dg.AssetCheckResult(
        passed=count > 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"rows": count},
        description=None if count else "customer_segments is empty",
    )
