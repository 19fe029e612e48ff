"""The dbt marts agree with the pandas reference, contact by contact, on generated stores.

Stores: the session demo store (3,000 contacts, seed 11, parquet, as of 2025-06-30), the same
store written as CSV, and a copy with rows dated after the as-of date. Builds: default vars,
``rfm_scoring: thresholds``, non-default vars (with an RFM window), a rebuild, an earlier as-of.
All builds are submitted to the background pool when the session starts (see conftest).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import (
    DEMO_AS_OF,
    ROOT,
    SEGMENT_COLUMNS,
    BuildPool,
    assert_segments_match,
    assert_snapshots_equal,
    build_warehouse,
    generate_demo_store,
    mart_names,
    mart_snapshot,
    query,
    ref,
    reference_records,
    segment_differences,
    submit_demo_build,
    warehouse_records,
)

from segment_warehouse.demo_store import SCHEMAS

# Builds the dbt project: left out of `make quick` (pytest -m 'not e2e').
pytestmark = pytest.mark.e2e

THRESHOLD_VARS = {"rfm_scoring": "thresholds"}
CUSTOM_VARS: dict[str, Any] = {
    "active_days": 60,
    "lapsed_days": 200,
    "loyal_min_orders": 3,
    "new_subscriber_days": 45,
    "first_buyer_days": 14,
    "two_time_buyer_days": 10,
    "one_time_lapse_days": 45,
    "repeat_lapse_days": 90,
    "rfm_window_days": 365,
}
#: every window at its smallest (0 days: the as-of day only) and the least loyal_min_orders
EDGE_VARS: dict[str, Any] = {
    "active_days": 0,
    "lapsed_days": 0,
    "loyal_min_orders": 2,
    "new_subscriber_days": 0,
    "first_buyer_days": 0,
    "two_time_buyer_days": 0,
    "one_time_lapse_days": 0,
    "repeat_lapse_days": 0,
    "rfm_window_days": 0,
}
EARLY_AS_OF = "2025-01-31"


# --------------------------------------------------------------------------------------------
# A copy of the store with rows dated after the as-of date
# --------------------------------------------------------------------------------------------


def _after(days: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """A moment `days` days after the as-of date (day 1 = the first day after it)."""
    day = dt.date.fromisoformat(DEMO_AS_OF) + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute, second))


def _write_part(folder: Path, entity: str, rows: list[dict[str, Any]]) -> None:
    table = pa.Table.from_pylist(rows, schema=SCHEMAS[entity])
    pq.write_table(table, folder / entity / "part-99999.parquet")


def write_store_with_future_rows(store: Path, out: Path) -> dict[str, int]:
    """Copies ``store`` to ``out`` and adds contacts, orders and refunds dated after the as-of
    date (new ids only, so no row replaces an existing one). Returns the rows added."""
    shutil.copytree(store, out)
    contacts = pq.read_table(store / "contacts").to_pylist()
    orders = pq.read_table(store / "orders").to_pylist()
    known = [c["contact_id"] for c in contacts[:400]]
    completed = [o for o in orders if o["status"] == "completed"][:150]

    new_contacts = [
        {
            "contact_id": f"Z{i:07d}",
            "email": f"future{i}@example.com",
            "created_at": _after(1 + i % 20, hour=i % 24),
            "subscribed_at": _after(1 + i % 20, hour=i % 24, minute=5) if i % 2 else None,
            "email_consent": True,
        }
        for i in range(60)
    ]
    new_orders = []
    for i, contact_id in enumerate(known + [c["contact_id"] for c in new_contacts]):
        new_orders.append(
            {
                "order_id": f"F{i:08d}",
                "contact_id": contact_id,
                # the first one at the first instant after the as-of date
                "ordered_at": _after(1 + i % 90, hour=(i * 7) % 24) if i else _after(1),
                "status": ("completed", "completed", "cancelled", "pending")[i % 4],
                "currency": "EUR",
                "amount_net": round(10 + (i * 37) % 500 + 0.25, 2),
                "amount_gross": round((10 + (i * 37) % 500 + 0.25) * 1.22, 2),
            }
        )
    new_refunds = [
        {
            "refund_id": f"FR{i:07d}",
            "order_id": order["order_id"],
            # half name their contact, half leave it to the order
            "contact_id": order["contact_id"] if i % 2 else None,
            "refunded_at": _after(1 + i % 30, hour=i % 24),
            "amount_net": round(order["amount_net"] * 0.5, 2),
        }
        for i, order in enumerate(completed)
    ] + [
        {
            "refund_id": f"FR9{i:06d}",
            "order_id": order["order_id"],
            "contact_id": order["contact_id"],
            "refunded_at": _after(2, hour=i % 24),
            "amount_net": 5.0,
        }
        for i, order in enumerate(new_orders[:50])
    ]
    _write_part(out, "contacts", new_contacts)
    _write_part(out, "orders", new_orders)
    _write_part(out, "refunds", new_refunds)
    return {"contacts": len(new_contacts), "orders": len(new_orders), "refunds": len(new_refunds)}


# --------------------------------------------------------------------------------------------
# Builds (submitted to the pool when the session starts)
# --------------------------------------------------------------------------------------------


def _csv_job(root: Path) -> tuple[Path, Path]:
    store = generate_demo_store(root / "demo_store_csv", fmt="csv")
    return store, build_warehouse(store, DEMO_AS_OF, root / "csv_warehouse", with_tests=False)


def _future_rows_job(root: Path, demo: Path) -> tuple[Path, Path, dict[str, int]]:
    store = root / "demo_store_future_rows"
    added = write_store_with_future_rows(demo, store)
    db = build_warehouse(store, DEMO_AS_OF, root / "future_rows_warehouse", with_tests=False)
    return store, db, added


def submit_builds(builds: BuildPool, build_root: Path) -> None:
    """Submits this module's builds (conftest calls it when the session starts)."""
    demo = submit_demo_build(builds, build_root)

    def demo_store() -> Path:
        return demo.result()[0]

    def variant(
        key: str, as_of: str, vars: Mapping[str, Any] | None = None, with_tests: bool = False
    ) -> None:
        builds.submit(
            key,
            lambda: build_warehouse(
                demo_store(),
                as_of,
                build_root / key,
                vars=vars,
                with_tests=with_tests,
                unit_tests=with_tests,
            ),
        )

    builds.submit("csv", _csv_job, build_root)
    variant("thresholds", DEMO_AS_OF, THRESHOLD_VARS)
    # with every data and unit test: a user's own vars must not fail the unit tests, which pin
    # the vars they are written for
    variant("custom_vars", DEMO_AS_OF, CUSTOM_VARS, with_tests=True)
    variant("edge_vars", DEMO_AS_OF, EDGE_VARS)
    variant("rebuild", DEMO_AS_OF)
    builds.submit("future_rows", lambda: _future_rows_job(build_root, demo_store()))
    variant("early", EARLY_AS_OF)


