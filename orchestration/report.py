"""The segment report as a Dagster asset: written after each publication, from what it published."""

import os
from pathlib import Path

import dagster as dg

from orchestration.publishing import published_segments
from orchestration.resources import DUCKDB_POOL, _from_repo_root, serving_dir, warehouse_path
from segment_warehouse.report import build_report

REPORT_DIR_ENV = "SEGMENT_REPORT_DIR"


def report_dir() -> Path:
    """Where the report goes: SEGMENT_REPORT_DIR, else `report/` beside the serving folder
    (target/report by default)."""
    configured = os.environ.get(REPORT_DIR_ENV)
    return _from_repo_root(configured) if configured else serving_dir().parent / "report"


@dg.asset(
    deps=[published_segments],
    group_name="serving",
    kinds={"html"},
    pool=DUCKDB_POOL,
    description=(
        "The segment report: one static HTML page per published as-of date "
        "(segments_<date>.html) and index.html in SEGMENT_REPORT_DIR (default target/report/), "
        "drawn from the published Parquet files, with history and activation read from the "
        "warehouse read-only. Opens without a server or internet."
    ),
)
def segment_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    report = build_report(serving_dir(), report_dir(), warehouse_path())
    context.log.info("wrote %s (%d charts, %.1fs)", report.path, report.charts, report.seconds)
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(report.path)),
            "index": dg.MetadataValue.path(str(report.index)),
            "as_of_date": str(report.as_of_date),
            "charts": report.charts,
            "sections": list(report.sections),
            "seconds": round(report.seconds, 2),
        }
    )
