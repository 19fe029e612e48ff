"""PostgreSQL: a membership table kept in step with the segments, one transaction per sync.

The pending rows are streamed with COPY into a temporary table, then exits are deleted and
entries and updates upserted (`insert ... on conflict do update`), and the transaction commits:
readers see the table as it was before the sync or after it, never half of it. Only after the
commit are the rows acknowledged in the warehouse; if that acknowledgement were lost, the next
sync sends the same rows again and applying them again changes nothing (idempotent upserts and
deletes), so the table still ends exactly right.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import psycopg
import psycopg.conninfo
from psycopg import sql

from activation.config import Destination
from activation.ledger import SyncRun

COLUMNS = (
    "contact_id",
    "segment_family",
    "segment",
    "segment_key",
    "identifier",
    "email",
    "first_name",
    "last_name",
)


def redact(dsn: str) -> str:
    """The DSN without its password, for error messages."""
    dsn = re.sub(r"(://[^:/@]+):[^@]*@", r"\1:***@", dsn)
    return re.sub(r"(password\s*=\s*)\S+", r"\1***", dsn, flags=re.IGNORECASE)


class PostgresAdapter:
    def __init__(self, destination: Destination) -> None:
        self.destination = destination
        self.variable = destination.options["dsn_env"]
        self.dsn = destination.env("dsn_env", "the PostgreSQL connection string")
        self.schema = destination.options.get("schema", "public")
        self.table = destination.options.get("table", "segment_membership")
        self.timeout = int(destination.options.get("connect_timeout_s", 5))
        self.connection: psycopg.Connection | None = None
        self.target = self._target()

    def _target(self) -> str:
        """Server, database and table (no user, no password): where the rows go."""
        try:
            info = psycopg.conninfo.conninfo_to_dict(self.dsn)
        except psycopg.Error:
            info = {}
        where = f"{info.get('host', '')}:{info.get('port', '')}/{info.get('dbname', '')}"
        return f"postgres:{where}/{self.schema}.{self.table}"

    def open(self) -> None:
        from activation.destinations import DestinationError

        try:
            self.connection = psycopg.connect(
                self.dsn, autocommit=True, connect_timeout=self.timeout
            )
        except psycopg.Error as error:
            raise DestinationError(
                f"destination {self.destination.name!r}: cannot connect to PostgreSQL "
                f"({redact(self.dsn)}, from ${self.variable}): {str(error).strip()}. Nothing was "
                "sent and the ledger is unchanged; the next sync sends these rows."
            ) from error

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def deliver(self, run: SyncRun) -> None:
        assert self.connection is not None, "open() first"
        target = sql.Identifier(self.schema, self.table)
        with tempfile.TemporaryDirectory(prefix="activation-pg-") as folder:
            changes = Path(folder) / "changes.csv"
            run.con.execute(
                f"""copy (
                    select action, {", ".join(COLUMNS)} from activation_pending
                    where reject_reason is null order by row_id
                ) to '{str(changes).replace("'", "''")}' (format csv, header false)"""
            )
            with self.connection.transaction(), self.connection.cursor() as cursor:
                # The schema is created when missing (only then: CREATE SCHEMA IF NOT EXISTS
                # needs the CREATE privilege on the database even when the schema exists).
                cursor.execute("select 1 from pg_namespace where nspname = %s", [self.schema])
                if cursor.fetchone() is None:
                    cursor.execute(
                        sql.SQL("create schema if not exists {schema}").format(
                            schema=sql.Identifier(self.schema)
                        )
                    )
                cursor.execute(
                    sql.SQL(
                        """create table if not exists {target} (
                        contact_id text not null,
                        segment_family text not null,
                        segment text not null,
                        segment_key text not null,
                        identifier text not null,
                        email text,
                        first_name text,
                        last_name text,
                        sync_run_id text not null,
                        synced_at timestamptz not null default now(),
                        primary key (contact_id, segment_key)
                    )"""
                    ).format(target=target)
                )
                cursor.execute(
                    """create temporary table activation_changes (
                        action text, contact_id text, segment_family text, segment text,
                        segment_key text, identifier text, email text, first_name text,
                        last_name text
                    ) on commit drop"""
                )
                with (
                    cursor.copy("copy activation_changes from stdin (format csv)") as copy,
                    changes.open("rb") as source,
                ):
                    while chunk := source.read(1 << 20):
                        copy.write(chunk)
                cursor.execute(
                    sql.SQL(
                        """delete from {target} as target using activation_changes as changes
                        where changes.action = 'exit'
                            and target.contact_id = changes.contact_id
                            and target.segment_key = changes.segment_key
                            and target.identifier = changes.identifier"""
                    ).format(target=target)
                )
                columns = sql.SQL(", ").join(map(sql.Identifier, COLUMNS))
                updates = sql.SQL(", ").join(
                    sql.SQL("{column} = excluded.{column}").format(column=sql.Identifier(column))
                    for column in (*COLUMNS[1:], "sync_run_id", "synced_at")
                    if column != "segment_key"
                )
                cursor.execute(
                    sql.SQL(
                        """insert into {target} ({columns}, sync_run_id, synced_at)
                        select {columns}, %s, now() from activation_changes
                        where action in ('enter', 'update')
                        on conflict (contact_id, segment_key) do update set {updates}"""
                    ).format(target=target, columns=columns, updates=updates),
                    [run.run_id],
                )
        run.ack_all()