@pytest.fixture(scope="module", autouse=True)
def _submit_builds(builds: BuildPool, build_root: Path) -> None:
    submit_builds(builds, build_root)


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_marts_exist(demo_warehouse: Path) -> None:
    present = set(mart_names(demo_warehouse))
    missing = {
        "customer_rfm",
        "customer_lifecycle",
        "customer_focus_segments",
        "customer_segments",
        "segment_membership",
        "data_quality_issues",
    } - present
    assert not missing, f"marts missing from schema main: {sorted(missing)} (found {present})"


def test_mart_keys_are_not_null_constraints(demo_warehouse: Path) -> None:
    """The marts' not-null columns are NOT NULL constraints of their enforced contracts (DuckDB
    refuses an empty key when the table is written), not tests that read the table again."""
    rows = query(
        demo_warehouse,
        "select table_name, list(constraint_column_names[1]) from duckdb_constraints()"
        " where schema_name = 'main' and constraint_type = 'NOT NULL' group by table_name",
    )
    not_null = {table: set(columns) for table, columns in rows}
    for table in (
        "customer_rfm",
        "customer_lifecycle",
        "customer_focus_segments",
        "customer_segments",
        "customer_engagement",
        "customer_scores",
        "customer_profile",
        "segment_membership",
        "segment_membership_history",
        "segment_membership_changes",
    ):
        assert "contact_id" in not_null.get(table, set()), (table, not_null)
    membership = not_null["segment_membership"]
    assert {"as_of_date", "segment_family", "segment", "segment_key"} <= membership
    assert "rfm_segment" in not_null["customer_rfm"]


def test_default_build_matches_reference(demo_warehouse: Path, demo_reference_data) -> None:
    expected = reference_records(demo_reference_data, DEMO_AS_OF)
    # the store is realistic: every lifecycle stage and focus segment occurs
    stages = {r["lifecycle_stage"] for r in expected.values()}
    focus = {r["focus_segment"] for r in expected.values()} - {None}
    assert stages == set(ref.LIFECYCLE_STAGES), stages
    assert len(focus) >= 4, focus
    assert_segments_match(demo_warehouse, expected, what="parquet store, default vars")


def test_demo_store_has_no_data_quality_issues(demo_warehouse: Path) -> None:
    rows = query(
        demo_warehouse,
        "select entity, reason, count(*) from main.data_quality_issues group by all",
    )
    assert rows == [], f"the generated store is clean, yet: {rows}"


