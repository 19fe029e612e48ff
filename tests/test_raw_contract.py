"""The raw data contract on small hand-written CSV stores (rules.md "Raw contract").

- the harness scenario: only contacts and orders, ids as text, timestamps with `Z`, every other
  file and column absent;
- bad rows mixed with good ones: each lands in data_quality_issues with its reason and row, and
  the good rows still give the reference's segments;
- missing required files and columns, and a bad as_of_date, stop the build with a clear message;
- timestamps with offsets land on the right UTC day (contacts K1-K7 of the bad-rows store).

All builds are submitted to the background pool when the session starts (see conftest).
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    BuildPool,
    assert_segments_match,
    query,
    ref,
    reference_records,
    run_build,
    warehouse_records,
)

# Builds the dbt project: left out of `make quick` (pytest -m 'not e2e').
pytestmark = pytest.mark.e2e

AS_OF = "2025-06-30"
AS_OF_DATE = dt.date.fromisoformat(AS_OF)


def write_csv(path: Path, columns: list[str], rows: Iterable[Mapping[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({c: "" if row.get(c) is None else row[c] for c in columns})
    return path


def iso_z(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def days_before(days: int, hour: int = 12, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(AS_OF_DATE - dt.timedelta(days=days), dt.time(hour, minute))


# --------------------------------------------------------------------------------------------
# Stores
# --------------------------------------------------------------------------------------------


def write_harness_store(folder: Path) -> Path:
    """Contacts and orders only; ids are text ('000123', 'cust-7'); timestamps end in `Z`;
    contacts have only contact_id and created_at, orders only the required columns."""
    rng = random.Random(20250630)
    contacts: list[dict[str, Any]] = []
    orders: list[dict[str, Any]] = []
    amounts = ["19.90", "49.00", "49.00", "120.50", "0.00", "300", "75.25", "9.99", "1250.10"]
    for i in range(1, 91):
        contact_id = f"cust-{i}" if i % 10 == 0 else f"{i:06d}"
        created = days_before(rng.randint(0, 900), rng.randint(0, 23), rng.randint(0, 59))
        if i in (7, 8, 9):  # created after the as-of date; 9 ordered before it anyway
            created = dt.datetime.combine(AS_OF_DATE, dt.time(23)) + dt.timedelta(days=i - 6)
        contacts.append({"contact_id": contact_id, "created_at": iso_z(created)})
        count = rng.choice([0, 0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 7]) if i not in (7, 8) else 0
        if i == 9:
            count = 1
        for _ in range(count):
            ordered = days_before(rng.randint(-10, 800), rng.randint(0, 23), rng.randint(0, 59))
            if i == 9:
                ordered = days_before(50)
            status = rng.choices(["completed", "cancelled", "pending"], [85, 10, 5])[0]
            amount = rng.choice(amounts + [f"{rng.randint(500, 90000) / 100:.2f}"])
            orders.append(
                {
                    "order_id": f"{len(orders) + 1:07d}",
                    "contact_id": contact_id,
                    "ordered_at": iso_z(ordered),
                    "status": status,
                    "amount_net": amount,
                }
            )
    write_csv(folder / "contacts.csv", ["contact_id", "created_at"], contacts)
    write_csv(
        folder / "orders.csv",
        ["order_id", "contact_id", "ordered_at", "status", "amount_net"],
        orders,
    )
    return folder


#: contact -> (created_at, subscribed_at, [ordered_at]) with offsets; see test_offsets_*.
OFFSET_CONTACTS: dict[str, tuple[str, str | None, list[str]]] = {
    # 2025-05-31T00:30+02:00 is 2025-05-30 22:30 UTC: 31 days old, not 30
    "K1": ("2025-01-01T00:00:00+02:00", None, ["2025-05-31T00:30:00+02:00"]),
    # 2025-06-30T23:30-02:00 is 2025-07-01 01:30 UTC: after the as-of date, ignored
    "K2": ("2025-01-01T00:00:00Z", None, ["2025-06-30T23:30:00-02:00", "2025-06-20 12:00:00"]),
    # 2025-07-01T01:00+02:00 is 2025-06-30 23:00 UTC: on the as-of date, 0 days old
    "K3": ("2025-01-01T00:00:00Z", None, ["2025-07-01T01:00:00+02:00"]),
    # created 2025-07-01T00:30+02:00 = 2025-06-30 22:30 UTC: exists; subscribed 0 days ago
    "K4": ("2025-07-01T00:30:00+02:00", "2025-07-01T00:30:00+02:00", []),
    # created 2025-06-30T23:30-01:00 = 2025-07-01 00:30 UTC: does not exist yet
    "K5": ("2025-06-30T23:30:00-01:00", None, []),
    # subscribed 2025-05-31T01:00+02:00 = 2025-05-30 23:00 UTC: 31 days, not a new subscriber
    "K6": ("2025-05-31T01:00:00+02:00", "2025-05-31T01:00:00+02:00", []),
    # subscribed 2025-05-30T23:30-01:00 = 2025-05-31 00:30 UTC: 30 days, a new subscriber
    "K7": ("2025-05-30T23:30:00-01:00", "2025-05-30T23:30:00-01:00", []),
}


CONTACT_COLUMNS = ["contact_id", "email", "created_at", "subscribed_at"]
ORDER_COLUMNS = ["order_id", "contact_id", "ordered_at", "status", "amount_net", "currency"]
REFUND_COLUMNS = ["refund_id", "order_id", "contact_id", "refunded_at", "amount_net"]
ITEM_COLUMNS = ["order_id", "line_number", "product_id", "quantity", "unit_price_net"]
CART_COLUMNS = ["cart_id", "contact_id", "created_at", "value_net"]
WEB_EVENT_COLUMNS = ["event_id", "contact_id", "session_id", "event_type", "occurred_at"]
EMAIL_EVENT_COLUMNS = ["event_id", "contact_id", "campaign_id", "event_type", "occurred_at"]

#: staging model -> its key columns (the raw contract's entities)
STAGING_KEYS = {
    "stg_raw__contacts": ["contact_id"],
    "stg_raw__orders": ["order_id"],
    "stg_raw__refunds": ["refund_id"],
    "stg_raw__order_items": ["order_id", "line_number"],
    "stg_raw__products": ["product_id"],
    "stg_raw__carts": ["cart_id"],
    "stg_raw__web_events": ["event_id"],
    "stg_raw__email_events": ["event_id"],
}


@dataclass(frozen=True)
class Issue:
    entity: str
    source_row: int
    reason: str
    column_name: str
    outcome: str = "row_rejected"


@dataclass
class Entity:
    """Rows of one CSV file, with the issues its bad rows must raise."""

    name: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, **values: Any) -> int:
        """Appends a row; returns its 1-based data row number (source_row)."""
        self.rows.append(values)
        return len(self.rows)


@dataclass
class BadRowsStore:
    folder: Path
    expected: list[Issue]
    #: source_row of the notable rows, by name
    rows: dict[str, int]


def write_bad_rows_store(folder: Path) -> BadRowsStore:
    contacts, orders = Entity("contacts"), Entity("orders")
    refunds, items = Entity("refunds"), Entity("order_items")
    expected: list[Issue] = []
    rows: dict[str, int] = {}

    # good contacts and orders: enough buyers for the quantile scores to matter
    rng = random.Random(7)
    good_orders: list[str] = []
    for i in range(1, 31):
        contact_id = f"B{i:02d}"
        contacts.add(
            contact_id=contact_id,
            email=f"b{i}@example.com",
            created_at=iso_z(days_before(400 + i)),
            subscribed_at=iso_z(days_before(rng.randint(0, 60))) if i % 3 == 0 else None,
        )
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5])):
            order_id = f"O{len(good_orders) + 1:04d}"
            orders.add(
                order_id=order_id,
                contact_id=contact_id,
                ordered_at=iso_z(days_before(rng.randint(0, 500), rng.randint(0, 23))),
                status="completed",
                amount_net=f"{rng.randint(1000, 40000) / 100:.2f}",
                currency="EUR" if len(good_orders) % 4 else None,
            )
            good_orders.append(order_id)
        if i == 15:  # bad contact rows in the middle of the file
            rows["contact_without_id"] = contacts.add(
                contact_id="", email="noid@example.com", created_at=iso_z(days_before(3))
            )
            expected.append(
                Issue("contacts", rows["contact_without_id"], "missing_key", "contact_id")
            )
            rows["contact_bad_created_at"] = contacts.add(
                contact_id="B99",
                email="b99@example.com",
                created_at="31/31/2024 25:00",
                subscribed_at=iso_z(days_before(5)),
            )
            expected.append(
                Issue(
                    "contacts",
                    rows["contact_bad_created_at"],
                    "unparseable_value",
                    "created_at",
                    "value_emptied",
                )
            )

    # bad orders, each raising one reason (the order of checks in rules.md decides)
    def bad_order(key: str, reason: str, column: str, outcome: str = "row_rejected", **values):
        row = {
            "order_id": f"X-{key}",
            "contact_id": "B01",
            "ordered_at": iso_z(days_before(10)),
            "status": "completed",
            "amount_net": "50.00",
            "currency": "EUR",
        }
        row.update(values)
        rows[key] = orders.add(**row)
        expected.append(Issue("orders", rows[key], reason, column, outcome))

    bad_order("missing_order_id", "missing_key", "order_id", order_id="")
    bad_order("bad_ordered_at", "unparseable_timestamp", "ordered_at", ordered_at="2025-02-31")
    bad_order("bad_amount", "unparseable_number", "amount_net", amount_net="12,50 EUR")
    bad_order("shipped", "unknown_status", "status", status="shipped")
    bad_order("unknown_contact", "unknown_contact", "contact_id", contact_id="NOBODY")
    bad_order("usd", "currency_without_rate", "currency", currency="USD", contact_id="B02")
    # a duplicate order_id: the latest timestamp is kept, wherever it sits in the file
    rows["dup_kept"] = orders.add(
        order_id="O-DUP",
        contact_id="B03",
        ordered_at=iso_z(days_before(5)),
        status="completed",
        amount_net="60.00",
        currency="EUR",
    )
    rows["dup_dropped"] = orders.add(
        order_id="O-DUP",
        contact_id="B03",
        ordered_at=iso_z(days_before(40)),
        status="completed",
        amount_net="40.00",
        currency="EUR",
    )
    expected.append(
        Issue("orders", rows["dup_dropped"], "duplicate_key", "order_id", "duplicate_dropped")
    )
    # cancelled and pending orders are not issues
    orders.add(
        order_id="O-CANC",
        contact_id="B04",
        ordered_at=iso_z(days_before(2)),
        status="Cancelled",
        amount_net="80.00",
        currency="EUR",
    )
    orders.add(
        order_id="O-PEND",
        contact_id="B04",
        ordered_at=iso_z(days_before(1)),
        status="pending",
        amount_net="80.00",
    )

    # refunds: the contact given, or the contact of the order; a negative one is rejected
    refunds.add(
        refund_id="R1",
        order_id=good_orders[0],
        contact_id=None,
        refunded_at=iso_z(days_before(1)),
        amount_net="5.50",
    )
    refunds.add(
        refund_id="R2",
        order_id=None,
        contact_id="B05",
        refunded_at=iso_z(days_before(3)),
        amount_net="1000.00",
    )
    rows["negative_refund"] = refunds.add(
        refund_id="R3",
        order_id=good_orders[1],
        contact_id=None,
        refunded_at=iso_z(days_before(2)),
        amount_net="-5.00",
    )
    expected.append(Issue("refunds", rows["negative_refund"], "negative_amount", "amount_net"))

    # order items: a negative quantity is rejected
    for line, order_id in enumerate(good_orders[:5], start=1):
        items.add(order_id=order_id, line_number=1, product_id=f"P{line}", quantity=2)
    rows["negative_quantity"] = items.add(
        order_id=good_orders[0], line_number=2, product_id="P9", quantity=-2, unit_price_net="3"
    )
    expected.append(
        Issue("order_items", rows["negative_quantity"], "negative_quantity", "quantity")
    )

    # exact ties (same order_id, same ordered_at), mirrored in the file: the later row wins
    at = iso_z(days_before(20))
    for contact_id, amounts in (("P-TIE1", ("90.00", "80.00")), ("P-TIE2", ("80.00", "90.00"))):
        contacts.add(contact_id=contact_id, created_at=iso_z(days_before(100)))
        first, _ = [
            orders.add(
                order_id=f"O-{contact_id}",
                contact_id=contact_id,
                ordered_at=at,
                status="completed",
                amount_net=amount,
                currency="EUR",
            )
            for amount in amounts
        ]
        expected.append(Issue("orders", first, "duplicate_key", "order_id", "duplicate_dropped"))
    # a refund naming its contact and an order that was rejected (unparseable amount): counts
    contacts.add(contact_id="P-REFUND", created_at=iso_z(days_before(100)))
    orders.add(
        order_id="O-P-GOOD",
        contact_id="P-REFUND",
        ordered_at=iso_z(days_before(30)),
        status="completed",
        amount_net="100.00",
        currency="EUR",
    )
    rows["rejected_order"] = orders.add(
        order_id="O-P-BAD",
        contact_id="P-REFUND",
        ordered_at=iso_z(days_before(20)),
        status="completed",
        amount_net="n/a",
        currency="EUR",
    )
    expected.append(Issue("orders", rows["rejected_order"], "unparseable_number", "amount_net"))
    rows["refund_of_rejected_order"] = refunds.add(
        refund_id="R-P",
        order_id="O-P-BAD",
        contact_id="P-REFUND",
        refunded_at=iso_z(days_before(10)),
        amount_net="30.00",
    )

    # values padded with tabs, line breaks and spaces are trimmed like str.strip()
    contacts.add(contact_id="\tP-PAD\n", created_at="\t" + iso_z(days_before(100)) + "\r\n")
    orders.add(
        order_id=" O-P-PAD\t",
        contact_id="P-PAD ",
        ordered_at="\n" + iso_z(days_before(12)) + "\t",
        status="\tcompleted ",
        amount_net="\t55.00\n",
        currency=" EUR\t",
    )

    # timestamps with offsets (see test_offsets_land_on_the_utc_day)
    for contact_id, (created, subscribed, ordered) in OFFSET_CONTACTS.items():
        contacts.add(contact_id=contact_id, created_at=created, subscribed_at=subscribed)
        for n, at in enumerate(ordered):
            orders.add(
                order_id=f"O-{contact_id}-{n}",
                contact_id=contact_id,
                ordered_at=at,
                status="completed",
                amount_net="25.00",
            )

    # carts, web and email events: staging keeps no test of their keys (the views are read once
    # at scale), so a missing key and a repeated key are injected into each here; see
    # test_every_staging_key_is_present_and_unique
    carts, web, email = Entity("carts"), Entity("web_events"), Entity("email_events")
    for n in range(1, 4):
        carts.add(
            cart_id=f"C{n}",
            contact_id=f"B{n:02d}",
            created_at=iso_z(days_before(n)),
            value_net="20.00",
        )
        web.add(
            event_id=f"W{n}",
            contact_id=f"B{n:02d}",
            session_id=f"S{n}",
            event_type="page_view",
            occurred_at=iso_z(days_before(n)),
        )
        email.add(
            event_id=f"E{n}",
            contact_id=f"B{n:02d}",
            campaign_id="CAMP1",
            event_type="sent",
            occurred_at=iso_z(days_before(n)),
        )
    for entity, key, values, later in (
        (carts, "cart_id", {"contact_id": "B01", "value_net": "5.00"}, "created_at"),
        (web, "event_id", {"contact_id": "B01", "event_type": "search"}, "occurred_at"),
        (email, "event_id", {"contact_id": "B01", "event_type": "open"}, "occurred_at"),
    ):
        name = entity.name
        rows[f"{name}_without_key"] = entity.add(
            **{key: " ", later: iso_z(days_before(2))}, **values
        )
        expected.append(Issue(name, rows[f"{name}_without_key"], "missing_key", key))
        # the same key as the entity's first row, older: dropped as a duplicate
        rows[f"{name}_duplicate"] = entity.add(
            **{key: entity.rows[0][key], later: iso_z(days_before(30))}, **values
        )
        expected.append(
            Issue(name, rows[f"{name}_duplicate"], "duplicate_key", key, "duplicate_dropped")
        )

    write_csv(folder / "contacts.csv", CONTACT_COLUMNS, contacts.rows)
    write_csv(folder / "orders.csv", ORDER_COLUMNS, orders.rows)
    write_csv(folder / "refunds.csv", REFUND_COLUMNS, refunds.rows)
    write_csv(folder / "order_items.csv", ITEM_COLUMNS, items.rows)
    write_csv(folder / "carts.csv", CART_COLUMNS, carts.rows)
    write_csv(folder / "web_events.csv", WEB_EVENT_COLUMNS, web.rows)
    write_csv(folder / "email_events.csv", EMAIL_EVENT_COLUMNS, email.rows)
    return BadRowsStore(folder, expected, rows)


def write_tiny_store(folder: Path, orders: bool = True, amount: bool = True) -> Path:
    write_csv(folder / "contacts.csv", ["contact_id"], [{"contact_id": "A"}])
    if orders:
        columns = ["order_id", "contact_id", "ordered_at", "status"] + (
            ["amount_net"] if amount else []
        )
        row = {
            "order_id": "1",
            "contact_id": "A",
            "ordered_at": "2025-01-01T00:00:00Z",
            "status": "completed",
            "amount_net": "10",
        }
        write_csv(folder / "orders.csv", columns, [row])
    return folder


# --------------------------------------------------------------------------------------------
# Builds (submitted to the pool when the session starts)
# --------------------------------------------------------------------------------------------

BAD_AS_OF_VALUES = ("30/06/2025", "2025-02-30")
#: lifecycle vars that would put a contact in two stages, and what the error must say
BAD_LIFECYCLE_VARS = ({"loyal_min_orders": 1}, {"active_days": 120, "lapsed_days": 90})
BAD_LIFECYCLE_MESSAGES = (
    "var loyal_min_orders is 1: it must be at least 2",
    "var lapsed_days (90) is less than active_days (120)",
)


def _store_and_build(root: Path, name: str, writer, *, full: bool = True):
    store = writer(root / f"{name}_store")
    folder = store.folder if isinstance(store, BadRowsStore) else store
    return store, run_build(folder, AS_OF, root / f"{name}_warehouse", with_tests=full)


def submit_builds(builds: BuildPool, build_root: Path) -> None:
    """Submits this module's builds (conftest calls it when the session starts)."""
    root = build_root / "raw_contract"
    builds.submit("harness", _store_and_build, root, "harness", write_harness_store)
    builds.submit("bad_rows", _store_and_build, root, "bad_rows", write_bad_rows_store)
    builds.submit(
        "no_orders",
        _store_and_build,
        root,
        "no_orders",
        lambda folder: write_tiny_store(folder, orders=False),
        full=False,
    )
    builds.submit(
        "no_amount",
        _store_and_build,
        root,
        "no_amount",
        lambda folder: write_tiny_store(folder, amount=False),
        full=False,
    )
    for i, value in enumerate(BAD_AS_OF_VALUES):

        def job(value: str = value, i: int = i):
            store = write_tiny_store(root / f"bad_as_of_{i}_store")
            return store, run_build(
                store, None, root / f"bad_as_of_{i}_warehouse", vars={"as_of_date": value}
            )

        builds.submit(f"bad_as_of_{i}", job)
    for i, vars in enumerate(BAD_LIFECYCLE_VARS):

        def vars_job(vars: dict[str, int] = vars, i: int = i):
            store = write_tiny_store(root / f"bad_vars_{i}_store")
            return store, run_build(
                store, AS_OF, root / f"bad_vars_{i}_warehouse", vars=vars, with_tests=False
            )

        builds.submit(f"bad_vars_{i}", vars_job)


