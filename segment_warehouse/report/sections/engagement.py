"""Email engagement levels (customer_engagement)."""

from __future__ import annotations

from segment_warehouse.report.data import ReportData
from segment_warehouse.report.html import Column, counts_bar, figure, share, table

ID = "engagement"
TITLE = "Email engagement"


def render(data: ReportData) -> str:
    rows = data.rows(
        """select engagement_level as level,
                  count(*) as contacts,
                  sum(sends_count) as sends,
                  sum(opened_sends_count) as opened_sends,
                  avg(open_rate) as avg_open_rate,
                  sum(clicks_count) as clicks
           from customer_engagement group by all order by contacts desc, level"""
    )
    total = sum(row["contacts"] for row in rows)
    for row in rows:
        row["share"] = share(row["contacts"], total)
    columns = [
        Column("Level", "level"),
        Column("Contacts", "contacts", "number"),
        Column("Share", "share"),
        Column("Sends", "sends", "number"),
        Column("Opened sends", "opened_sends", "number"),
        Column("Avg open rate", "avg_open_rate", "number", 3),
        Column("Clicks", "clicks", "number"),
    ]
    return figure(
        counts_bar(rows, "level", "contacts", "Contacts per engagement level"),
        "engagement-chart",
    ) + table("engagement-levels", columns, rows, lambda row: {"data-segment": row["level"]})
