"""Print a short summary of a built warehouse: segment sizes per family and data-quality counts."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

FAMILY_ORDER = ["rfm", "lifecycle", "focus"]


def _family_rank(family: str) -> tuple[int, str]:
    """Known families first, in FAMILY_ORDER; any custom family after them, alphabetically."""
    known = FAMILY_ORDER.index(family) if family in FAMILY_ORDER else len(FAMILY_ORDER)
    return known, family


def summarise(database: Path) -> str:
    """Return the summary of the warehouse in `database` as text (opened read-only)."""
    if not database.exists():
        raise FileNotFoundError(
            f"{database}: no warehouse here; run `make demo` or `dbt build` first"
        )
    with duckdb.connect(str(database), read_only=True) as con:
        as_of, contacts, customers = con.execute(
            "select max(as_of_date), count(*), count(*) filter (where is_customer) "
            "from main.customer_segments"
        ).fetchone()
        lines = [
            f"segment-warehouse: {database}",
            f"as of {as_of}: {contacts:,} contacts, {customers:,} customers",
        ]
        sizes = con.execute(
            "select segment_family, segment, count(*) as contacts "
            "from main.segment_membership group by all "
            "order by segment_family, contacts desc, segment"
        ).fetchall()
        families = sorted({row[0] for row in sizes}, key=_family_rank)
        for family in families:
            rows = [row for row in sizes if row[0] == family]
            width = max(len(row[1]) for row in rows)
            lines.append(f"\n{family} segments")
            for _, segment, count in rows:
                share = 100 * count / contacts if contacts else 0
                lines.append(f"  {segment:<{width}}  {count:>9,}  {share:5.1f}%")
        issues = con.execute(
            "select entity, reason, outcome, count(*) from main.data_quality_issues "
            "group by all order by entity, 4 desc"
        ).fetchall()
        lines.append("\ndata quality issues (main.data_quality_issues)")
        if not issues:
            lines.append("  none: every raw row was usable")
        for entity, reason, outcome, count in issues:
            lines.append(f"  {entity} / {reason} ({outcome}): {count:,}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database",
        type=Path,
        default=Path(os.environ.get("DBT_DUCKDB_PATH", "target/segment_warehouse.duckdb")),
        help="the DuckDB file built by dbt "
        "(default: $DBT_DUCKDB_PATH or target/segment_warehouse.duckdb)",
    )
    args = parser.parse_args(argv)
    try:
        print(summarise(args.database))
    except (FileNotFoundError, duckdb.Error) as error:
        print(f"segment-warehouse-summary: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