@pytest.fixture(scope="module", autouse=True)
def _submit_builds(builds: BuildPool, build_root: Path) -> None:
    submit_builds(builds, build_root)


# --------------------------------------------------------------------------------------------
# The harness scenario
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def harness(builds: BuildPool) -> tuple[Path, Path, str]:
    store, result = builds.result("harness")
    return store, result.check(), result.output


def test_harness_builds_and_logs_what_is_missing(harness) -> None:
    store, _, output = harness
    lines = [line for line in output.splitlines() if "raw contract" in line]
    for entity in ("refunds", "order_items", "products", "carts", "web_events", "email_events"):
        assert any(f"no {entity} file" in line for line in lines), (entity, lines)
    contacts_line = [line for line in lines if "contacts.csv" in line and "no column" in line]
    assert contacts_line and "email" in contacts_line[0], lines
    orders_line = [line for line in lines if "orders.csv" in line and "no column" in line]
    assert orders_line and "currency" in orders_line[0], lines
    assert str(store) in "\n".join(lines)


def test_harness_has_no_data_quality_issues(harness) -> None:
    _, db, _ = harness
    assert query(db, "select * from main.data_quality_issues") == []


def test_harness_matches_reference(harness) -> None:
    store, db, _ = harness
    expected = reference_records(ref.load_raw_contract(store), AS_OF)
    assert "000001" in expected and "cust-10" in expected  # ids stay text
    assert "000008" not in expected  # created after the as-of date, no order
    assert "000009" in expected  # created after it, but ordered before it
    assert_segments_match(db, expected, what="harness store")


