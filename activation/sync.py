"""Sync destinations: compute each diff in the warehouse, deliver it, write the ledger.

A segment destination's diff is activation/warehouse.py's (activation_members); an automation
destination's (automation_events, automation_lists) is activation/automation.py's
(activation_automation_steps). Both go through the same ledger, outbox and fault handling."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from activation import automation
from activation.config import AUTOMATION_TYPES, ActivationConfig, Destination
from activation.destinations import DestinationError, make_adapter
from activation.ledger import SyncRun
from activation.warehouse import (
    compute_pending,
    ensure_schema,
    failed_email_check,
    forget_other_target,
    unmatched_names,
)

log = logging.getLogger(__name__)


class SyncError(RuntimeError):
    """A sync that failed after it started; its ledger says what was delivered."""


@dataclass(frozen=True)
class SyncResult:
    destination: str
    sync_run_id: str
    status: str
    sent: int
    entered: int
    updated: int
    exited: int
    rejected: int
    failed: int
    pending: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _check_membership(
    con: duckdb.DuckDBPyConnection, warehouse: Path, destination: Destination
) -> None:
    if destination.type in AUTOMATION_TYPES:
        missing = automation.check_steps_table(con)
        if missing:
            raise DestinationError(f"{warehouse}: {missing}")
        return
    found = con.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'main' and table_name = 'activation_members'"
    ).fetchone()[0]
    if not found:
        raise DestinationError(
            f"{warehouse}: no main.activation_members table (the dbt mart activation reads); "
            "run `dbt build` first"
        )


def _connect_warehouse(warehouse: Path, destination: Destination) -> duckdb.DuckDBPyConnection:
    """The warehouse, read-write (the sync writes its ledger there); DuckDB allows one writer
    process, so a `dbt build` or another sync holding it is reported as such."""
    try:
        return duckdb.connect(str(warehouse))
    except duckdb.IOException as error:
        if "lock" not in str(error).lower():
            raise
        raise DestinationError(
            f"destination {destination.name!r}: the warehouse {warehouse} is in use by another "
            "process (a dbt build, a sync, or a client holding it open for writing; DuckDB "
            f"allows one writer). Nothing was sent; sync again when it is done. ({error})"
        ) from error


def _log_held(destination: Destination, pending: dict[str, int]) -> None:
    if pending["held_stale"]:
        log.warning(
            "destination %r: %d steps never delivered are due more than %g h ago "
            "(options.max_age_hours): held back, not sent",
            destination.name,
            pending["held_stale"],
            automation.max_age_hours(destination),
        )


def sync_destination(warehouse: str | Path, destination: Destination) -> SyncResult:
    """One sync. The destination is reached before the warehouse is touched: when it cannot be
    (a missing secret, a server down), the error names it and nothing is written."""
    warehouse = Path(warehouse)
    if not warehouse.exists():
        raise DestinationError(f"{warehouse}: warehouse not found; run `dbt build` first")
    adapter = make_adapter(destination)
    adapter.open()
    try:
        with _connect_warehouse(warehouse, destination) as con:
            _check_membership(con, warehouse, destination)
            ensure_schema(con)
            unmatched = unmatched_names(con, destination)
            if unmatched:
                log.warning(
                    "destination %r: segments.names %s match no segment today (a segment name "
                    "such as 'Champions' or a key such as 'rfm:champions'); check the spelling",
                    destination.name,
                    ", ".join(map(repr, unmatched)),
                )
            previous = forget_other_target(con, destination, adapter.target)
            if previous is not None:
                log.warning(
                    "destination %r now goes to %s (was %s): everything is sent again",
                    destination.name,
                    adapter.target,
                    previous,
                )
            run = SyncRun(con, destination, adapter.target)
            run.start()
            replay = getattr(adapter, "replay", None)
            try:
                if replay is not None:
                    # What an earlier run left in flight goes first, same rows and keys, so
                    # that the diff below already reflects it.
                    replay(run)
                if destination.type in AUTOMATION_TYPES:
                    pending = automation.compute_pending(con, destination)
                    _log_held(destination, pending)
                else:
                    pending = compute_pending(con, destination)
                log.info("%s: pending %s", destination.name, pending)
                dropped = 0 if destination.type in AUTOMATION_TYPES else failed_email_check(con)
                if dropped:
                    log.warning(
                        "destination %r: %d rows have an email that fails the activation email "
                        "check; the destination's identifier is contact_id, so they are sent "
                        "with email NULL",
                        destination.name,
                        dropped,
                    )
                run.begin_delivery()
                adapter.deliver(run)
            except Exception as error:
                counts = run.finish(error)
                raise SyncError(
                    f"destination {destination.name!r}: sync {run.run_id} failed after "
                    f"delivering {counts['sent']} rows ({counts['failed']} not delivered, "
                    f"recorded as failed; the next sync sends them): {error}"
                ) from error
            counts = run.finish()
    finally:
        adapter.close()
    return SyncResult(destination=destination.name, pending=pending, **counts)  # type: ignore[arg-type]


def sync_all(
    warehouse: str | Path, config: ActivationConfig, names: list[str] | None = None
) -> tuple[list[SyncResult], dict[str, str]]:
    """Sync each selected destination; one failing does not stop the others.
    Returns the results and {destination: error} of those that failed."""
    results: list[SyncResult] = []
    errors: dict[str, str] = {}
    for destination in config.select(names):
        try:
            results.append(sync_destination(warehouse, destination))
        except Exception as error:  # noqa: BLE001 - reported per destination
            log.error("%s", error)
            errors[destination.name] = str(error)
    return results, errors
