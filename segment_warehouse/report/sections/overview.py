"""Contacts, customers and revenue, and each segment family's sizes."""

from __future__ import annotations

import plotly.graph_objects as go

from segment_warehouse.report.data import ReportData
from segment_warehouse.report.html import PALETTE, Column, esc, figure, number, raw, share, table

ID = "overview"
TITLE = "Overview"

FAMILY_ORDER = (
    "rfm",
    "lifecycle",
    "focus",
    "engagement",
    "score_band",
    "persona",
    "funnel_stage",
    "within_radius",
)


def render(data: ReportData) -> str:
    totals = data.rows(
        """select count(*) as contacts,
                  count(*) filter (where is_customer) as customers,
                  coalesce(sum(monetary), 0) as revenue,
                  sum(orders_count) as orders
           from customer_segments"""
    )[0]
    kpis = [
        ("contacts", "Contacts", totals["contacts"], 0),
        ("customers", "Customers (a valid order)", totals["customers"], 0),
        ("revenue", "Revenue (RFM monetary, net of refunds)", totals["revenue"], 2),
        ("orders", "Valid orders", totals["orders"], 0),
    ]
    cards = "".join(
        f'<div class="kpi" id="kpi-{key}" data-value="{esc(raw(value))}">'
        f'<div class="kpi-value">{number(value, decimals)}</div>'
        f'<div class="kpi-label">{esc(label)}</div></div>'
        for key, label, value, decimals in kpis
    )
    sizes = data.rows(
        """select segment_family, segment, count(*) as contacts
           from segment_membership group by all order by segment_family, contacts desc, segment"""
    )
    order = {family: index for index, family in enumerate(FAMILY_ORDER)}
    sizes.sort(key=lambda row: (order.get(row["segment_family"], len(order)), -row["contacts"]))
    for row in sizes:
        row["share"] = share(row["contacts"], totals["contacts"])
    families = list(dict.fromkeys(row["segment_family"] for row in sizes))

    fig = go.Figure()
    for family in families:
        for index, row in enumerate(r for r in sizes if r["segment_family"] == family):
            fig.add_trace(
                go.Bar(
                    y=[family],
                    x=[row["contacts"]],
                    orientation="h",
                    name=row["segment"],
                    text=[row["segment"]],
                    textposition="inside",
                    insidetextanchor="middle",
                    marker_color=PALETTE[index % len(PALETTE)],
                    hovertemplate=f"{family}: %{{text}}<br>%{{x:,}} contacts<extra></extra>",
                    showlegend=False,
                )
            )
    fig.update_layout(
        barmode="stack",
        title="Contacts in each segment, per family (a contact is in at most one per family)",
        xaxis_title="contacts",
        yaxis={"autorange": "reversed"},
    )
    columns = [
        Column("Family", "segment_family"),
        Column("Segment", "segment"),
        Column("Contacts", "contacts", "number"),
        Column("Share of contacts", "share"),
    ]
    sizes_table = table(
        "family-sizes",
        columns,
        sizes,
        lambda row: {"data-family": row["segment_family"], "data-segment": row["segment"]},
    )
    return (
        f'<div class="kpis">{cards}</div>'
        + figure(fig, "overview-families", height=80 + 45 * max(len(families), 1))
        + f"<details><summary>Segment sizes as a table</summary>{sizes_table}</details>"
    )
