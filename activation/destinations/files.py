"""Files: one CSV per segment in the list-import shape of email tools (email, first_name,
last_name, tags), the whole membership as Parquet, and this run's changes as Parquet.

`ad_audience` writes the same files with one column `email_sha256` (SHA-256 hex of the trimmed,
lower-cased email) instead of the person's details: no raw email and no name is ever written.

The files are snapshots of what the destination holds after the run (the acknowledged state plus
this run's changes); each is written under a temporary name in the same folder, then renamed
over the old one (os.replace), so a reader sees an old or a new file, never a partial one.
"""

from __future__ import annotations

import re
from pathlib import Path

from activation.config import Destination
from activation.ledger import SyncRun
from activation.warehouse import SCHEMA
from segment_warehouse.files import replaced_together, sql_literal


def segment_file_name(segment_key: str) -> str:
    """lifecycle:at_risk -> lifecycle__at_risk.csv"""
    return re.sub(r"[^a-z0-9_]+", "_", segment_key.replace(":", "__").lower()) + ".csv"


class FilesAdapter:
    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self.out_dir = destination.path_option(f"target/activation/{destination.name}")
        self.hashed = destination.type == "ad_audience"
        self.target = f"{destination.type}:{self.out_dir.resolve()}"

    def open(self) -> None:
        from activation.destinations import make_folder

        make_folder(self.destination, self.out_dir)

    def close(self) -> None:
        pass

    def _columns(self, table: str) -> str:
        if self.hashed:
            return f"{table}.identifier as email_sha256"
        return f"{table}.email, {table}.first_name, {table}.last_name, {table}.segment_key as tags"

    def deliver(self, run: SyncRun) -> None:
        con = run.con
        name = self.destination.name
        con.execute(
            f"""create or replace temp table activation_next_state as
            select state.contact_id, state.segment_family, state.segment, state.segment_key,
                state.identifier, state.email, state.first_name, state.last_name
            from {SCHEMA}.destination_state as state
            where state.destination = ? and not exists (
                select 1 from activation_pending as pending
                where pending.reject_reason is null and pending.action in ('exit', 'update')
                    and pending.contact_id = state.contact_id
                    and pending.segment_key = state.segment_key
                    and pending.identifier = state.identifier
            )
            union all
            select contact_id, segment_family, segment, segment_key, identifier, email,
                first_name, last_name
            from activation_pending
            where reject_reason is null and action in ('enter', 'update')""",
            [name],
        )
        segments = [
            row[0]
            for row in con.execute(
                f"""select segment_key from activation_next_state
                union select segment_key from {SCHEMA}.destination_state where destination = ?
                union select segment_key from activation_desired
                order by 1""",
                [name],
            ).fetchall()
        ]
        with replaced_together() as aside:

            def copy(query: str, final: Path, options: str) -> None:
                con.execute(f"copy ({query}) to {sql_literal(str(aside(final)))} ({options})")

            for segment_key in segments:
                # One line per address: contacts sharing an email are one list member (the
                # lowest contact_id gives the names).
                copy(
                    f"""select {self._columns("next_state")}
                    from activation_next_state as next_state
                    where next_state.segment_key = {sql_literal(segment_key)}
                    qualify row_number() over (
                        partition by next_state.identifier order by next_state.contact_id
                    ) = 1
                    order by next_state.identifier""",
                    self.out_dir / segment_file_name(segment_key),
                    "format csv, header true",
                )
            detail = "" if self.hashed else "next_state.contact_id, "
            copy(
                f"""select next_state.segment_family, next_state.segment, next_state.segment_key,
                    {detail}{self._columns("next_state")}
                from activation_next_state as next_state
                order by next_state.segment_key, next_state.identifier""",
                self.out_dir / ("audience.parquet" if self.hashed else "membership.parquet"),
                "format parquet, compression zstd",
            )
            detail = "" if self.hashed else "changes.contact_id, "
            copy(
                f"""select changes.action, changes.segment_family, changes.segment,
                    changes.segment_key, {detail}{self._columns("changes")}
                from activation_pending as changes
                where changes.reject_reason is null
                order by changes.row_id""",
                self.out_dir / "changes.parquet",
                "format parquet, compression zstd",
            )
        current = {segment_file_name(key) for key in segments}
        for stale in self.out_dir.glob("*.csv"):
            if stale.name not in current:
                stale.unlink()
        run.ack_all()