# --------------------------------------------------------------------------------------------
# Bad rows
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bad_rows(builds: BuildPool) -> tuple[BadRowsStore, Path]:
    store, result = builds.result("bad_rows")
    return store, result.check()


def _issues(db: Path) -> list[Issue]:
    rows = query(
        db,
        "select entity, source_row, reason, column_name, outcome from main.data_quality_issues",
    )
    return [Issue(*row) for row in rows]


def test_bad_rows_are_reported_with_reason_and_row(bad_rows) -> None:
    store, db = bad_rows
    found = _issues(db)
    missing = [issue for issue in store.expected if issue not in found]
    unexpected = [issue for issue in found if issue not in store.expected]
    assert not missing and not unexpected, (
        f"expected issues not found: {missing}\nunexpected issues: {unexpected}\n"
        f"all issues: {sorted(found, key=lambda i: (i.entity, i.source_row))}"
    )


def test_every_staging_key_is_present_and_unique(bad_rows) -> None:
    """The staging views of large entities carry no key test: their keys are non-null and unique
    by construction among the usable rows (missing_key in base_raw__<entity>, duplicate_key in the
    stg view). The bad-rows store injects a blank key and a repeated key into carts, web and email
    events; none survives."""
    _, db = bad_rows
    for model, keys in STAGING_KEYS.items():
        key = ", ".join(keys)
        nulls = " or ".join(f"{column} is null" for column in keys)
        [(rows, distinct, null_keys)] = query(
            db,
            f"select count(*), count(distinct ({key})), count(*) filter (where {nulls})"
            f" from staging.{model} where dq_failure is null",
        )
        assert rows == distinct and null_keys == 0, (model, rows, distinct, null_keys)
        # the store has no products file; every other entity has rows
        assert rows > 0 or model == "stg_raw__products", model
    # the kept copy of a repeated key is the later one
    assert query(
        db,
        "select value_net from staging.stg_raw__carts where cart_id = 'C1' and dq_failure is null",
    ) == [(Decimal("20.00"),)]


