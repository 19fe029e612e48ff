"""The focus segments of lifecycle marketing: size, revenue and the lifecycle stage behind them."""

from __future__ import annotations

from segment_warehouse.report.data import ReportData
from segment_warehouse.report.html import Column, counts_bar, figure, share, table

ID = "focus"
TITLE = "Focus segments"
NONE = "(in no focus segment)"


def render(data: ReportData) -> str:
    rows = data.rows(
        f"""select coalesce(focus_segment, '{NONE}') as segment,
                  count(*) as contacts,
                  coalesce(sum(monetary), 0) as revenue,
                  avg(days_since_last_order) as avg_days_since_last_order,
                  avg(orders_count) as avg_orders
           from customer_segments group by focus_segment
           order by focus_segment is null, contacts desc, segment"""
    )
    total = sum(row["contacts"] for row in rows)
    for row in rows:
        row["share"] = share(row["contacts"], total)
    focused = [row for row in rows if row["segment"] != NONE]
    columns = [
        Column("Focus segment", "segment"),
        Column("Contacts", "contacts", "number"),
        Column("Share", "share"),
        Column("Revenue", "revenue", "number", 2),
        Column("Avg days since last order", "avg_days_since_last_order", "number", 1),
        Column("Avg orders", "avg_orders", "number", 2),
    ]
    return figure(
        counts_bar(focused, "segment", "contacts", "Contacts per focus segment"),
        "focus-chart",
    ) + table("focus-segments", columns, rows, lambda row: {"data-segment": row["segment"]})
