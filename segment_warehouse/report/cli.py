"""`segment-warehouse-report`: the segment report of a serving folder as static HTML."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from segment_warehouse.report.build import build_report
from segment_warehouse.report.data import ReportError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="segment-warehouse-report",
        description="Write the segment report (one HTML file per published as-of date, and "
        "index.html) from the published Parquet files; opens without a server or internet.",
    )
    parser.add_argument(
        "--serving",
        type=Path,
        default=Path("target/serving"),
        help="the serving folder the marts are published to (default target/serving)",
    )
    parser.add_argument(
        "--warehouse",
        type=Path,
        default=None,
        help="the warehouse DuckDB file, opened read-only for the history and activation "
        "sections (without it those sections say so)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("target/report"), help="output folder (target/report)"
    )
    args = parser.parse_args(argv)
    try:
        report = build_report(args.serving, args.out, args.warehouse)
    except ReportError as error:
        print(f"segment-warehouse-report: {error}", file=sys.stderr)
        return 2
    print(
        f"wrote {report.path} ({report.charts} charts, {len(report.sections)} sections, "
        f"{report.seconds:.1f}s) and {report.index}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
