"""The nurturing score (customer_scores): its distribution and the hot / warm / cold bands."""

from __future__ import annotations

import plotly.graph_objects as go

from segment_warehouse.report.data import ReportData
from segment_warehouse.report.html import Column, figure, share, table

ID = "scores"
TITLE = "Nurturing score"
BINS = 20


def render(data: ReportData) -> str:
    bands = data.rows(
        """select score_band as band, count(*) as contacts,
                  min(nurturing_score) as min_score, max(nurturing_score) as max_score,
                  avg(nurturing_score) as avg_score
           from customer_scores group by all order by avg_score desc"""
    )
    total = sum(row["contacts"] for row in bands)
    for row in bands:
        row["share"] = share(row["contacts"], total)
    top = data.value("select coalesce(max(nurturing_score), 0) from customer_scores")
    width = float(top) / BINS if top else 1.0
    histogram = data.rows(
        """select least(floor(nurturing_score / ?), ?) as bin, score_band as band, count(*) as n
           from customer_scores group by all order by bin""",
        [width, BINS - 1],
    )
    fig = go.Figure()
    for band in [row["band"] for row in bands]:
        points = [row for row in histogram if row["band"] == band]
        fig.add_trace(
            go.Bar(
                x=[(float(row["bin"]) + 0.5) * width for row in points],
                y=[row["n"] for row in points],
                width=width * 0.95,
                name=band,
            )
        )
    fig.update_layout(
        barmode="stack",
        title="Contacts by nurturing score (coloured by band)",
        xaxis_title="nurturing score",
        yaxis={"title": "contacts", "type": "log"},
    )
    columns = [
        Column("Band", "band"),
        Column("Contacts", "contacts", "number"),
        Column("Share", "share"),
        Column("Min score", "min_score", "number", 1),
        Column("Max score", "max_score", "number", 1),
        Column("Avg score", "avg_score", "number", 1),
    ]
    return figure(fig, "scores-chart") + table(
        "score-bands", columns, bands, lambda row: {"data-segment": row["band"]}
    )
