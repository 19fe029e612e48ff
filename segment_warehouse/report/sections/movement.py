"""Who moved between lifecycle stages and between RFM groups, from one built date to this one."""

from __future__ import annotations

import datetime as dt

import plotly.graph_objects as go

from segment_warehouse.report.data import ReportData
from segment_warehouse.report.html import PALETTE, Column, figure, notice, number, table

ID = "movement"
TITLE = "Movement between dates"

#: The date compared against: the last built date at least this many days before the as-of date
#: (else the earliest built date before it).
COMPARE_DAYS = 30
NEW = "(not a contact yet)"
GONE = "(no longer a contact)"


def built_dates(data: ReportData) -> list[dt.date]:
    return [
        row["as_of_date"]
        for row in data.rows(
            "select distinct as_of_date from segment_membership_history order by 1"
        )
    ]


def compare_date(dates: list[dt.date], as_of: dt.date) -> dt.date | None:
    earlier = [day for day in dates if day < as_of]
    if not earlier:
        return None
    far_enough = [day for day in earlier if day <= as_of - dt.timedelta(days=COMPARE_DAYS)]
    return far_enough[-1] if far_enough else earlier[0]


def flows(data: ReportData, family: str, before: dt.date, after: dt.date) -> list[dict]:
    """(from, to, contacts) between two dates of one family; the contacts without a segment of
    that family on a date (not a contact yet, or gone) are named so."""
    return data.rows(
        f"""with before as (
                select contact_id, segment from segment_membership_history
                where segment_family = $family and as_of_date = $before
            ),
            after as (
                select contact_id, segment from segment_membership_history
                where segment_family = $family and as_of_date = $after
            )
            select coalesce(before.segment, '{NEW}') as from_segment,
                   coalesce(after.segment, '{GONE}') as to_segment,
                   count(*) as contacts
            from before full join after on before.contact_id = after.contact_id
            group by all
            order by contacts desc, from_segment, to_segment""",
        {"family": family, "before": before, "after": after},
    )


def _sankey(rows: list[dict], before: dt.date, after: dt.date, title: str) -> go.Figure:
    sources = sorted({row["from_segment"] for row in rows})
    targets = sorted({row["to_segment"] for row in rows})
    segments = sorted(set(sources) | set(targets))
    colour = {segment: PALETTE[index % len(PALETTE)] for index, segment in enumerate(segments)}
    labels = [f"{s} · {before}" for s in sources] + [f"{t} · {after}" for t in targets]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": labels,
                "color": [colour[s] for s in sources] + [colour[t] for t in targets],
                "pad": 12,
                "thickness": 16,
            },
            link={
                "source": [sources.index(row["from_segment"]) for row in rows],
                "target": [len(sources) + targets.index(row["to_segment"]) for row in rows],
                "value": [row["contacts"] for row in rows],
                "color": [
                    "rgba(150,150,150,0.25)"
                    if row["from_segment"] == row["to_segment"]
                    else "rgba(46,134,193,0.45)"
                    for row in rows
                ],
                "hovertemplate": "%{source.label} → %{target.label}<br>%{value:,} contacts"
                "<extra></extra>",
            },
        )
    )
    fig.update_layout(title=title)
    return fig


def _family(data: ReportData, family: str, label: str, before: dt.date, after: dt.date) -> str:
    rows = flows(data, family, before, after)
    moved = sum(row["contacts"] for row in rows if row["from_segment"] != row["to_segment"])
    total = sum(row["contacts"] for row in rows)
    title = f"{label}: {number(moved)} of {number(total)} contacts changed, {before} → {after}"
    columns = [
        Column("From", "from_segment"),
        Column("To", "to_segment"),
        Column("Contacts", "contacts", "number"),
    ]
    flows_table = table(
        f"movement-{family}",
        columns,
        rows,
        lambda row: {"data-from": row["from_segment"], "data-to": row["to_segment"]},
    )
    return (
        f"<h3>{label}</h3>"
        + figure(_sankey(rows, before, after, title), f"movement-{family}-chart", height=560)
        + f"<details><summary>{label}: every flow as a table</summary>{flows_table}</details>"
    )


def render(data: ReportData) -> str:
    if not data.has_history:
        return notice(
            f"Movement needs the history tables ({data.warehouse_problem}): pass --warehouse."
        )
    dates = built_dates(data)
    if data.as_of_date not in dates:
        return notice(
            f"{data.as_of_date} is not in segment_membership_history ({data.history_source}):"
            " the warehouse was rebuilt since the publication; publish again."
        )
    before = compare_date(dates, data.as_of_date)
    if before is None:
        return notice(
            f"Only {data.as_of_date} is built in segment_membership_history: movement shows once"
            " an earlier as-of date is built (a daily schedule, or a backfill of past days)."
        )
    return (
        f'<p class="note" id="movement-dates" data-before="{before}"'
        f' data-after="{data.as_of_date}">Compared: {before} (the last built date at least'
        f" {COMPARE_DAYS} days earlier, else the earliest) with {data.as_of_date}. History from"
        f" the {data.history_source}.</p>"
        + _family(data, "lifecycle", "Lifecycle stages", before, data.as_of_date)
        + _family(data, "rfm", "RFM groups", before, data.as_of_date)
    )
