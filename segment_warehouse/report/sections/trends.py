"""Each segment family's sizes over the built as-of dates (segment_membership_history)."""

from __future__ import annotations

import plotly.graph_objects as go

from segment_warehouse.report.data import ReportData
from segment_warehouse.report.html import figure, notice
from segment_warehouse.report.sections.overview import FAMILY_ORDER

ID = "trends"
TITLE = "Segment families over time"


def render(data: ReportData) -> str:
    if not data.has_history:
        return notice(
            f"Trends need the history tables ({data.warehouse_problem}): pass --warehouse."
        )
    rows = data.rows(
        """select segment_family, segment, as_of_date, count(*) as contacts
           from segment_membership_history where as_of_date <= ?
           group by all order by segment_family, segment, as_of_date""",
        [data.as_of_date],
    )
    dates = sorted({row["as_of_date"] for row in rows})
    order = {family: index for index, family in enumerate(FAMILY_ORDER)}
    families = sorted(
        {row["segment_family"] for row in rows}, key=lambda f: (order.get(f, len(order)), f)
    )
    parts = [
        f'<p class="note" id="trends-dates" data-dates="{len(dates)}">{len(dates)} built as-of'
        f" date(s) from {dates[0]} to {dates[-1]}, from the {data.history_source}.</p>"
        if dates
        else notice("segment_membership_history is empty.")
    ]
    charts = []
    for family in families:
        fig = go.Figure()
        segments = sorted({row["segment"] for row in rows if row["segment_family"] == family})
        for segment in segments:
            points = [
                row for row in rows if row["segment_family"] == family and row["segment"] == segment
            ]
            fig.add_trace(
                go.Scatter(
                    x=[str(row["as_of_date"]) for row in points],
                    y=[row["contacts"] for row in points],
                    name=segment,
                    mode="lines+markers",
                )
            )
        fig.update_layout(
            title=f"{family}: contacts per segment",
            xaxis={"type": "date", "title": "as-of date"},
            yaxis_title="contacts",
            legend={"font": {"size": 10}},
        )
        charts.append(f'<div class="cell">{figure(fig, f"trend-{family}", height=340)}</div>')
    return "".join(parts) + f'<div class="two-col">{"".join(charts)}</div>'
