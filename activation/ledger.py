"""One sync of one destination: its row in `sync_runs`, its rows in `sync_row_results`, the
acknowledgements that move delivered rows into `destination_state`, and the outbox of an http
destination (`http_requests`, `http_request_rows`).

Everything a run writes goes through `SyncRun`, on the run's DuckDB connection, each
acknowledgement in one transaction (state, row results and the outbox entries of the batch
together), so the warehouse never says a row was delivered without also holding it as
acknowledged, and the reverse.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import duckdb

from activation.config import Destination
from activation.warehouse import SCHEMA

_KEYS_MATCH = (
    "state.contact_id = pending.contact_id and state.segment_key = pending.segment_key"
    " and state.identifier = pending.identifier"
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# The columns of an outbox row: what the request carried for one contact, and what the state
# gets when the request is acknowledged.
REQUEST_ROW_COLUMNS = (
    "contact_id",
    "segment_family",
    "segment",
    "segment_key",
    "identifier",
    "email",
    "first_name",
    "last_name",
    "attrs_hash",
    "action",
)


@dataclass
class OutboxRequest:
    """One request of an http destination, as written to the outbox before it is sent: its
    rows (every contact whose address is in the payload; contacts sharing an address are one
    member), in payload order. `answer` and the rows' `refused` are set once it is answered."""

    key: str
    list_name: str
    url: str
    action: str
    rows: list[dict[str, Any]]
    batch_number: int | None = None
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    answer: str | None = None
    from_outbox: bool = False  # loaded from the outbox: left there by an earlier run
    payload: str | None = None  # the JSON body as sent, when it is not made from the rows


def _outbox_rows(request: OutboxRequest) -> tuple[str, list[list[Any]]]:
    """A query of the request's rows, in the outbox row table's columns, and its parameters
    (one list per column, unnested together: one statement whatever the number of rows)."""
    columns = ["request_id", "position", *REQUEST_ROW_COLUMNS, "refused"]
    values: list[list[Any]] = [
        [request.request_id] * len(request.rows),
        list(range(len(request.rows))),
        *(
            [None if row[column] is None else str(row[column]) for row in request.rows]
            for column in REQUEST_ROW_COLUMNS
        ),
        [row.get("refused") for row in request.rows],
    ]
    selects = ", ".join(
        f"unnest(?::{'integer' if column == 'position' else 'varchar'}[]) as {column}"
        for column in columns
    )
    return f"select {selects}", values