def test_csv_store_matches_reference(builds: BuildPool, demo_warehouse: Path) -> None:
    store, db = builds.result("csv")
    assert not list(store.rglob("*.parquet"))
    expected = reference_records(ref.load_raw_contract(store), DEMO_AS_OF)
    assert_segments_match(db, expected, what="csv store, default vars")
    # and the same labels and metrics as the parquet store (CSV timestamps have whole seconds)
    columns = tuple(c for c in SEGMENT_COLUMNS if c not in ("first_order_at", "last_order_at"))
    differences = segment_differences(
        warehouse_records(db, "customer_segments", columns),
        warehouse_records(demo_warehouse, "customer_segments", columns),
        columns,
    )
    assert not differences, "csv vs parquet build:\n" + "\n".join(differences)


def test_threshold_scoring_matches_reference(builds: BuildPool, demo_reference_data) -> None:
    db = builds.result("thresholds")
    expected = reference_records(demo_reference_data, DEMO_AS_OF, THRESHOLD_VARS)
    assert_segments_match(db, expected, what="rfm_scoring: thresholds (seed table)")


def test_non_default_vars_match_reference(builds: BuildPool, demo_reference_data) -> None:
    db = builds.result("custom_vars")
    expected = reference_records(demo_reference_data, DEMO_AS_OF, CUSTOM_VARS)
    # the window matters: some customers have no valid order in the last 365 days
    unscored = [r for r in expected.values() if r["orders_count"] and r["r_score"] is None]
    assert unscored, "expected customers outside the 365-day RFM window"
    assert_segments_match(db, expected, rfm_window=True, what=f"vars {CUSTOM_VARS}")


def test_zero_day_windows_match_reference(builds: BuildPool, demo_reference_data) -> None:
    """Every window at 0 days (only the as-of day counts): the boundaries of every rule at once."""
    db = builds.result("edge_vars")
    expected = reference_records(demo_reference_data, DEMO_AS_OF, EDGE_VARS)
    stages = {r["lifecycle_stage"] for r in expected.values()}
    focus = {r["focus_segment"] for r in expected.values()} - {None}
    scored = [r for r in expected.values() if r["r_score"] is not None]
    # the as-of day has orders (scored, new, loyal) and most buyers are past every window; all
    # five focus segments occur
    assert {"prospect", "new", "loyal", "lapsed"} <= stages and scored, (stages, len(scored))
    assert len(focus) == 5, focus
    assert_segments_match(db, expected, rfm_window=True, what=f"vars {EDGE_VARS}")


def test_rebuild_as_of_same_date_is_identical(builds: BuildPool, demo_warehouse: Path) -> None:
    again = builds.result("rebuild")
    assert_snapshots_equal(
        mart_snapshot(again), mart_snapshot(demo_warehouse), "second build, same as-of date"
    )


def test_rows_after_as_of_date_change_nothing(
    builds: BuildPool, demo_warehouse: Path, demo_reference_data
) -> None:
    store, db, added = builds.result("future_rows")
    assert all(added.values()), added
    # the reference sees the extra rows and ignores them too
    with_future = ref.load_raw_contract(store)
    assert len(with_future["orders"]) == len(demo_reference_data["orders"]) + added["orders"]
    assert_snapshots_equal(
        mart_snapshot(db, exclude_columns=["source_file"]),
        mart_snapshot(demo_warehouse, exclude_columns=["source_file"]),
        f"store plus rows dated after {DEMO_AS_OF} ({added})",
    )


def test_earlier_as_of_date_matches_reference(builds: BuildPool, demo_reference_data) -> None:
    db = builds.result("early")
    expected = reference_records(demo_reference_data, EARLY_AS_OF)
    # contacts created later do not exist yet
    assert len(expected) < len(demo_reference_data["contacts"])
    assert_segments_match(db, expected, what=f"as of {EARLY_AS_OF}")
    dates = query(db, "select distinct as_of_date from main.customer_segments")
    assert dates == [(dt.date.fromisoformat(EARLY_AS_OF),)]


def test_every_unit_test_pins_every_rule_var() -> None:
    """A unit test's expectations hold for the vars it was written for: each one sets every rule
    var of dbt_project.yml (the vars that say where the data is read aside: paths, source_system,
    csv_encoding, the raw contract's and the Shopify tables' database and schema), so a user's
    project or --vars cannot fail it.
    The custom_vars build above runs them under other vars."""
    import yaml

    project_vars = yaml.safe_load((ROOT / "dbt_project.yml").read_text())["vars"]
    input_vars = {
        "source_system",
        "raw_data_path",
        "raw_database",
        "raw_schema",
        "online_retail_path",
        "csv_encoding",
        "shopify_database",
        "shopify_schema",
    }
    rule_vars = set(project_vars) - input_vars
    files = sorted(ROOT.glob("models/**/*unit_tests.yml"))
    assert files
    unpinned = {}
    for file in files:
        for test in yaml.safe_load(file.read_text())["unit_tests"]:
            pinned = set((test.get("overrides") or {}).get("vars") or {})
            if rule_vars - pinned:
                unpinned[f"{file.name}: {test['name']}"] = sorted(rule_vars - pinned)
    assert not unpinned, unpinned
