"""Small HTML helpers shared by the sections: escaping, numbers, tables and plotly figures.

Every number a reader (or the browser test) may check is also written as text in an HTML table,
with its raw value in a `data-*` attribute, next to the chart that draws it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import plotly.graph_objects as go

#: plotly's options for every chart: no plotly logo, fits its container, and no "Share chart"
#: button (plotly.js 3 shows one by default; it would upload the chart's data, customer counts
#: and revenue, to Plotly's cloud).
PLOTLY_CONFIG = {"displaylogo": False, "responsive": True, "showSendToCloud": False}
PALETTE = [
    "#1f4e79",
    "#2e86c1",
    "#48c9b0",
    "#f4d03f",
    "#eb984e",
    "#cb4335",
    "#884ea0",
    "#7f8c8d",
    "#27ae60",
    "#d35400",
    "#5d6d7e",
    "#a93226",
]


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def number(value: Any, decimals: int = 0) -> str:
    """1234567.891 -> '1,234,567.89' (decimals=2); None -> '–'."""
    if value is None:
        return "–"
    return f"{float(value):,.{decimals}f}" if decimals else f"{round(float(value)):,}"


def raw(value: Any) -> str:
    """The value as a data attribute: plain digits, no separators (None -> '')."""
    if value is None:
        return ""
    if isinstance(value, Decimal | float):
        return format(Decimal(str(value)).normalize(), "f")
    return str(value)


def share(part: Any, whole: Any) -> str:
    return f"{100 * float(part) / float(whole):.1f}%" if whole else "–"


def attrs(values: Mapping[str, Any]) -> str:
    return "".join(f' {name}="{esc(value)}"' for name, value in values.items())


class Column:
    """A table column: its header, how a row's cell is shown, and its data-field name."""

    def __init__(
        self, title: str, key: str, fmt: str = "text", decimals: int = 0, field: str | None = None
    ) -> None:
        self.title, self.key, self.fmt, self.decimals = title, key, fmt, decimals
        self.field = field or key

    def cell(self, row: Mapping[str, Any]) -> str:
        value = row.get(self.key)
        if self.fmt == "number":
            return (
                f'<td class="num" data-field="{esc(self.field)}" data-value="{esc(raw(value))}">'
                f"{number(value, self.decimals)}</td>"
            )
        return f'<td data-field="{esc(self.field)}">{esc("–" if value is None else value)}</td>'


def table(
    table_id: str,
    columns: Sequence[Column],
    rows: Iterable[Mapping[str, Any]],
    row_attrs: Any = None,
    caption: str | None = None,
) -> str:
    """`<table id=...>`, one `<tr>` per row; row_attrs(row) gives the row's data-* attributes."""
    head = "".join(
        f"<th{' class=num' if column.fmt == 'number' else ''}>{esc(column.title)}</th>"
        for column in columns
    )
    body = []
    for row in rows:
        extra = attrs(row_attrs(row)) if row_attrs else ""
        body.append(f"<tr{extra}>" + "".join(column.cell(row) for column in columns) + "</tr>")
    if not body:
        body.append(f'<tr class="empty"><td colspan="{len(columns)}">none</td></tr>')
    caption_html = f"<caption>{esc(caption)}</caption>" if caption else ""
    return (
        f'<table id="{esc(table_id)}" class="data">{caption_html}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def figure(fig: go.Figure, div_id: str, height: int = 380, top: int = 50) -> str:
    """The chart as a <div> and its script; plotly.js itself is inlined once by the page."""
    fig.update_layout(
        height=height,
        margin={"l": 60, "r": 20, "t": top, "b": 50},
        font={"family": "system-ui, -apple-system, Segoe UI, sans-serif", "size": 12},
        paper_bgcolor="white",
        plot_bgcolor="white",
        colorway=PALETTE,
    )
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        div_id=div_id,
        config=PLOTLY_CONFIG,
    )


def notice(text: str) -> str:
    return f'<p class="notice">{esc(text)}</p>'


def counts_bar(rows: Sequence[Mapping[str, Any]], label: str, value: str, title: str) -> go.Figure:
    labels = [str(row[label]) if row[label] is not None else "(none)" for row in rows]
    values = [row[value] for row in rows]
    fig = go.Figure(go.Bar(x=labels, y=values, text=[number(v) for v in values]))
    fig.update_traces(textposition="outside", cliponaxis=False, marker_color=PALETTE[1])
    fig.update_layout(title=title, yaxis_title="contacts")
    return fig
