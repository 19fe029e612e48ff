"""Raw rows that could not be used as they were (data_quality_issues), by entity and reason."""

from __future__ import annotations

import plotly.graph_objects as go

from segment_warehouse.report.data import ReportData
from segment_warehouse.report.html import Column, figure, notice, table

ID = "data-quality"
TITLE = "Data quality"


def render(data: ReportData) -> str:
    rows = data.rows(
        """select entity, reason, outcome, count(*) as rows_count,
                  count(distinct source_file) as files
           from data_quality_issues group by all order by entity, rows_count desc, reason"""
    )
    if not rows:
        return notice("No raw row was rejected, deduplicated or emptied: nothing to report.") + (
            table("data-quality", [Column("Entity", "entity")], [])
        )
    reasons = sorted({row["reason"] for row in rows})
    entities = sorted({row["entity"] for row in rows})
    fig = go.Figure()
    for reason in reasons:
        fig.add_trace(
            go.Bar(
                x=entities,
                y=[
                    sum(
                        row["rows_count"]
                        for row in rows
                        if row["entity"] == entity and row["reason"] == reason
                    )
                    for entity in entities
                ],
                name=reason,
            )
        )
    fig.update_layout(barmode="stack", title="Rows with an issue, by entity and reason")
    columns = [
        Column("Entity", "entity"),
        Column("Reason", "reason"),
        Column("Outcome", "outcome"),
        Column("Rows", "rows_count", "number"),
        Column("Files", "files", "number"),
    ]
    return figure(fig, "data-quality-chart") + table(
        "data-quality",
        columns,
        rows,
        lambda row: {
            "data-entity": row["entity"],
            "data-reason": row["reason"],
            "data-outcome": row["outcome"],
        },
    )
