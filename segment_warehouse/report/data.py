"""What the report reads: the published Parquet files, and the warehouse read-only for history.

The marts come from the serving folder's Parquet files (`<table>.parquet`, written by
orchestration.publishing), never from the warehouse, so the report shows what BI tools see. The
history tables and the activation ledger are not published; they are read from the warehouse file
when one is given (a `segment_membership_history.parquet` in the serving folder is preferred when
present). Everything is queried through one in-memory DuckDB connection.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb

from segment_warehouse.files import sql_literal

#: The published marts the report cannot do without.
REQUIRED_TABLES = (
    "customer_segments",
    "segment_membership",
    "customer_engagement",
    "customer_scores",
    "customer_profile",
    "data_quality_issues",
)
#: Tables read from the serving folder when published there, else from the warehouse.
HISTORY_TABLES = ("segment_membership_history", "segment_membership_changes")


class ReportError(Exception):
    """The report cannot be written from these inputs; the message says what to do."""


class ReportData:
    """The serving folder's marts as views, plus the warehouse's history when it can be read."""

    def __init__(self, serving: Path, warehouse: Path | None = None) -> None:
        self.serving = Path(serving)
        self.warehouse = Path(warehouse) if warehouse is not None else None
        if not self.serving.is_dir():
            raise ReportError(
                f"serving folder {self.serving} does not exist: publish the marts first "
                "(the Dagster job segment_warehouse_build, or `make report`)"
            )
        self.con = duckdb.connect()
        self.published: list[str] = []
        for parquet in sorted(self.serving.glob("*.parquet")):
            self.con.execute(
                f'create view "{parquet.stem}" as select * from '
                f"read_parquet({sql_literal(str(parquet.resolve()))})"
            )
            self.published.append(parquet.stem)
        missing = [table for table in REQUIRED_TABLES if table not in self.published]
        if missing:
            raise ReportError(
                f"serving folder {self.serving} lacks "
                + ", ".join(f"{table}.parquet" for table in missing)
                + ": publish the marts first (orchestration.publishing.publish)"
            )
        #: Why the history or the activation ledger is not shown, when it is not.
        self.warehouse_problem: str | None = None
        self.history_source: str | None = None
        self._attach_warehouse()
        self.as_of_date = self._as_of_date()

    def _attach_warehouse(self) -> None:
        have_history = all(table in self.published for table in HISTORY_TABLES)
        if have_history:
            self.history_source = "serving folder"
        if self.warehouse is None:
            if not have_history:
                self.warehouse_problem = "no warehouse file given (--warehouse)"
            return
        if not self.warehouse.exists():
            self.warehouse_problem = f"warehouse file {self.warehouse} does not exist"
            return
        try:
            self.con.execute(
                f"attach {sql_literal(str(self.warehouse.resolve()))} as warehouse (read_only)"
            )
        except duckdb.Error as error:
            # e.g. a build holds the file's write lock: the report still shows the marts
            self.warehouse_problem = f"warehouse file {self.warehouse} could not be read: {error}"
            return
        if have_history:
            return
        found = {
            row[0]
            for row in self.con.execute(
                "select table_name from duckdb_tables() where database_name = 'warehouse'"
                " and schema_name = 'main'"
            ).fetchall()
        }
        if not set(HISTORY_TABLES) <= found:
            self.warehouse_problem = f"warehouse file {self.warehouse} has no history tables"
            return
        for table in HISTORY_TABLES:
            self.con.execute(f'create view "{table}" as select * from warehouse.main."{table}"')
        self.history_source = f"warehouse file {self.warehouse.name}"

    def _as_of_date(self) -> dt.date:
        dates = [
            row[0]
            for row in self.con.execute(
                "select distinct as_of_date from customer_segments order by 1"
            ).fetchall()
        ]
        if len(dates) != 1:
            raise ReportError(
                f"{self.serving / 'customer_segments.parquet'} holds "
                + ("no rows" if not dates else f"{len(dates)} as-of dates ({dates})")
                + ": expected one published as-of date; rebuild and publish"
            )
        return dates[0]

    @property
    def has_history(self) -> bool:
        return self.history_source is not None

    def has_activation_ledger(self) -> bool:
        if self.warehouse_problem is not None or self.warehouse is None:
            return False
        if "warehouse" not in {row[0] for row in self.con.execute("show databases").fetchall()}:
            return False
        return bool(
            self.con.execute(
                "select count(*) from duckdb_tables() where database_name = 'warehouse'"
                " and schema_name = 'activation' and table_name = 'sync_runs'"
            ).fetchone()[0]
        )

    def rows(
        self, sql: str, params: Sequence[Any] | Mapping[str, Any] = ()
    ) -> list[dict[str, Any]]:
        """The query's rows as dicts; params positional (?) or named ($name)."""
        cursor = self.con.execute(sql, params if isinstance(params, Mapping) else list(params))
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def value(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.con.execute(sql, list(params)).fetchone()[0]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> ReportData:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
