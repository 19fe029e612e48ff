"""A synthetic Shopify store in Fivetran's Shopify connector schema, for the tests of
``source_system: shopify`` (docs/analytics-engineer.md, "A shop's own tables as sources").

``write_shopify_store(db_path, ...)`` writes the tables ``customer``, ``order``, ``refund`` and
``order_line_refund`` into schema ``shopify`` of a DuckDB file (the warehouse file itself:
dbt-duckdb reads sources from its own database) and returns the rows it made unusable on purpose,
each with the reason the warehouse must give (``ShopifyStore.expected_issues``).

Deterministic (``random.Random(seed)``): a few hundred customers with orders over two years before
the as-of date (and a few after it), cancellations, pending payments, test orders, refunds (partial,
full and of cancelled orders), guest checkouts, deleted rows, duplicated ids, prices that include
tax, and orders in a currency without a rate.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

SCHEMA = "shopify"
STORE_CURRENCY = "EUR"
FOREIGN_CURRENCY = "USD"

#: Columns and types of each table: the columns the warehouse reads plus a few it does not (a
#: Fivetran table has many more), so the raw row in data_quality_issues is the whole row.
TABLES: dict[str, dict[str, str]] = {
    "customer": {
        "id": "bigint",
        "email": "varchar",
        "first_name": "varchar",
        "last_name": "varchar",
        "phone": "varchar",
        "created_at": "timestamp",
        "updated_at": "timestamp",
        "accepts_marketing": "boolean",
        "accepts_marketing_updated_at": "timestamp",
        "email_marketing_consent_state": "varchar",
        "email_marketing_consent_opt_in_level": "varchar",
        "email_marketing_consent_consent_updated_at": "timestamp",
        "_fivetran_synced": "timestamp",
    },
    "order": {
        "id": "bigint",
        "name": "varchar",
        "email": "varchar",
        "customer_id": "bigint",
        "created_at": "timestamp",
        "processed_at": "timestamp",
        "updated_at": "timestamp",
        "cancelled_at": "timestamp",
        "cancel_reason": "varchar",
        "financial_status": "varchar",
        "fulfillment_status": "varchar",
        "test": "boolean",
        "currency": "varchar",
        "presentment_currency": "varchar",
        "subtotal_price": "double",
        "total_discounts": "double",
        "total_tax": "double",
        "total_price": "double",
        "taxes_included": "boolean",
        "_fivetran_deleted": "boolean",
        "_fivetran_synced": "timestamp",
    },
    "refund": {
        "id": "bigint",
        "order_id": "bigint",
        "created_at": "timestamp",
        "processed_at": "timestamp",
        "note": "varchar",
        "restock": "boolean",
        "_fivetran_synced": "timestamp",
    },
    "order_line_refund": {
        "id": "bigint",
        "refund_id": "bigint",
        "order_line_id": "bigint",
        "quantity": "integer",
        "subtotal": "double",
        "total_tax": "double",
        "restock_type": "varchar",
        "_fivetran_synced": "timestamp",
    },
}

#: data_quality_issues' entity for each table.
ENTITIES = {
    "customer": "shopify_customers",
    "order": "shopify_orders",
    "refund": "shopify_refunds",
    "order_line_refund": "shopify_refund_lines",
}


@dataclass
class ShopifyStore:
    """The tables written (as frames) and the issues the warehouse must report."""

    tables: dict[str, pd.DataFrame]
    #: (entity, record_key, reason) of every row made unusable on purpose.
    expected_issues: list[tuple[str, str | None, str]] = field(default_factory=list)


class _Builder:
    def __init__(self, seed: int, as_of: dt.date) -> None:
        self.rng = random.Random(seed)
        self.as_of = dt.datetime.combine(as_of, dt.time(0))
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in TABLES}
        self.issues: list[tuple[str, str | None, str]] = []
        self.next_id = {
            "customer": 7_100_000_000,
            "order": 5_200_000_000,
            "refund": 9_300_000_000,
            "order_line_refund": 4_400_000_000,
        }
        self.synced = self.as_of + dt.timedelta(hours=3)

    def new_id(self, table: str) -> int:
        self.next_id[table] += self.rng.randint(1, 97)
        return self.next_id[table]

    def add(self, table: str, row: dict[str, Any], reason: str | None = None) -> dict[str, Any]:
        full = {column: row.get(column) for column in TABLES[table]}
        if full["_fivetran_synced"] is None:
            full["_fivetran_synced"] = self.synced
        self.rows[table].append(full)
        if reason is not None:
            key = None if full["id"] is None else str(full["id"])
            self.issues.append((ENTITIES[table], key, reason))
        return full

    def moment(self, start: dt.datetime, end: dt.datetime) -> dt.datetime:
        seconds = int((end - start).total_seconds())
        return start + dt.timedelta(seconds=self.rng.randint(0, max(seconds, 0)))

    # ----------------------------------------------------------------------------------------

    def customer(self, index: int) -> dict[str, Any]:
        rng = self.rng
        created = self.moment(self.as_of - dt.timedelta(days=800), self.as_of)
        if index % 53 == 0:  # created after the as-of date: exists only with an order by then
            created = self.as_of + dt.timedelta(days=rng.randint(1, 20), hours=5)
        state = rng.choice(
            ["subscribed", "subscribed", "not_subscribed", "unsubscribed", "pending", None]
        )
        consent_at = None
        if state in ("subscribed", "unsubscribed"):
            # some consent changes are recent, so new subscribers without an order show up
            recent = rng.random() < 0.35
            low = self.as_of - dt.timedelta(days=40) if recent else created
            consent_at = self.moment(low, self.as_of - dt.timedelta(hours=1))
        accepts = None
        accepts_at = None
        if state is None:  # a row synced before API 2022-04: only accepts_marketing
            accepts = rng.random() < 0.5
            accepts_at = self.moment(created, self.as_of) if accepts else None
        return self.add(
            "customer",
            {
                "id": self.new_id("customer"),
                "email": f"customer{index}@example.com",
                "first_name": rng.choice(["Ada", "Luca", "Marta", "Jon", "Ines", "Omar"]),
                "last_name": rng.choice(["Rossi", "Berg", "Okafor", "Silva", "Novak"]),
                "phone": None,
                "created_at": created,
                "updated_at": max(created, consent_at or created),
                "accepts_marketing": accepts,
                "accepts_marketing_updated_at": accepts_at,
                "email_marketing_consent_state": state,
                "email_marketing_consent_opt_in_level": "single_opt_in" if state else None,
                "email_marketing_consent_consent_updated_at": consent_at,
            },
        )

    def order(
        self,
        customer_id: int | None,
        at: dt.datetime,
        *,
        financial_status: str = "paid",
        cancelled: bool = False,
        test: bool = False,
        deleted: bool = False,
        currency: str = STORE_CURRENCY,
        taxes_included: bool = False,
        reason: str | None = None,
    ) -> dict[str, Any]:
        rng = self.rng
        subtotal = round(rng.uniform(8, 320), 2)
        tax = round(subtotal * (0.2 / 1.2 if taxes_included else 0.2), 2)
        number = len(self.rows["order"]) + 1001
        return self.add(
            "order",
            {
                "id": self.new_id("order"),
                "name": f"#{number}",
                "email": None if customer_id is None else f"buyer{customer_id}@example.com",
                "customer_id": customer_id,
                "created_at": at - dt.timedelta(seconds=rng.randint(0, 90)),
                "processed_at": at,
                "updated_at": at + dt.timedelta(days=rng.randint(0, 10)),
                "cancelled_at": at + dt.timedelta(hours=rng.randint(1, 48)) if cancelled else None,
                "cancel_reason": "customer" if cancelled else None,
                "financial_status": financial_status,
                "fulfillment_status": None if cancelled else "fulfilled",
                "test": test,
                "currency": currency,
                "presentment_currency": currency,
                "subtotal_price": subtotal,
                "total_discounts": round(rng.choice([0, 0, 0, 5, 10]) * 1.0, 2),
                "total_tax": tax,
                "total_price": round(subtotal + (0 if taxes_included else tax) + 4.9, 2),
                "taxes_included": taxes_included,
                "_fivetran_deleted": deleted,
            },
            reason,
        )

    def refund(
        self,
        order: dict[str, Any],
        share: float,
        reason: str | None = None,
        lines: int | None = None,
    ) -> dict[str, Any]:
        """A refund of ``share`` of the order's goods, split over one to three refund lines."""
        rng = self.rng
        processed = order["processed_at"] + dt.timedelta(days=rng.randint(1, 40), hours=3)
        refund = self.add(
            "refund",
            {
                "id": self.new_id("refund"),
                "order_id": order["id"],
                "created_at": processed - dt.timedelta(minutes=5),
                # a few refunds have no processed_at: created_at is their time
                "processed_at": None if rng.random() < 0.1 else processed,
                "note": None,
                "restock": True,
            },
            reason,
        )
        amount = round(order["subtotal_price"] * share, 2)
        count = lines or rng.randint(1, 3)
        parts = [round(amount / count, 2)] * (count - 1)
        parts.append(round(amount - sum(parts), 2))
        for part in parts:
            tax = round(part * (0.2 / 1.2 if order["taxes_included"] else 0.2), 2)
            self.add(
                "order_line_refund",
                {
                    "id": self.new_id("order_line_refund"),
                    "refund_id": refund["id"],
                    "order_line_id": rng.randint(10**9, 10**10),
                    "quantity": 1,
                    "subtotal": part,
                    "total_tax": tax,
                    "restock_type": "return",
                },
            )
        return refund