def test_bad_rows_keep_source_file_and_raw_values(bad_rows) -> None:
    store, db = bad_rows
    rows = query(
        db,
        "select entity, source_row, source_file, raw_value, raw_row"
        " from main.data_quality_issues where entity = 'orders' and reason = 'unknown_status'",
    )
    assert len(rows) == 1, rows
    entity, source_row, source_file, raw_value, raw_row = rows[0]
    assert Path(source_file).name == "orders.csv"
    assert Path(source_file).parent.resolve() == store.folder.resolve()
    assert raw_value == "shipped"
    assert "X-shipped" in raw_row
    rows = query(
        db,
        "select raw_value from main.data_quality_issues where entity = 'contacts'"
        " and reason = 'unparseable_value'",
    )
    assert rows == [("31/31/2024 25:00",)]


def test_contact_with_unparseable_created_at_is_kept(bad_rows) -> None:
    _, db = bad_rows
    rows = query(
        db,
        "select created_at, subscribed_at is not null, focus_segment"
        " from main.customer_segments where contact_id = 'B99'",
    )
    assert rows == [(None, True, "new_subscriber_non_buyer")], rows


def test_good_rows_match_reference(bad_rows) -> None:
    store, db = bad_rows
    expected = reference_records(ref.load_raw_contract(store.folder), AS_OF)
    assert {"B01", "B99"} <= set(expected)
    assert_segments_match(db, expected, what="good rows of a store with bad rows")


