"""Print a warehouse's predictive_backtest as the Markdown table of docs/analytics-engineer.md
("How far to trust the predictions"): per decile of forecast and in total, the 90-day forecast of
transactions and revenue against what happened, and the purchase propensity classifier's
calibration and AUC.

    python -m segment_warehouse.backtest_table --database target/segment_warehouse.duckdb
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path

import duckdb


def _number(value, digits: int = 0, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    text = f"{value:+,.{digits}f}" if signed else f"{value:,.{digits}f}"
    return text


def backtest_table(database: Path) -> str:
    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute(
            "select * from predictive_backtest order by decile nulls last"
        ).fetchall()
        columns = [column[0] for column in con.description]
    if not rows:
        return "predictive_backtest is empty"
    records = [dict(zip(columns, row, strict=True)) for row in rows]
    first = records[0]
    lines = [
        f"Fitted as of {first['fitted_as_of_date']}, forecast of the {first['horizon_days']} days "
        f"to {first['as_of_date']}; purchase propensity AUC "
        f"{_number(first['propensity_auc'], 3)}.",
        "",
        "| decile | customers | predicted orders | actual orders | orders error % "
        "| predicted revenue | actual revenue | revenue error % "
        "| held-out contacts | mean propensity | purchase rate |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for record in records:
        decile = "total" if record["decile"] is None else str(record["decile"])
        lines.append(
            f"| {decile} | {_number(record['customers'])} "
            f"| {_number(record['predicted_orders'], 1)} | {_number(record['actual_orders'])} "
            f"| {_number(record['orders_error_pct'], 1, signed=True)} "
            f"| {_number(record['predicted_revenue'])} | {_number(record['actual_revenue'])} "
            f"| {_number(record['revenue_error_pct'], 1, signed=True)} "
            f"| {_number(record['propensity_contacts'])} "
            f"| {_number(record['mean_predicted_propensity'], 3)} "
            f"| {_number(record['observed_purchase_rate'], 3)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", type=Path, required=True, help="the warehouse DuckDB file")
    print(backtest_table(parser.parse_args(argv).database))


if __name__ == "__main__":
    main()