def build_store(
    seed: int = 3, customers: int = 300, as_of: dt.date = dt.date(2025, 6, 30)
) -> ShopifyStore:
    """The synthetic store as frames, with the issues it must produce."""
    b = _Builder(seed, as_of)
    rng = b.rng
    start = b.as_of - dt.timedelta(days=730)
    made = [b.customer(i) for i in range(customers)]
    for index, customer in enumerate(made):
        orders = rng.choice([0, 0, 1, 1, 1, 2, 2, 3, 4, 5, 7])
        for _ in range(orders):
            low = max(start, customer["created_at"] - dt.timedelta(days=30))
            at = b.moment(low, b.as_of + dt.timedelta(hours=23))
            draw = rng.random()
            taxes_included = index % 4 == 0
            if draw < 0.07:
                b.order(customer["id"], at, financial_status="voided", cancelled=True)
            elif draw < 0.10:
                cancelled = b.order(customer["id"], at, financial_status="refunded", cancelled=True)
                b.refund(cancelled, 1.0, reason="order_not_completed")
            elif draw < 0.14:
                b.order(customer["id"], at, financial_status=rng.choice(["pending", "authorized"]))
            elif draw < 0.24:
                order = b.order(
                    customer["id"],
                    at,
                    financial_status="partially_refunded",
                    taxes_included=taxes_included,
                )
                b.refund(order, rng.choice([0.25, 0.5]))
            elif draw < 0.29:
                order = b.order(
                    customer["id"], at, financial_status="refunded", taxes_included=taxes_included
                )
                b.refund(order, 1.0)
            else:
                b.order(customer["id"], at, taxes_included=taxes_included)
        if index % 37 == 5:  # orders after the as-of date do not exist yet
            b.order(customer["id"], b.as_of + dt.timedelta(days=3, hours=2))

    buyers = [c for c in made if c["created_at"] < b.as_of]
    recent = b.as_of - dt.timedelta(days=20)

    # test orders, and a refund of one: never sales
    for customer in rng.sample(buyers, 4):
        test_order = b.order(
            customer["id"], b.moment(start, b.as_of), test=True, reason="test_order"
        )
    b.refund(test_order, 1.0, reason="order_rejected")
    # guest checkouts: no customer to attribute them to
    for _ in range(5):
        b.order(None, b.moment(start, b.as_of), reason="missing_customer_id")
    # a customer id the customer table does not have (a customer deleted in Shopify)
    b.order(8_999_999_999, b.moment(start, b.as_of), reason="unknown_contact")
    # orders in another currency, without a rate in seed currency_rates
    for customer in rng.sample(buyers, 3):
        foreign = b.order(
            customer["id"],
            b.moment(recent, b.as_of),
            currency=FOREIGN_CURRENCY,
            financial_status="partially_refunded",
            reason="currency_without_rate",
        )
    b.refund(foreign, 0.5, reason="order_rejected")
    # an order deleted in Shopify: Fivetran keeps the row, marked _fivetran_deleted
    b.order(
        rng.choice(buyers)["id"],
        b.moment(recent, b.as_of),
        deleted=True,
        reason="deleted_in_source",
    )
    # an order with an unreadable payment status
    b.order(
        rng.choice(buyers)["id"],
        b.moment(start, b.as_of),
        financial_status="mystery",
        reason="unknown_status",
    )

    # duplicated ids (e.g. two connector schemas unioned): the copy Fivetran wrote last wins
    kept_order = rng.choice(
        [
            o
            for o in b.rows["order"]
            if o["financial_status"] == "paid"
            and not o["test"]
            and o["customer_id"] is not None
            and o["currency"] == STORE_CURRENCY
            and not o["_fivetran_deleted"]
        ]
    )
    stale = dict(
        kept_order,
        subtotal_price=kept_order["subtotal_price"] + 100,
        _fivetran_synced=b.synced - dt.timedelta(days=30),
    )
    b.rows["order"].append(stale)
    b.issues.append((ENTITIES["order"], str(kept_order["id"]), "duplicate_key"))
    kept_customer = rng.choice(buyers)
    stale_customer = dict(
        kept_customer,
        email="old-address@example.com",
        email_marketing_consent_state="not_subscribed",
        _fivetran_synced=b.synced - dt.timedelta(days=90),
    )
    b.rows["customer"].append(stale_customer)
    b.issues.append((ENTITIES["customer"], str(kept_customer["id"]), "duplicate_key"))
    # a customer row without an id
    b.add(
        "customer",
        {"id": None, "email": "nobody@example.com", "created_at": start},
        reason="missing_key",
    )
    # refund lines that name no known refund, and one without an amount
    b.add(
        "order_line_refund",
        {
            "id": b.new_id("order_line_refund"),
            "refund_id": 1,
            "quantity": 1,
            "subtotal": 12.5,
            "total_tax": 2.5,
        },
        reason="unknown_refund",
    )
    some_refund = rng.choice([r for r in b.rows["refund"]])
    b.add(
        "order_line_refund",
        {
            "id": b.new_id("order_line_refund"),
            "refund_id": some_refund["id"],
            "quantity": 1,
            "subtotal": None,
        },
        reason="missing_required_value",
    )
    # a refund of an order the shop does not have
    b.add(
        "refund",
        {"id": b.new_id("refund"), "order_id": 1, "created_at": recent, "processed_at": recent},
        reason="unknown_order",
    )

    tables = {name: pd.DataFrame(rows, columns=list(TABLES[name])) for name, rows in b.rows.items()}
    return ShopifyStore(tables=tables, expected_issues=b.issues)


def write_store(db_path: str | Path, store: ShopifyStore, schema: str = SCHEMA) -> Path:
    """Writes the tables into ``schema`` of the DuckDB file (created when missing)."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(db_path)) as con:
        con.execute(f'create schema if not exists "{schema}"')
        for name, frame in store.tables.items():
            columns = ", ".join(f'"{c}" {t}' for c, t in TABLES[name].items())
            con.execute(f'create or replace table "{schema}"."{name}" ({columns})')
            con.register("frame", frame)
            select = ", ".join(f'cast("{c}" as {t})' for c, t in TABLES[name].items())
            con.execute(f'insert into "{schema}"."{name}" select {select} from frame')
            con.unregister("frame")
    return db_path


def write_shopify_store(db_path: str | Path, **kwargs: Any) -> ShopifyStore:
    """Builds the synthetic store and writes it into the DuckDB file; returns it."""
    store = build_store(**kwargs)
    write_store(db_path, store)
    return store