def test_duplicate_key_tie_keeps_the_later_row(bad_rows) -> None:
    """rules.md: a duplicate key keeps the row with the latest timestamp, "ties broken by file
    order, the later row winning". P-TIE1 and P-TIE2 each have one order_id twice at the same
    time, 90.00 then 80.00 and 80.00 then 90.00."""
    store, db = bad_rows
    kept = {
        k: v["monetary"]
        for k, v in warehouse_records(db, "customer_rfm", ("monetary",)).items()
        if k in ("P-TIE1", "P-TIE2")
    }
    expected = reference_records(ref.load_raw_contract(store.folder), AS_OF)
    reference = {k: expected[k]["monetary"] for k in ("P-TIE1", "P-TIE2")}
    later_rows = {"P-TIE1": Decimal("80.0000"), "P-TIE2": Decimal("90.0000")}
    assert reference == later_rows
    assert kept == later_rows, f"tied duplicates: warehouse kept {kept}, rules.md: {later_rows}"


def test_refund_of_an_unknown_order_counts_for_its_named_contact(bad_rows) -> None:
    """rules.md: "a refund whose order is unknown but which names a known contact counts for
    that contact". R-P names P-REFUND and an order that was rejected (unparseable amount): it
    reduces P-REFUND's monetary value (100 - 30) and is not an issue."""
    store, db = bad_rows
    expected = reference_records(ref.load_raw_contract(store.folder), AS_OF)
    actual = warehouse_records(db, "customer_rfm", ("monetary",))
    issues = [
        issue
        for issue in _issues(db)
        if (issue.entity, issue.source_row) == ("refunds", store.rows["refund_of_rejected_order"])
    ]
    assert expected["P-REFUND"]["monetary"] == Decimal("70.0000")
    assert actual["P-REFUND"]["monetary"] == expected["P-REFUND"]["monetary"] and not issues, (
        f"P-REFUND monetary: warehouse {actual['P-REFUND']['monetary']}, reference"
        f" {expected['P-REFUND']['monetary']}; the refund was set aside as {issues}"
        " (models/staging/raw/stg_raw__refunds.sql: 'unknown_order' applies only to"
        " refunds that name no contact)"
    )


