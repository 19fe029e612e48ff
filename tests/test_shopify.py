"""A shop's own tables as sources (``source_system: shopify``): Fivetran's Shopify connector schema.

A synthetic store in that layout (tests/shopify_data.py) is written into the warehouse file's schema
``shopify`` and built. Every contact is held against the pandas reference, whose inputs this module
derives from the Shopify tables by the mapping documented in docs/analytics-engineer.md ("A shop's
own tables as sources"), without reading the staging models; every row the store made unusable must
be in data_quality_issues with its reason, and nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from conftest import (
    BuildPool,
    assert_segments_match,
    query,
    reference_records,
    run_build,
)
from shopify_data import ENTITIES, STORE_CURRENCY, ShopifyStore, write_shopify_store

AS_OF = "2025-06-30"

pytestmark = pytest.mark.e2e


def shopify_vars(**extra: Any) -> dict[str, Any]:
    return {"source_system": "shopify", **extra}


def _store_job(root: Path) -> tuple[ShopifyStore, Path]:
    folder = root / "shopify_warehouse"
    store = write_shopify_store(folder / "warehouse.duckdb", as_of=dt.date.fromisoformat(AS_OF))
    db = run_build(shopify_vars(), AS_OF, folder, keep_warehouse=True).check()
    return store, db


def submit_builds(builds: BuildPool, build_root: Path) -> None:
    builds.submit("shopify", _store_job, build_root)
    builds.submit(
        "shopify_no_schema",
        run_build,
        shopify_vars(shopify_schema="no_such_schema"),
        AS_OF,
        build_root / "shopify_no_schema_warehouse",
    )


@pytest.fixture(scope="module", autouse=True)
def _submit_builds(builds: BuildPool, build_root: Path) -> None:
    submit_builds(builds, build_root)


@pytest.fixture(scope="module")
def shopify_build(builds: BuildPool) -> tuple[ShopifyStore, Path]:
    return builds.result("shopify")


# --------------------------------------------------------------------------------------------
# The documented mapping, written out in pandas (independent of the SQL)
# --------------------------------------------------------------------------------------------

COMPLETED = {"paid", "partially_refunded", "refunded"}
PENDING = {"pending", "authorized", "partially_paid"}
CANCELLED = {"voided", "expired"}


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT


def _latest(frame: pd.DataFrame, order_by: list[str]) -> pd.DataFrame:
    """One row per id (rows without an id are not used): the copy Fivetran wrote last."""
    frame = frame[frame["id"].notna()]
    ordered = frame.sort_values(["id", *order_by], na_position="first", kind="mergesort")
    return ordered.drop_duplicates("id", keep="last")


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def _status(row: pd.Series) -> str | None:
    if not _missing(row["cancelled_at"]):
        return "cancelled"
    financial = str(row["financial_status"]).lower()
    if financial in COMPLETED:
        return "completed"
    if financial in PENDING:
        return "pending"
    if financial in CANCELLED:
        return "cancelled"
    return None


def reference_inputs(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """contacts / orders / refunds for tests/reference/segments.py from the Shopify tables."""
    customers = _latest(tables["customer"], ["_fivetran_synced", "updated_at"])
    contacts = pd.DataFrame(
        {
            "contact_id": [str(int(i)) for i in customers["id"]],
            "created_at": customers["created_at"].to_numpy(),
            "subscribed_at": [_subscribed_at(row) for _, row in customers.iterrows()],
            "email": customers["email"].to_numpy(),
        }
    )
    known = set(contacts["contact_id"])

    orders = _latest(tables["order"], ["_fivetran_synced", "updated_at"])
    orders = orders[~orders["_fivetran_deleted"].fillna(False).astype(bool)]
    orders = orders[~orders["test"].fillna(False).astype(bool)]
    orders = orders[orders["customer_id"].notna()]
    currencies = orders["currency"].dropna().str.upper()
    store_currency = currencies.value_counts().idxmax()
    assert store_currency == STORE_CURRENCY
    rows = []
    for _, order in orders.iterrows():
        contact_id = str(int(order["customer_id"]))
        status = _status(order)
        if status is None or contact_id not in known:
            continue
        if str(order["currency"]).upper() != store_currency:
            continue  # no rate in seed currency_rates: the order is set aside
        amount = _money(order["subtotal_price"])
        if order["taxes_included"]:
            amount -= _money(order["total_tax"])
        rows.append(
            {
                "order_id": str(int(order["id"])),
                "contact_id": contact_id,
                "ordered_at": order["processed_at"]
                if not _missing(order["processed_at"])
                else order["created_at"],
                "status": status,
                "amount_net": amount,
                "currency": None,
                "taxes_included": bool(order["taxes_included"]),
            }
        )
    kept_orders = pd.DataFrame(rows)
    by_order = {row["order_id"]: row for row in rows}

    refunds_table = _latest(tables["refund"], ["_fivetran_synced"])
    known_refunds = set(refunds_table["id"].dropna().astype("int64"))
    lines = _latest(tables["order_line_refund"], ["_fivetran_synced"])
    lines = lines[
        lines["refund_id"].notna()
        & lines["refund_id"].isin(known_refunds)
        & lines["subtotal"].notna()
        & (lines["subtotal"] >= 0)
    ]
    refund_rows = []
    for _, refund in refunds_table.iterrows():
        order = by_order.get(str(int(refund["order_id"])))
        if order is None or order["status"] != "completed":
            continue  # refunds of cancelled, pending or unusable orders are not subtracted
        mine = lines[lines["refund_id"] == refund["id"]]
        amount = sum((_money(v) for v in mine["subtotal"]), Decimal(0))
        if order["taxes_included"]:
            amount -= sum((_money(v) for v in mine["total_tax"].fillna(0)), Decimal(0))
        refund_rows.append(
            {
                "refund_id": str(int(refund["id"])),
                "order_id": order["order_id"],
                "contact_id": order["contact_id"],
                "refunded_at": refund["processed_at"]
                if not _missing(refund["processed_at"])
                else refund["created_at"],
                "amount_net": amount,
            }
        )
    refunds = pd.DataFrame(refund_rows)
    return {
        "contacts": contacts,
        "orders": kept_orders.drop(columns=["taxes_included"]),
        "refunds": refunds,
    }


def _subscribed_at(row: pd.Series) -> Any:
    state = row["email_marketing_consent_state"]
    consented = (
        str(state).lower() == "subscribed" if not _missing(state) else row["accepts_marketing"]
    )
    if _missing(consented) or not consented:
        return None
    for column in ("email_marketing_consent_consent_updated_at", "accepts_marketing_updated_at"):
        if not _missing(row[column]):
            return row[column]
    return None


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_every_contact_matches_reference(shopify_build: tuple[ShopifyStore, Path]) -> None:
    store, db = shopify_build
    data = reference_inputs(store.tables)
    expected = reference_records(data, AS_OF)
    assert len(expected) > 250, len(expected)
    segments = Counter(row["rfm_segment"] for row in expected.values())
    stages = Counter(row["lifecycle_stage"] for row in expected.values())
    focus = Counter(row["focus_segment"] for row in expected.values())
    # the store exercises the rules: buyers and prospects, every stage, most focus segments
    assert segments["Prospects"] > 0 and len(segments) >= 6, segments
    assert set(stages) == {"prospect", "new", "active", "loyal", "at_risk", "lapsed"}, stages
    assert focus["new_subscriber_non_buyer"] > 0 and len(focus) >= 5, focus
    assert_segments_match(db, expected, what="Shopify (Fivetran) store as of " + AS_OF)


def test_refunds_and_test_orders_change_monetary(shopify_build: tuple[ShopifyStore, Path]) -> None:
    """The warehouse's monetary is the orders' subtotals (net of tax) less the goods refunded."""
    store, db = shopify_build
    data = reference_inputs(store.tables)
    refunded = data["refunds"].groupby("contact_id")["amount_net"].sum()
    assert len(refunded) > 10 and all(v >= 0 for v in refunded)
    rows = dict(query(db, "select contact_id, cast(monetary as varchar) from main.customer_rfm"))
    orders = data["orders"]
    valid = orders[(orders["status"] == "completed") & (orders["amount_net"] > 0)]
    valid = valid[pd.to_datetime(valid["ordered_at"]).dt.date <= dt.date.fromisoformat(AS_OF)]
    checked = 0
    for contact_id, amounts in valid.groupby("contact_id")["amount_net"]:
        if contact_id not in refunded.index:
            continue
        contact_refunds = data["refunds"][data["refunds"]["contact_id"] == contact_id]
        in_time = contact_refunds[
            pd.to_datetime(contact_refunds["refunded_at"]).dt.date <= dt.date.fromisoformat(AS_OF)
        ]
        expected = max(sum(amounts) - sum(in_time["amount_net"]), Decimal(0))
        assert Decimal(rows[contact_id]) == expected.quantize(Decimal("0.0001")), contact_id
        checked += 1
    assert checked > 10


def test_email_consent_and_subscription(shopify_build: tuple[ShopifyStore, Path]) -> None:
    store, db = shopify_build
    customers = _latest(store.tables["customer"], ["_fivetran_synced", "updated_at"])
    expected = {}
    for _, row in customers.iterrows():
        state = row["email_marketing_consent_state"]
        consent = (
            str(state).lower() == "subscribed" if not _missing(state) else row["accepts_marketing"]
        )
        expected[str(int(row["id"]))] = None if _missing(consent) else bool(consent)
    found = dict(query(db, "select contact_id, email_consent from main.customer_segments"))
    shared = set(found) & set(expected)
    assert len(shared) > 250
    assert {k: found[k] for k in shared} == {k: expected[k] for k in shared}
    assert {True, False} <= set(found.values())


def test_every_bad_row_is_reported_with_its_reason(
    shopify_build: tuple[ShopifyStore, Path],
) -> None:
    store, db = shopify_build
    rows = query(
        db,
        "select entity, record_key, reason, outcome, source_file, source_row, raw_row"
        " from main.data_quality_issues order by all",
    )
    assert rows, "data_quality_issues is empty"
    found = Counter((entity, key, reason) for entity, key, reason, *_ in rows)
    assert found == Counter(store.expected_issues), (
        f"only in the warehouse: {found - Counter(store.expected_issues)};"
        f" only expected: {Counter(store.expected_issues) - found}"
    )
    tables = {entity: table for table, entity in ENTITIES.items()}
    for entity, key, reason, outcome, source_file, source_row, raw_row in rows:
        assert source_file == f"shopify.{tables[entity]}", source_file
        assert source_row is not None and source_row >= 1
        raw = json.loads(raw_row)
        assert (str(raw["id"]) if raw["id"] is not None else None) == key, (key, raw)
        assert "_fivetran_synced" in raw  # the whole row as the loader wrote it
        expected_outcome = "duplicate_dropped" if reason == "duplicate_key" else "row_rejected"
        assert outcome == expected_outcome, (entity, key, reason, outcome)
    # a dropped duplicate is the older copy: the raw row kept aside is not the one used
    duplicate_orders = [r for r in rows if r[0] == "shopify_orders" and r[2] == "duplicate_key"]
    (order_key,) = {r[1] for r in duplicate_orders}
    used = query(
        db, "select amount_net from intermediate.int_orders_unioned where order_id = ?", [order_key]
    )
    set_aside = json.loads(duplicate_orders[0][6])["subtotal_price"]
    assert len(used) == 1 and float(used[0][0]) != set_aside


def test_missing_schema_fails_naming_the_var(builds: BuildPool) -> None:
    result = builds.result("shopify_no_schema")
    assert not result.ok, "a build reading a schema that does not exist must fail"
    assert "shopify_schema" in result.output and "no_such_schema" in result.output, result.tail()
    for table in ("customer", "order", "refund", "order_line_refund"):
        assert table in result.output.split("no table ", 1)[-1].split(" in ", 1)[0], result.tail()
