"""Incremental ingestion (segment-warehouse-land, then models/staging/raw/base and
macros/ingest.sql): a build reads only the raw files that are new or changed, and the warehouse
it leaves is identical to a build from an empty warehouse over the same files.

One store, three states of its folder:

1. the initial export; built into the "incremental" warehouse;
2. the next day's export: a new web-events file (new events, a later copy of an already ingested
   event, a row with an unknown event type), an orders file replaced (one status changed, one
   order gone), an email-events file removed, and a new contacts file that brings a contact whose
   events and orders were already ingested as `unknown_contact`; the incremental warehouse is
   built again, and so is a fresh one;
3. nothing changed: the incremental warehouse is built a third time and reads no file.

Every mart (data_quality_issues included) must equal the fresh build's, row for row.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import (
    DEMO_AS_OF,
    assert_snapshots_equal,
    generate_demo_store,
    mart_snapshot,
    query,
    run_build,
)

# Builds the dbt project: left out of `make quick` (pytest -m 'not e2e').
pytestmark = pytest.mark.e2e

AS_OF = DEMO_AS_OF
LATE_CONTACT = "C9999999"


def _copy_parquet(con: duckdb.DuckDBPyConnection, sql: str, target: Path) -> int:
    target.parent.mkdir(parents=True, exist_ok=True)
    con.execute(f"copy ({sql}) to '{target}' (format parquet)")
    return con.execute(f"select count(*) from read_parquet('{target}')").fetchone()[0]


@pytest.fixture(scope="module")
def states(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("incremental")
    store = generate_demo_store(root / "store", contacts=400, seed=5)
    con = duckdb.connect()

    # Day 1: the late contact's events are there, the contact is not (yet).
    web = store / "web_events" / "part-00000.parquet"
    _copy_parquet(
        con,
        f"select * from read_parquet('{web}') union all "
        f"select * replace ('{LATE_CONTACT}' as contact_id, 'LATE-' || event_id as event_id) "
        f"from (select * from read_parquet('{web}') where contact_id is not null limit 3)",
        store / "web_events" / "part-00000.parquet.tmp",
    )
    (store / "web_events" / "part-00000.parquet.tmp").replace(web)
    # email events in two files, so that day 2 can take one away
    email = store / "email_events" / "part-00000.parquet"
    for part, parity in (("part-00001.parquet", 1), ("part-00000.parquet.tmp", 0)):
        _copy_parquet(
            con,
            "select * exclude (file_row_number)"
            f" from read_parquet('{email}', file_row_number = true)"
            f" where file_row_number % 2 = {parity}",
            store / "email_events" / part,
        )
    (store / "email_events" / "part-00000.parquet.tmp").replace(email)

    first = run_build(store, AS_OF, root / "incremental", with_tests=False)
    first.check()
    late_unknown_day1 = query(
        first.db_path,
        "select count(*) from main.data_quality_issues where entity = 'web_events'"
        " and reason = 'unknown_contact' and raw_row like ?",
        [f"%{LATE_CONTACT}%"],
    )[0][0]

    # Day 2.
    orders_files = sorted((store / "orders").glob("*.parquet"))
    orders = orders_files[0]
    changed = con.execute(
        f"select order_id from read_parquet('{orders}') order by order_id limit 2"
    ).fetchall()
    status_changed, removed = changed[0][0], changed[1][0]
    _copy_parquet(
        con,
        f"select * replace (case when order_id = '{status_changed}' then 'cancelled'"
        f" else status end as status) from read_parquet('{orders}')"
        f" where order_id <> '{removed}'",
        orders.with_suffix(".tmp"),
    )
    orders.with_suffix(".tmp").replace(orders)

    email_files = sorted((store / "email_events").glob("*.parquet"))
    email_files[-1].unlink()

    some = con.execute(
        f"select event_id, occurred_at from read_parquet('{web}') order by event_id limit 1"
    ).fetchone()
    _copy_parquet(
        con,
        f"(select * replace ('DAY2-' || event_id as event_id, occurred_at + interval 1 day"
        f" as occurred_at) from read_parquet('{web}') where occurred_at < timestamp '{AS_OF}'"
        f" - interval 2 day limit 20)"
        f" union all (select * replace (occurred_at + interval 1 hour as occurred_at)"
        f" from read_parquet('{web}') where event_id = '{some[0]}')"
        f" union all (select * replace ('DAY2-BAD' as event_id, 'teleport' as event_type)"
        f" from read_parquet('{web}') limit 1)",
        store / "web_events" / "part-90000.parquet",
    )
    _copy_parquet(
        con,
        f"select * replace ('{LATE_CONTACT}' as contact_id, 'late.contact@example.net' as email)"
        f" from read_parquet('{store}/contacts/*.parquet') limit 1",
        store / "contacts" / "part-90000.parquet",
    )

    second = run_build(store, AS_OF, root / "incremental", with_tests=False, keep_warehouse=True)
    second.check()
    fresh = run_build(store, AS_OF, root / "fresh", with_tests=False)
    fresh.check()
    incremental_day2 = mart_snapshot(second.db_path)

    third = run_build(store, AS_OF, root / "incremental", with_tests=False, keep_warehouse=True)
    third.check()
    return {
        "store": store,
        "first": first,
        "late_unknown_day1": late_unknown_day1,
        "second": second,
        "third": third,
        "fresh": fresh,
        "incremental_day2": incremental_day2,
        "duplicated_event": some[0],
        "status_changed": status_changed,
        "removed": removed,
    }


def _ingest_lines(output: str) -> dict[str, tuple[int, int]]:
    found = re.findall(r"ingest (\w+): (\d+) of (\d+) files new or changed", output)
    return {entity: (int(new), int(total)) for entity, new, total in found}


def test_second_build_reads_only_new_and_changed_files(states: dict[str, object]) -> None:
    lines = _ingest_lines(states["second"].output)
    assert lines["web_events"][0] == 1, lines
    assert lines["orders"][0] == 1, lines
    assert lines["contacts"][0] == 1, lines
    assert lines["email_events"][0] == 0, lines
    assert lines["order_items"][0] == 0, lines


def test_incremental_build_equals_a_fresh_build(states: dict[str, object]) -> None:
    fresh = mart_snapshot(states["fresh"].db_path)
    assert_snapshots_equal(states["incremental_day2"], fresh, "incremental vs fresh build")


def test_build_with_nothing_new_reads_no_file_and_changes_nothing(
    states: dict[str, object],
) -> None:
    lines = _ingest_lines(states["third"].output)
    assert lines and all(new == 0 for new, _ in lines.values()), lines
    assert_snapshots_equal(
        mart_snapshot(states["third"].db_path),
        states["incremental_day2"],
        "third build (nothing new) vs second",
    )


def test_day_two_changes_are_applied(states: dict[str, object]) -> None:
    db = states["second"].db_path
    store = states["store"]
    # the removed email-events file took its rows with it
    files = {
        row[0]
        for row in query(db, "select distinct _source_file from staging.base_raw__email_events")
    }
    assert files == {str(p) for p in sorted((store / "email_events").glob("*.parquet"))}
    # the replaced orders file: one order gone, one with its new status
    orders = dict(
        query(
            db,
            "select order_id, status from staging.stg_raw__orders"
            " where order_id in (?, ?) and dq_failure is null",
            [states["status_changed"], states["removed"]],
        )
    )
    assert orders == {states["status_changed"]: "cancelled"}
    # the late contact: its events and orders are usable now, not unknown_contact
    assert query(
        db,
        "select count(*) from main.data_quality_issues where reason = 'unknown_contact'"
        " and raw_row like ?",
        [f"%{LATE_CONTACT}%"],
    ) == [(0,)]
    assert query(
        db,
        "select count(*) from staging.stg_raw__web_events"
        " where contact_id = ? and dq_failure is null",
        [LATE_CONTACT],
    ) == [(3,)]
    # the later copy of an ingested event wins; the earlier one is reported as a duplicate
    duplicates = query(
        db,
        "select record_key, reason from main.data_quality_issues where record_key = ?",
        [states["duplicated_event"]],
    )
    assert duplicates == [(states["duplicated_event"], "duplicate_key")]
    assert query(
        db,
        "select count(*) from main.data_quality_issues where record_key = 'DAY2-BAD'"
        " and reason = 'unknown_event_type'",
    ) == [(1,)]


def test_first_build_saw_the_late_contact_as_unknown(states: dict[str, object]) -> None:
    assert states["late_unknown_day1"] == 3


def test_full_refresh_reads_every_file_again(states: dict[str, object], tmp_path: Path) -> None:
    work = tmp_path / "refresh"
    shutil.copytree(
        states["second"].db_path.parent, work, ignore=shutil.ignore_patterns("target", "logs")
    )
    result = run_build(
        states["store"],
        AS_OF,
        work,
        with_tests=False,
        keep_warehouse=True,
        extra_args=["--full-refresh", "--select", "path:models/staging/raw/base"],
    )
    result.check()
    # no ingest model compares fingerprints on a full refresh (the loader's own `landing ...`
    # lines, which run_build prints first, say that no file changed)
    assert _ingest_lines(result.output) == {}
    counts = query(
        result.db_path,
        "select count(*), count(distinct _source_file) from staging.base_raw__web_events",
    )
    assert counts == query(
        states["fresh"].db_path,
        "select count(*), count(distinct _source_file) from staging.base_raw__web_events",
    )