# --------------------------------------------------------------------------------------------
# Missing files and columns, bad vars
# --------------------------------------------------------------------------------------------


def test_missing_orders_file_fails_naming_it(builds: BuildPool) -> None:
    store, result = builds.result("no_orders")
    assert not result.ok, "a store without orders must not build"
    assert "'orders'" in result.output, result.tail()
    assert str(store.resolve()) in result.output, result.tail()


def test_missing_required_column_fails_naming_it(builds: BuildPool) -> None:
    store, result = builds.result("no_amount")
    assert not result.ok, "orders without amount_net must not build"
    assert "amount_net" in result.output, result.tail()
    assert str(store.resolve() / "orders.csv") in result.output, result.tail()


@pytest.mark.parametrize("index", range(len(BAD_AS_OF_VALUES)), ids=BAD_AS_OF_VALUES)
def test_invalid_as_of_date_fails_clearly(builds: BuildPool, index: int) -> None:
    value = BAD_AS_OF_VALUES[index]
    _, result = builds.result(f"bad_as_of_{index}")
    assert not result.ok, f"as_of_date {value!r} must stop the build"
    errors = [line for line in result.output.splitlines() if "as_of_date" in line]
    assert any(value in line for line in errors), (
        f"the error for as_of_date {value!r} names neither the var nor the value (macros/vars.sql"
        " as_of_date must also reject values shaped like YYYY-MM-DD that are not real dates"
        f" with its own message):\n{result.tail(15)}"
    )


