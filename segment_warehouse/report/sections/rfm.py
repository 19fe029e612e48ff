"""The 5 x 5 recency-by-frequency grid and a row per RFM group."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segment_warehouse.report.data import ReportData
from segment_warehouse.report.html import Column, esc, figure, number, raw, share, table

ID = "rfm"
TITLE = "RFM groups"

SCORES = (1, 2, 3, 4, 5)


def _segment_names(data: ReportData) -> dict[tuple[int, int], str]:
    """The group of every (r, f) cell: from the contacts in it, else from the warehouse's seed."""
    names: dict[tuple[int, int], str] = {}
    if data.warehouse_problem is None and data.warehouse is not None:
        seeds = data.rows(
            "select count(*) as n from duckdb_tables() where database_name = 'warehouse'"
            " and schema_name = 'seeds' and table_name = 'rfm_segment_map'"
        )
        if seeds[0]["n"]:
            for row in data.rows(
                "select r_score, f_score, rfm_segment from warehouse.seeds.rfm_segment_map"
            ):
                names[(row["r_score"], row["f_score"])] = row["rfm_segment"]
    return names


def heatmap_cells(data: ReportData) -> dict[tuple[int, int], dict]:
    cells = {
        (row["r_score"], row["f_score"]): row
        for row in data.rows(
            """select r_score, f_score, count(*) as contacts,
                      coalesce(sum(monetary), 0) as revenue,
                      string_agg(distinct rfm_segment, ' / ' order by rfm_segment) as segment
               from customer_segments where r_score is not null and f_score is not null
               group by all"""
        )
    }
    names = _segment_names(data)
    grid: dict[tuple[int, int], dict] = {}
    for r in SCORES:
        for f in SCORES:
            found = cells.get((r, f))
            grid[(r, f)] = {
                "r_score": r,
                "f_score": f,
                "contacts": found["contacts"] if found else 0,
                "revenue": found["revenue"] if found else 0,
                "segment": found["segment"] if found else names.get((r, f), ""),
            }
    return grid


def _heatmap(grid: dict[tuple[int, int], dict]) -> go.Figure:
    fig = make_subplots(
        rows=1,
        cols=2,
        subplot_titles=("Contacts per cell", "Revenue per cell"),
        horizontal_spacing=0.08,
    )
    for col, measure, decimals, scale in (
        (1, "contacts", 0, "Blues"),
        (2, "revenue", 0, "Greens"),
    ):
        z = [[float(grid[(r, f)][measure]) for f in SCORES] for r in SCORES]
        text = [
            [
                f"{grid[(r, f)]['segment']}<br>{number(grid[(r, f)][measure], decimals)}"
                for f in SCORES
            ]
            for r in SCORES
        ]
        fig.add_trace(
            go.Heatmap(
                x=[f"F{f}" for f in SCORES],
                y=[f"R{r}" for r in SCORES],
                z=z,
                text=text,
                texttemplate="%{text}",
                textfont={"size": 11},
                colorscale=scale,
                showscale=False,
                xgap=2,
                ygap=2,
                hovertemplate="%{y} %{x}<br>%{text}<extra></extra>",
            ),
            row=1,
            col=col,
        )
        fig.update_xaxes(title_text="frequency score (5 = most orders)", row=1, col=col)
        fig.update_yaxes(title_text="recency score (5 = most recent)", row=1, col=col)
    fig.update_layout(title="Recency x frequency: who sits where, and what they are worth")
    return fig


def _heatmap_table(grid: dict[tuple[int, int], dict]) -> str:
    head = "".join(f'<th class="num">F{f}</th>' for f in SCORES)
    rows = []
    for r in reversed(SCORES):
        cells = []
        for f in SCORES:
            cell = grid[(r, f)]
            cells.append(
                f'<td data-r="{r}" data-f="{f}" data-segment="{esc(cell["segment"])}"'
                f' data-contacts="{cell["contacts"]}" data-revenue="{esc(raw(cell["revenue"]))}">'
                f'<span class="cell-name">{esc(cell["segment"]) or "–"}</span>'
                f'<span class="cell-contacts">{number(cell["contacts"])}</span>'
                f'<span class="cell-revenue">{number(cell["revenue"], 2)}</span></td>'
            )
        rows.append(f"<tr><th>R{r}</th>{''.join(cells)}</tr>")
    return (
        '<table id="rfm-heatmap" class="data grid"><caption>Contacts and revenue per cell'
        " (rows: recency score, columns: frequency score)</caption>"
        f"<thead><tr><th></th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def group_rows(data: ReportData) -> list[dict]:
    return data.rows(
        """select rfm_segment as segment,
                  count(*) as contacts,
                  coalesce(sum(monetary), 0) as revenue,
                  avg(recency_days) as avg_recency_days,
                  avg(frequency) as avg_frequency,
                  avg(monetary) as avg_monetary,
                  avg(r_score + f_score) as avg_rf
           from customer_segments group by all
           order by avg_rf desc nulls last, revenue desc, segment"""
    )


def _groups_chart(groups: list[dict], contacts: int, revenue: float) -> go.Figure:
    names = [row["segment"] for row in groups]
    fig = go.Figure()
    for measure, total, label in (
        ("contacts", contacts, "share of contacts"),
        ("revenue", revenue, "share of revenue"),
    ):
        values = [100 * float(row[measure]) / float(total) if total else 0 for row in groups]
        fig.add_trace(
            go.Bar(
                x=names,
                y=values,
                name=label,
                text=[f"{value:.1f}%" for value in values],
                textposition="outside",
                cliponaxis=False,
            )
        )
    fig.update_layout(
        barmode="group",
        title="Each group's share of contacts and of revenue",
        yaxis_title="%",
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1.02, "yanchor": "bottom"},
    )
    return fig


def render(data: ReportData) -> str:
    grid = heatmap_cells(data)
    groups = group_rows(data)
    contacts = sum(row["contacts"] for row in groups)
    revenue = sum(float(row["revenue"]) for row in groups)
    for row in groups:
        row["share"] = share(row["contacts"], contacts)
        row["revenue_share"] = share(row["revenue"], revenue)
    columns = [
        Column("Group", "segment"),
        Column("Contacts", "contacts", "number"),
        Column("Share", "share"),
        Column("Revenue", "revenue", "number", 2),
        Column("Share of revenue", "revenue_share"),
        Column("Avg recency (days)", "avg_recency_days", "number", 1),
        Column("Avg frequency (orders)", "avg_frequency", "number", 2),
        Column("Avg monetary", "avg_monetary", "number", 2),
    ]
    return (
        figure(_heatmap(grid), "rfm-heatmap-chart", height=540, top=100)
        + _heatmap_table(grid)
        + figure(_groups_chart(groups, contacts, revenue), "rfm-groups-chart", height=420)
        + table("rfm-groups", columns, groups, lambda row: {"data-segment": row["segment"]})
        + '<p class="note">Prospects have no valid order, hence no scores; recency and monetary'
        " are over the RFM window (var rfm_window_days) when one is set.</p>"
    )
