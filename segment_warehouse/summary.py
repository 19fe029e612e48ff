"""Print a short summary of a built warehouse: segment sizes per family, the engagement, score and
profile distributions, and data-quality counts."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import duckdb

FAMILY_ORDER = [
    "rfm",
    "lifecycle",
    "focus",
    "engagement",
    "score_band",
    "persona",
    "funnel_stage",
    "within_radius",
]


def _distribution(con: duckdb.DuckDBPyConnection, title: str, sql: str, total: int) -> list[str]:
    """A titled block of (label, count) rows with their share of ``total``."""
    rows = con.execute(sql).fetchall()
    if not rows:
        return []
    width = max(len(str(label)) for label, _ in rows)
    lines = [f"\n{title}"]
    for label, count in rows:
        share = 100 * count / total if total else 0
        lines.append(f"  {str(label):<{width}}  {count:>9,}  {share:5.1f}%")
    return lines


def _engagement_and_profile(con: duckdb.DuckDBPyConnection, contacts: int) -> list[str]:
    """Distributions of customer_engagement, customer_scores and customer_profile."""
    lines: list[str] = []
    levels = con.execute(
        "select engagement_level, count(*), sum(sends_count), sum(opened_sends_count) "
        "from main.customer_engagement group by all order by 2 desc, 1"
    ).fetchall()
    lines.append(
        "\nemail engagement (customer_engagement): contacts, sends, open rate of the level"
    )
    for level, count, sends, opened in levels:
        rate = f"{opened / sends:6.1%}" if sends else "     -"
        lines.append(f"  {level:<12}  {count:>9,}  {sends:>10,}  {rate}")
    quantiles = con.execute(
        "select quantile_cont(nurturing_score, [0.5, 0.9, 0.99]), max(nurturing_score), "
        "count(*) filter (where nurturing_score > 0) from main.customer_scores"
    ).fetchone()
    (p50, p90, p99), top, scored = quantiles if quantiles[1] is not None else ((0, 0, 0), 0, 0)
    lines.append(
        f"\nnurturing score (customer_scores): {scored:,} contacts above 0;"
        f" median {p50:.2f}, p90 {p90:.2f}, p99 {p99:.2f}, max {top:.2f}"
    )
    lines += _distribution(
        con,
        "age bands (customer_profile)",
        "select age_band, count(*) from main.customer_profile group by all order by 1",
        contacts,
    )
    lines += _distribution(
        con,
        "favourite categories (customer_profile, buyers)",
        "select favourite_category, count(*) from main.customer_profile "
        "where favourite_category is not null group by all order by 2 desc, 1",
        contacts,
    )
    radius = con.execute(
        "select count(*) filter (where is_within_store_radius), count(distance_to_store_km), "
        "median(distance_to_store_km), avg(average_order_value), "
        "avg(sessions_count) filter (where sessions_count > 0) from main.customer_profile"
    ).fetchone()
    within, located, median_km, aov, sessions = radius
    lines.append(
        f"\nstores: {within:,} of {located:,} located contacts within the radius"
        + (f" (median distance {float(median_km):.1f} km)" if median_km is not None else "")
    )
    if aov is not None:
        lines.append(f"average order value of buyers: {float(aov):.2f}")
    if sessions is not None:
        lines.append(f"sessions in the behaviour window, per visiting contact: {sessions:.1f}")
    return lines


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
        lines += _engagement_and_profile(con, contacts)
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