# --------------------------------------------------------------------------------------------
# Offsets
# --------------------------------------------------------------------------------------------


def test_offsets_land_on_the_utc_day(bad_rows) -> None:
    _, db = bad_rows
    rows = {
        r[0]: r[1:]
        for r in query(
            db,
            "select contact_id, orders_count, days_since_last_order, last_order_at,"
            " focus_segment from main.customer_segments",
        )
    }
    assert "K5" not in rows, "created 2025-07-01 00:30 UTC: does not exist on 2025-06-30"
    assert rows["K1"] == (1, 31, dt.datetime(2025, 5, 30, 22, 30), "one_time_buyer_lapsing")
    assert rows["K2"] == (1, 10, dt.datetime(2025, 6, 20, 12), "first_time_buyer_recent")
    assert rows["K3"] == (1, 0, dt.datetime(2025, 6, 30, 23), "first_time_buyer_recent")
    assert rows["K4"] == (0, None, None, "new_subscriber_non_buyer")
    assert rows["K6"] == (0, None, None, None)
    assert rows["K7"] == (0, None, None, "new_subscriber_non_buyer")
    created = dict(query(db, "select contact_id, created_at from main.customer_segments"))
    assert created["K4"] == dt.datetime(2025, 6, 30, 22, 30)


def test_offsets_match_reference(bad_rows) -> None:
    store, db = bad_rows
    expected = reference_records(ref.load_raw_contract(store.folder), AS_OF)
    others = {k for k in expected if k not in OFFSET_CONTACTS}
    assert set(OFFSET_CONTACTS) - set(expected) == {"K5"}
    assert_segments_match(db, expected, exclude_contacts=others, what="timestamps with offsets")


