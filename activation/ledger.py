"""One sync of one destination: its row in `sync_runs`, its rows in `sync_row_results`, and the
acknowledgements that move delivered rows into `destination_state`.

Everything a run writes goes through `SyncRun`, on the run's DuckDB connection, each
acknowledgement in one transaction (state and row results together), so the warehouse never
says a row was delivered without also holding it as acknowledged, and the reverse.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping

import duckdb

from activation.config import Destination
from activation.warehouse import SCHEMA

_KEYS_MATCH = (
    "state.contact_id = pending.contact_id and state.segment_key = pending.segment_key"
    " and state.identifier = pending.identifier"
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class SyncRun:
    """The ledger of one sync; adapters call `ack` for what the destination acknowledged."""

    def __init__(
        self, con: duckdb.DuckDBPyConnection, destination: Destination, target: str | None = None
    ) -> None:
        self.con = con
        self.destination = destination
        self.target = target
        self.run_id = f"{destination.name}-{_now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
        self.started_at = _now()

    def start(self) -> None:
        """The run's row (status running), the rows refused before sending, the acked-rows log."""
        con = self.con
        con.begin()
        # A run still marked running was killed: say so (its acknowledged rows are in state).
        con.execute(
            f"""update {SCHEMA}.sync_runs set status = 'interrupted'
            where destination = ? and status = 'running'""",
            [self.destination.name],
        )
        con.execute(
            f"""insert into {SCHEMA}.sync_runs (sync_run_id, destination, destination_type, mode,
                started_at, status, target)
            values (?, ?, ?, ?, ?, 'running', ?)""",
            [
                self.run_id,
                self.destination.name,
                self.destination.type,
                self.destination.mode,
                self.started_at,
                self.target,
            ],
        )
        con.execute(
            f"""insert into {SCHEMA}.sync_row_results
            select ?, ?, contact_id, segment_family, segment, segment_key, identifier, action,
                'rejected', reject_reason, null, null, ?
            from activation_pending where reject_reason is not null""",
            [self.run_id, self.destination.name, _now()],
        )
        con.commit()
        con.execute("create or replace temp table activation_acked (row_id bigint)")
        con.execute(
            "create or replace temp table activation_batch_rejections"
            " (row_id bigint, error varchar)"
        )

    def ack(
        self,
        first: int,
        last: int,
        rejected: Mapping[int, str] | None = None,
        batch_number: int | None = None,
        idempotency_key: str | None = None,
    ) -> None:
        """Rows first..last (row_id) were answered: `rejected` ones (row_id -> error) were
        refused by the destination, the others delivered. One transaction."""
        con = self.con
        name = self.destination.name
        con.begin()
        try:
            con.execute("delete from activation_batch_rejections")
            if rejected:
                con.executemany(
                    "insert into activation_batch_rejections values (?, ?)",
                    [[row_id, error] for row_id, error in rejected.items()],
                )
            delivered = (
                "pending.row_id between $first and $last and pending.reject_reason is null"
                " and pending.row_id not in (select row_id from activation_batch_rejections)"
            )
            params = {"first": first, "last": last, "destination": name}
            con.execute(
                f"""delete from {SCHEMA}.destination_state as state
                using activation_pending as pending
                where state.destination = $destination and pending.action in ('exit', 'update')
                    and {delivered} and {_KEYS_MATCH}""",
                params,
            )
            con.execute(
                f"""insert into {SCHEMA}.destination_state
                select $destination, contact_id, segment_family, segment, segment_key, identifier,
                    email, first_name, last_name, attrs_hash, $at, $run
                from activation_pending as pending
                where pending.action in ('enter', 'update') and {delivered}""",
                params | {"at": _now(), "run": self.run_id},
            )
            con.execute(
                f"""insert into {SCHEMA}.sync_row_results
                select $run, $destination, pending.contact_id, pending.segment_family,
                    pending.segment, pending.segment_key, pending.identifier, pending.action,
                    case when rejections.row_id is null then 'delivered' else 'rejected' end,
                    rejections.error, $batch, $key, $at
                from activation_pending as pending
                left join activation_batch_rejections as rejections
                    on pending.row_id = rejections.row_id
                where pending.row_id between $first and $last
                    and pending.reject_reason is null""",
                params
                | {"run": self.run_id, "batch": batch_number, "key": idempotency_key, "at": _now()},
            )
            con.execute(
                """insert into activation_acked select row_id from activation_pending
                where row_id between ? and ? and reject_reason is null""",
                [first, last],
            )
            con.commit()
        except BaseException:
            con.rollback()
            raise

    def ack_all(self) -> None:
        """Every sendable row was delivered (a destination applied in one transaction)."""
        last = self.con.execute(
            "select coalesce(max(row_id), 0) from activation_pending where reject_reason is null"
        ).fetchone()[0]
        if last:
            self.ack(1, last)

    def finish(self, error: BaseException | None = None) -> dict[str, int | str]:
        """Rows never answered become `failed` (with the error); the run gets its counts."""
        con = self.con
        con.begin()
        if error is not None:
            con.execute(
                f"""insert into {SCHEMA}.sync_row_results
                select ?, ?, contact_id, segment_family, segment, segment_key, identifier, action,
                    'failed', ?, null, null, ?
                from activation_pending
                where reject_reason is null
                    and row_id not in (select row_id from activation_acked)""",
                [self.run_id, self.destination.name, f"not delivered: {error}", _now()],
            )
        counts = con.execute(
            f"""select
                count(*) filter (where status = 'delivered'),
                count(*) filter (where status = 'delivered' and action = 'enter'),
                count(*) filter (where status = 'delivered' and action = 'update'),
                count(*) filter (where status = 'delivered' and action = 'exit'),
                count(*) filter (where status = 'rejected'),
                count(*) filter (where status = 'failed')
            from {SCHEMA}.sync_row_results where sync_run_id = ?""",
            [self.run_id],
        ).fetchone()
        status = "failed" if error is not None else "success"
        con.execute(
            f"""update {SCHEMA}.sync_runs set finished_at = ?, status = ?, rows_sent = ?,
                rows_entered = ?, rows_updated = ?, rows_exited = ?, rows_rejected = ?,
                rows_failed = ?, error = ?
            where sync_run_id = ?""",
            [_now(), status, *counts, None if error is None else str(error), self.run_id],
        )
        con.commit()
        keys = ("sent", "entered", "updated", "exited", "rejected", "failed")
        return {
            "sync_run_id": self.run_id,
            "status": status,
            **dict(zip(keys, counts, strict=True)),
        }
