"""The last sync of each activation destination (the warehouse's activation.sync_runs)."""

from __future__ import annotations

from segment_warehouse.report.data import ReportData
from segment_warehouse.report.html import Column, notice, table

ID = "activation"
TITLE = "Activation"


def render(data: ReportData) -> str:
    if data.warehouse is None or data.warehouse_problem is not None:
        reason = data.warehouse_problem or "no warehouse file given (--warehouse)"
        return notice(f"The activation ledger was not read: {reason}.")
    if not data.has_activation_ledger():
        return notice("No sync yet: no destination has been synced from this warehouse.")
    rows = data.rows(
        """select destination, destination_type, mode, status, started_at, finished_at,
                  rows_sent, rows_entered, rows_updated, rows_exited, rows_rejected, rows_failed,
                  error
           from warehouse.activation.sync_runs
           qualify row_number() over (partition by destination order by started_at desc) = 1
           order by destination"""
    )
    if not rows:
        return notice("No sync yet: no destination has been synced from this warehouse.")
    for row in rows:
        for key in ("started_at", "finished_at"):
            if row[key] is not None:
                row[key] = row[key].strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    columns = [
        Column("Destination", "destination"),
        Column("Type", "destination_type"),
        Column("Mode", "mode"),
        Column("Status", "status"),
        Column("Started", "started_at"),
        Column("Finished", "finished_at"),
        Column("Sent", "rows_sent", "number"),
        Column("Entered", "rows_entered", "number"),
        Column("Updated", "rows_updated", "number"),
        Column("Exited", "rows_exited", "number"),
        Column("Rejected", "rows_rejected", "number"),
        Column("Failed", "rows_failed", "number"),
        Column("Error", "error"),
    ]
    return table(
        "activation-syncs", columns, rows, lambda row: {"data-destination": row["destination"]}
    )