def test_whitespace_padded_values_are_trimmed(bad_rows) -> None:
    """An id, timestamp, status, amount and currency padded with tabs and line breaks are read
    as if trimmed (docs/analytics-engineer.md, "Raw data contract"): P-PAD has its one order of
    55."""
    store, db = bad_rows
    actual = warehouse_records(db, "customer_rfm", ("frequency", "monetary", "recency_days"))
    assert actual["P-PAD"]["frequency"] == 1, actual.get("P-PAD")
    assert actual["P-PAD"]["monetary"] == Decimal("55.0000")
    assert actual["P-PAD"]["recency_days"] == 12


@pytest.mark.parametrize(
    "index", range(len(BAD_LIFECYCLE_VARS)), ids=["loyal_1", "lapsed_lt_active"]
)
def test_contradictory_lifecycle_vars_fail_clearly(builds: BuildPool, index: int) -> None:
    """Vars under which SPEC section 2 would give a contact two stages stop the build, with the
    var, its value and what to set (a contact with one order is new; at_risk lies between
    active_days and lapsed_days)."""
    _, result = builds.result(f"bad_vars_{index}")
    assert not result.ok, f"vars {BAD_LIFECYCLE_VARS[index]} must stop the build"
    assert BAD_LIFECYCLE_MESSAGES[index] in " ".join(result.output.split()), result.tail(15)