def load_outbox(
    con: duckdb.DuckDBPyConnection, destination: str, target: str
) -> list[OutboxRequest]:
    """The destination's requests left unacknowledged, in the order they were written; those
    of another target (the destination was pointed elsewhere since) are dropped first."""
    con.begin()
    con.execute(
        f"""delete from {SCHEMA}.http_request_rows where request_id in (
            select request_id from {SCHEMA}.http_requests where destination = ? and target <> ?)""",
        [destination, target],
    )
    con.execute(
        f"delete from {SCHEMA}.http_requests where destination = ? and target <> ?",
        [destination, target],
    )
    con.commit()
    requests = con.execute(
        f"""select request_id, idempotency_key, list_name, url, action, batch_number, answer,
            payload
        from {SCHEMA}.http_requests where destination = ? order by seq""",
        [destination],
    ).fetchall()
    out = []
    for request_id, key, list_name, url, action, batch_number, answer, payload in requests:
        cursor = con.execute(
            f"""select {", ".join(REQUEST_ROW_COLUMNS)}, refused
            from {SCHEMA}.http_request_rows where request_id = ? order by position""",
            [request_id],
        )
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        out.append(
            OutboxRequest(
                key, list_name, url, action, rows, batch_number, request_id, answer, True, payload
            )
        )
    return out


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
        self.diff_ready = False

    def start(self) -> None:
        """The run's row (status running); a run of the destination still marked running was
        killed and is marked interrupted."""
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
        con.commit()

    def begin_delivery(self) -> None:
        """Once the diff (activation_pending) is computed: the rows refused before sending, and
        the log of acknowledged rows."""
        con = self.con
        con.begin()
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
        self.diff_ready = True

    # -- the outbox of an http destination -------------------------------------------------

    def record_requests(
        self, requests: list[OutboxRequest], replaces: OutboxRequest | None = None
    ) -> None:
        """Write requests to the outbox (committed before they are sent); `replaces`, a request
        the API answered without applying anything (413, or 400/422 naming refused rows), goes
        in the same transaction."""
        con = self.con
        con.begin()
        try:
            if replaces is not None:
                self._delete_requests("request_id = ?", [replaces.request_id])
            for request in requests:
                con.execute(
                    f"""insert into {SCHEMA}.http_requests
                    select ?, coalesce((select max(seq) from {SCHEMA}.http_requests), 0) + 1,
                        ?, ?, ?, ?, ?, ?, ?, ?, ?, null, null, ?""",
                    [
                        request.request_id,
                        self.destination.name,
                        self.target,
                        self.run_id,
                        request.batch_number,
                        request.key,
                        request.list_name,
                        request.url,
                        request.action,
                        _now(),
                        request.payload,
                    ],
                )
                query, values = _outbox_rows(request)
                con.execute(f"insert into {SCHEMA}.http_request_rows by name {query}", values)
            con.commit()
        except BaseException:
            con.rollback()
            raise

    def _delete_requests(self, where: str, params: list[Any]) -> None:
        self.con.execute(
            f"""delete from {SCHEMA}.http_request_rows where request_id in (
                select request_id from {SCHEMA}.http_requests where {where})""",
            params,
        )
        self.con.execute(f"delete from {SCHEMA}.http_requests where {where}", params)

    def answer_request(
        self, request: OutboxRequest, answer: str, refused: Mapping[str, str]
    ) -> None:
        """The API answered the request (`refused`: identifier -> error of the rows it refused):
        kept in the outbox until its batch is acknowledged, so that a run killed before that
        settles it from the answer, without sending it again."""
        con = self.con
        con.begin()
        try:
            con.execute(
                f"""update {SCHEMA}.http_requests set answered_at = ?, answer = ?
                where request_id = ?""",
                [_now(), answer, request.request_id],
            )
            if refused:
                con.executemany(
                    f"""update {SCHEMA}.http_request_rows set refused = ?
                    where request_id = ? and identifier = ?""",
                    [
                        [error, request.request_id, identifier]
                        for identifier, error in refused.items()
                    ],
                )
            con.commit()
        except BaseException:
            con.rollback()
            raise
        request.answer = answer
        for row in request.rows:
            if row["identifier"] in refused:
                row["refused"] = refused[row["identifier"]]

    def settle_request(self, request: OutboxRequest, refused: Mapping[str, str]) -> None:
        """A request replayed from the outbox was answered: its rows not refused are delivered
        (entries and updates upserted into the state with the payload it carried, exits
        deleted), the refused ones rejected, and the request leaves the outbox. One transaction."""
        con = self.con
        rows = [
            {**row, "refused": refused.get(row["identifier"], row.get("refused"))}
            for row in request.rows
        ]
        query, values = _outbox_rows(OutboxRequest(**{**request.__dict__, "rows": rows}))
        name = self.destination.name
        now = _now()
        con.begin()
        try:
            con.execute(f"create or replace temp table activation_settled as {query}", values)
            delivered = "settled.refused is null"
            con.execute(
                f"""delete from {SCHEMA}.destination_state as state
                using activation_settled as settled
                where state.destination = ? and {delivered}
                    and state.contact_id = settled.contact_id
                    and state.segment_key = settled.segment_key
                    and state.identifier = settled.identifier""",
                [name],
            )
            con.execute(
                f"""insert into {SCHEMA}.destination_state
                select ?, contact_id, segment_family, segment, segment_key, identifier, email,
                    first_name, last_name, attrs_hash, ?, ?
                from activation_settled as settled
                where {delivered} and action in ('enter', 'update')""",
                [name, now, self.run_id],
            )
            con.execute(
                f"""insert into {SCHEMA}.sync_row_results
                select ?, ?, contact_id, segment_family, segment, segment_key, identifier, action,
                    case when refused is null then 'delivered' else 'rejected' end, refused,
                    null, ?, ?
                from activation_settled as settled""",
                [self.run_id, name, request.key, now],
            )
            self._delete_requests("request_id = ?", [request.request_id])
            con.commit()
        except BaseException:
            con.rollback()
            raise

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
            if batch_number is not None:
                # The batch's requests leave the outbox with its acknowledgement.
                self._delete_requests(
                    "sync_run_id = ? and batch_number = ?", [self.run_id, batch_number]
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
        if error is not None and not self.diff_ready:
            # The run failed before its diff (resending the outbox): the rows left there are
            # not delivered yet; the next sync sends them again first.
            con.execute(
                f"""insert into {SCHEMA}.sync_row_results
                select ?, ?, rows.contact_id, rows.segment_family, rows.segment, rows.segment_key,
                    rows.identifier, rows.action, 'failed', ?, null, requests.idempotency_key, ?
                from {SCHEMA}.http_request_rows as rows
                inner join {SCHEMA}.http_requests as requests using (request_id)
                where requests.destination = ? and rows.refused is null""",
                [self.run_id, self.destination.name, f"not delivered: {error}", _now(),
                 self.destination.name],
            )  # fmt: skip
        elif error is not None:
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
