"""The automation marts (SPEC section 7) against the pandas reference
(tests/reference/automation.py): the demo build as of its date, and a sequence of builds of one
warehouse over consecutive days and hours (a daily build with a week's window, an hourly one, the
next daily one, then the hourly one again as a backfill), each held against the reference fed the
reference's own ledger. The ledger of the sequence also keeps the promises on its own: a step is
issued once, never without the channel's consent, never after the contact ordered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import DEMO_AS_OF, ROOT, BuildPool, build_warehouse, query

try:
    from tests.reference import automation as auto
    from tests.reference import engagement as eng
except ModuleNotFoundError:  # tests/ itself is on sys.path
    from reference import automation as auto
    from reference import engagement as eng

pytestmark = pytest.mark.e2e

KEY = ("contact_id", "scenario", "step", "trigger_id")
QUEUE_COLUMNS = (
    *KEY,
    "due_at",
    "channel",
    "template_key",
    "discount_pct",
    "valid_until",
    "planned_channel",
    "channel_note",
)
HELD_COLUMNS = (*KEY, "due_at", "channel", "template_key", "held_rule")
ENTRY_COLUMNS = (
    "contact_id",
    "scenario",
    "trigger_id",
    "trigger_at",
    "entered_at",
    "exited_at",
    "exit_reason",
    "orders_count_at_trigger",
    "days_since_order_at_trigger",
    "last_order_net_at_trigger",
    "is_regular_at_trigger",
)

#: The sequence: (as_of_date, automation_as_of or None = end of day, extra vars).
SEQUENCE: tuple[tuple[str, str | None, dict[str, Any]], ...] = (
    ("2025-06-28", None, {"automation_lateness_hours": 168}),
    ("2025-06-29", "2025-06-29 12:00:00", {}),
    ("2025-06-29", None, {}),
    ("2025-06-29", "2025-06-29 12:00:00", {}),
)


def _snapshot(db: Path) -> dict[str, list[tuple]]:
    tables = {
        "queue": ("automation_queue", QUEUE_COLUMNS),
        "held": ("automation_held", HELD_COLUMNS),
        "entries": ("automation_entries", ENTRY_COLUMNS),
        "issued": ("automation_issued", (*QUEUE_COLUMNS, "issued_at")),
    }
    return {
        name: query(db, f"select {', '.join(columns)} from main.{table}")
        for name, (table, columns) in tables.items()
    }


def _run_sequence(store: Path, tmp: Path) -> list[dict[str, list[tuple]]]:
    """The builds of SEQUENCE into one warehouse, each snapshotted before the next."""
    snapshots = []
    for index, (as_of, moment, extra) in enumerate(SEQUENCE):
        vars = dict(extra)
        if moment is not None:
            vars["automation_as_of"] = moment
        db = build_warehouse(
            store,
            as_of,
            tmp,
            vars=vars,
            keep_warehouse=index > 0,
            # what the automation needs, and only the tests whose every parent was built
            extra_args=["--select", "+tag:automation", "--indirect-selection", "cautious"],
        )
        snapshots.append(_snapshot(db))
    return snapshots


@pytest.fixture(scope="module", autouse=True)
def _submit(builds: BuildPool, build_root: Path, demo_store: Path) -> None:
    builds.submit("automation_sequence", _run_sequence, demo_store, build_root / "automation_seq")


@pytest.fixture(scope="module")
def automation_data(demo_store: Path, demo_reference_data) -> dict[str, pd.DataFrame]:
    data = dict(demo_reference_data)
    data.update(eng.load_activity(demo_store))
    data["web_channels"] = auto.load_web_channels(demo_store)
    return data


_FACTS: dict[str, pd.DataFrame] = {}


def _facts(data: Mapping[str, pd.DataFrame], as_of: str) -> pd.DataFrame:
    if as_of not in _FACTS:
        stores = pd.read_csv(ROOT / "seeds" / "store_locations.csv")
        cities = pd.read_csv(ROOT / "seeds" / "persona_cities.csv", keep_default_na=False)
        _FACTS[as_of] = auto.contact_facts(
            data,
            as_of,
            stores=[
                (r.store_id, float(r.latitude), float(r.longitude)) for r in stores.itertuples()
            ],
            persona_cities=[(r.city, r.country_code or None) for r in cities.itertuples()],
        )
    return _FACTS[as_of]


def _norm(value: Any) -> Any:
    if isinstance(value, Decimal | int) and not isinstance(value, bool):
        return Decimal(value).quantize(Decimal("0.0001"))
    if isinstance(value, float):
        return Decimal(str(value)).quantize(Decimal("0.0001"))
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value


def _rows(records: list[Mapping[str, Any]], columns: tuple[str, ...]) -> set[tuple]:
    return {tuple(_norm(record.get(c)) for c in columns) for record in records}


def _warehouse_rows(rows: list[tuple]) -> set[tuple]:
    return {tuple(_norm(v) for v in row) for row in rows}


def _assert_same(actual: set[tuple], expected: set[tuple], what: str, show: int = 5) -> None:
    only_actual, only_expected = actual - expected, expected - actual
    assert not only_actual and not only_expected, (
        f"{what}: {len(actual)} rows in the warehouse, {len(expected)} in the reference;"
        f" only in the warehouse: {sorted(only_actual, key=str)[:show]};"
        f" only in the reference: {sorted(only_expected, key=str)[:show]}"
    )


def _assert_build_matches(
    snapshot: Mapping[str, list[tuple]], expected: Mapping[str, list[dict]], what: str
) -> None:
    _assert_same(
        _warehouse_rows(snapshot["entries"]), _rows(expected["entries"], ENTRY_COLUMNS), what
    )
    _assert_same(
        _warehouse_rows(snapshot["queue"]), _rows(expected["queue"], QUEUE_COLUMNS), what + " queue"
    )
    _assert_same(
        _warehouse_rows(snapshot["held"]), _rows(expected["held"], HELD_COLUMNS), what + " held"
    )


def test_demo_build_matches_reference(demo_warehouse: Path, automation_data) -> None:
    expected = auto.compute_automation(
        automation_data, _facts(automation_data, DEMO_AS_OF), DEMO_AS_OF
    )
    snapshot = _snapshot(demo_warehouse)
    _assert_build_matches(snapshot, expected, f"demo build as of {DEMO_AS_OF}")
    # one build: the ledger is the queue
    assert {row[: len(QUEUE_COLUMNS)] for row in snapshot["issued"]} == set(snapshot["queue"])
    assert expected["queue"], "the demo store should have steps due on its date"


def test_sequence_of_builds_matches_reference(builds: BuildPool, automation_data) -> None:
    snapshots = builds.result("automation_sequence")
    ledger: list[dict[str, Any]] = []
    queues = []
    for (as_of, moment, extra), snapshot in zip(SEQUENCE, snapshots, strict=True):
        expected = auto.compute_automation(
            automation_data, _facts(automation_data, as_of), as_of, moment, ledger, **extra
        )
        what = f"build as of {moment or as_of + ' (end of day)'}"
        _assert_build_matches(snapshot, expected, what)
        ledger = expected["ledger"]
        _assert_same(
            _warehouse_rows(snapshot["issued"]),
            _rows(ledger, (*QUEUE_COLUMNS, "issued_at")),
            what + " issued",
        )
        queues.append(set(snapshot["queue"]))
    # the rerun of the 12:00 build (a backfill) shows the same queue and issues nothing new
    assert queues[3] == queues[1]
    assert sorted(snapshots[3]["issued"]) == sorted(snapshots[2]["issued"])
    held_rules = {row[-1] for snapshot in snapshots for row in snapshot["held"]}
    assert {"consent_email", "priority", "daily_cap"} <= held_rules, held_rules


def test_sequence_ledger_keeps_its_promises(builds: BuildPool, automation_data) -> None:
    """Issued once; never without the channel's consent on the day it was issued; never after the
    contact ordered (a valid order between the trigger and the issue)."""
    issued = builds.result("automation_sequence")[-1]["issued"]
    assert issued, "the sequence should issue steps"
    keys = [row[:4] for row in issued]
    assert len(keys) == len(set(keys)), "a step was issued twice"

    orders = automation_data["orders"]
    valid = orders[
        (orders["status"] == "completed")
        & pd.Series([a is not None and a > 0 for a in orders["amount_net"]], index=orders.index)
    ]
    order_times: dict[str, list[dt.datetime]] = {}
    for row in valid.itertuples():
        order_times.setdefault(row.contact_id, []).append(auto._naive(row.ordered_at))
    columns = (*QUEUE_COLUMNS, "issued_at")
    # the entries of every build of the sequence (a later cart is not in an earlier moment's)
    entries = {
        (row[0], row[1], row[2]): row
        for snapshot in builds.result("automation_sequence")
        for row in snapshot["entries"]
    }
    for row in issued:
        record = dict(zip(columns, row, strict=True))
        facts = _facts(automation_data, record["issued_at"].date().isoformat())
        fact = facts.set_index("contact_id").loc[record["contact_id"]]
        if record["channel"] == "email":
            assert fact["is_email_reachable"], f"email without is_email_reachable: {record}"
        if record["channel"] == "sms":
            assert fact["sms_consent"], f"sms without sms_consent: {record}"
        entry = entries[(record["contact_id"], record["scenario"], record["trigger_id"])]
        trigger_at = entry[ENTRY_COLUMNS.index("trigger_at")]
        later_orders = [
            t
            for t in order_times.get(record["contact_id"], [])
            if trigger_at < t <= record["issued_at"]
            or (record["scenario"] == "cart" and t == trigger_at)
        ]
        assert not later_orders, f"issued after an order at {later_orders[0]}: {record}"
