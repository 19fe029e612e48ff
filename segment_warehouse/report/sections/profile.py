"""Who the contacts are (customer_profile): persona, age, funnel, distance to a store, category."""

from __future__ import annotations

from segment_warehouse.report.data import ReportData
from segment_warehouse.report.html import Column, counts_bar, figure, share, table

ID = "profile"
TITLE = "Profile"

#: (column of customer_profile, title, SQL of the label)
DIMENSIONS = (
    ("persona", "Persona", "coalesce(persona, '(none)')"),
    ("age_band", "Age band", "age_band"),
    ("funnel_stage", "Deepest funnel step", "coalesce(funnel_stage, '(no web visit)')"),
    (
        "within_radius",
        "Near a store",
        "case when is_within_store_radius then 'within radius'"
        " when is_within_store_radius = false then 'outside radius' else '(no location)' end",
    ),
    ("favourite_category", "Favourite category", "coalesce(favourite_category, '(none)')"),
)


def render(data: ReportData) -> str:
    total = data.value("select count(*) from customer_profile")
    charts, tables = [], []
    for key, title, label in DIMENSIONS:
        rows = data.rows(
            f"select {label} as value, count(*) as contacts from customer_profile"
            " group by all order by contacts desc, value"
        )
        for row in rows:
            row["share"] = share(row["contacts"], total)
            row["dimension"] = key
        charts.append(
            '<div class="cell">'
            + figure(counts_bar(rows, "value", "contacts", title), f"profile-{key}", height=320)
            + "</div>"
        )
        tables.extend(rows)
    columns = [
        Column("Dimension", "dimension"),
        Column("Value", "value"),
        Column("Contacts", "contacts", "number"),
        Column("Share", "share"),
    ]
    profile_table = table(
        "profile-counts",
        columns,
        tables,
        lambda row: {"data-dimension": row["dimension"], "data-segment": row["value"]},
    )
    return (
        f'<div class="two-col">{"".join(charts)}</div>'
        f"<details><summary>Profile counts as a table</summary>{profile_table}</details>"
    )
