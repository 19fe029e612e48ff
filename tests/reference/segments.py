"""Pandas reference of the segment rules (SPEC sections 0-3 and 9, docs/rules.md).

Deliberately independent of the dbt project: no SQL, no DuckDB, no seed files. Money is
handled as integer ten-thousandths (``decimal(18,4)`` in the marts), so sums are exact and
equal amounts tie in the quantile scores.

Public API:
- ``load_raw_contract(path)``: the project's raw contract (contacts, orders, refunds);
- ``load_online_retail(file)``: the UCI Online Retail adapter (either published layout);
- ``compute_segments(data, as_of_date, **params)``: one row per contact that exists.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

# --------------------------------------------------------------------------------------------
# Rule tables, written out from SPEC section 1 (not read from any seed file)
# --------------------------------------------------------------------------------------------

PROSPECT_SEGMENT = "Prospects"

_SEGMENT_GRID: dict[int, tuple[str, str, str, str, str]] = {
    # R: segment for F = 1, 2, 3, 4, 5
    5: (
        "New Customers",
        "Potential Loyalists",
        "Potential Loyalists",
        "Champions",
        "Champions",
    ),
    4: (
        "Promising",
        "Potential Loyalists",
        "Potential Loyalists",
        "Loyal Customers",
        "Loyal Customers",
    ),
    3: (
        "About to Sleep",
        "About to Sleep",
        "Need Attention",
        "Loyal Customers",
        "Loyal Customers",
    ),
    2: ("Hibernating", "Hibernating", "At Risk", "At Risk", "Can't Lose Them"),
    1: ("Lost", "Lost", "At Risk", "At Risk", "Can't Lose Them"),
}

#: (r_score, f_score) -> segment name: all 25 cells.
RFM_SEGMENT_MAP: dict[tuple[int, int], str] = {
    (r, f): names[f - 1] for r, names in _SEGMENT_GRID.items() for f in range(1, 6)
}

LIFECYCLE_STAGES = ("prospect", "new", "active", "loyal", "at_risk", "lapsed")

FOCUS_SEGMENTS = (
    "new_subscriber_non_buyer",
    "first_time_buyer_recent",
    "two_time_buyer_recent",
    "one_time_buyer_lapsing",
    "repeat_buyer_lapsing",
)

_UNBOUNDED = math.nan  # NaN bound = unbounded
#: Default ``rfm_scoring='thresholds'`` table (min_value inclusive, max_value exclusive).
DEFAULT_THRESHOLDS = pd.DataFrame(
    [
        ("recency", 5, 0, 31),
        ("recency", 4, 31, 91),
        ("recency", 3, 91, 181),
        ("recency", 2, 181, 366),
        ("recency", 1, 366, _UNBOUNDED),
        ("frequency", 1, 1, 2),
        ("frequency", 2, 2, 3),
        ("frequency", 3, 3, 4),
        ("frequency", 4, 4, 6),
        ("frequency", 5, 6, _UNBOUNDED),
        ("monetary", 1, 0, 100),
        ("monetary", 2, 100, 250),
        ("monetary", 3, 250, 500),
        ("monetary", 4, 500, 1000),
        ("monetary", 5, 1000, _UNBOUNDED),
    ],
    columns=["metric", "score", "min_value", "max_value"],
)

KNOWN_STATUSES = frozenset({"completed", "cancelled", "pending"})

_SCALE = 10_000  # money unit: 1/10000 of the store currency
_QUANT = Decimal("0.0001")

# --------------------------------------------------------------------------------------------
# Scalar converters
# --------------------------------------------------------------------------------------------


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    return False


def _id_text(value: Any) -> str | None:
    """An identifier as text: 17850 and 17850.0 -> '17850'; text is kept (trimmed)."""
    if _is_missing(value):
        return None
    if isinstance(value, bool | np.bool_):
        return str(value)
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else str(value)
    text = str(value).strip()
    return text or None


def _decimal(value: Any) -> Decimal | None:
    """Exact decimal of a number or numeric text, or None when missing/unparseable."""
    if _is_missing(value):
        return None
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, bool | np.bool_):
        return None
    elif isinstance(value, int | np.integer):
        result = Decimal(int(value))
    elif isinstance(value, float | np.floating):
        result = Decimal(repr(float(value)))  # shortest repr: 2.55 -> Decimal('2.55')
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            result = Decimal(text)
        except InvalidOperation:
            return None
    if not result.is_finite():
        return None
    return result


def _units(value: Any) -> int | None:
    """Money as integer ten-thousandths (decimal(18,4), rounded half away from zero)."""
    number = _decimal(value)
    if number is None:
        return None
    return int((number * _SCALE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _money(units: int) -> Decimal:
    return (Decimal(int(units)) / _SCALE).quantize(_QUANT)


def _as_of(value: Any) -> dt.date:
    if isinstance(value, dt.datetime | pd.Timestamp):
        ts = pd.Timestamp(value)
        if ts.tzinfo is not None:
            ts = ts.tz_convert("UTC")
        return ts.date()
    if isinstance(value, dt.date):
        return value
    return _as_of(pd.Timestamp(str(value)))


# --------------------------------------------------------------------------------------------
# Column converters
# --------------------------------------------------------------------------------------------


def _ids(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.StringDtype):
        text = series.str.strip()
        usable = (text.notna() & (text != "")).to_numpy(dtype=bool)
        values = [t if ok else None for t, ok in zip(text, usable, strict=True)]
        return pd.Series(values, index=series.index, dtype=object)
    return pd.Series([_id_text(v) for v in series], index=series.index, dtype=object)


def _timestamps_utc(series: pd.Series) -> pd.Series:
    """Timestamps in UTC (tz-aware). Text with an offset is converted; naive means UTC."""
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        return series.dt.tz_convert("UTC").astype("datetime64[us, UTC]")
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return series.dt.tz_localize("UTC").astype("datetime64[us, UTC]")
    text = pd.Series(
        [None if _is_missing(v) else (str(v).strip() or None) for v in series],
        index=series.index,
        dtype=object,
    )
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    retry = parsed.isna() & text.notna()
    if retry.any():
        parsed[retry] = pd.to_datetime(text[retry], utc=True, format="mixed", errors="coerce")
    return parsed.astype("datetime64[us, UTC]")


def _utc_day(series: pd.Series) -> pd.Series:
    return series.dt.floor("D")


# --------------------------------------------------------------------------------------------
# Raw contract
# --------------------------------------------------------------------------------------------

_ENTITIES = ("contacts", "orders", "refunds")
_COLUMNS = {
    "contacts": ["contact_id", "created_at", "subscribed_at", "email"],
    "orders": ["order_id", "contact_id", "ordered_at", "status", "amount_net", "currency"],
    "refunds": ["refund_id", "order_id", "contact_id", "refunded_at", "amount_net"],
}
_ID_COLUMNS = ("contact_id", "order_id", "refund_id")
_TS_COLUMNS = ("created_at", "subscribed_at", "updated_at", "ordered_at", "refunded_at")


def _read_file(file: Path) -> pd.DataFrame:
    if file.suffix.lower() == ".parquet":
        return pq.read_table(file).to_pandas()
    return pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""])


def _read_entity(folder: Path, entity: str) -> pd.DataFrame | None:
    for suffix in (".parquet", ".csv"):
        file = folder / f"{entity}{suffix}"
        if file.is_file():
            return _read_file(file)
    parts_dir = folder / entity
    if parts_dir.is_dir():
        parts = sorted(
            p
            for p in parts_dir.rglob("*")
            if p.is_file() and p.suffix.lower() in (".parquet", ".csv")
        )
        frames = [_read_file(p) for p in parts]
        frames = [f for f in frames if len(f.columns)]
        if frames:
            # Each part as object columns so that parquet and csv parts concatenate cleanly.
            return pd.concat([f.astype(object) for f in frames], ignore_index=True)
        return pd.DataFrame()
    return None


def _with_columns(frame: pd.DataFrame | None, columns: Iterable[str]) -> pd.DataFrame:
    frame = pd.DataFrame() if frame is None else frame.copy()
    for column in columns:
        if column not in frame.columns:
            frame[column] = None
    return frame.reset_index(drop=True)


def _keep_latest(frame: pd.DataFrame, key: str, ts_column: str) -> pd.DataFrame:
    """One row per key: the latest timestamp, ties broken by file order (the later row wins)."""
    if not frame[key].duplicated().any():
        return frame
    ordered = frame.sort_values([key, ts_column], na_position="first", kind="mergesort")
    kept = ordered.drop_duplicates(key, keep="last")
    return kept.sort_index().reset_index(drop=True)


def _store_currency(orders: pd.DataFrame, store_currency: str | None) -> str | None:
    if store_currency:
        return store_currency.strip().upper()
    carried = orders["currency"].dropna()
    if carried.empty:
        return None
    counts = carried.value_counts()
    top = counts[counts == counts.max()].index
    return sorted(top)[0]


def clean_raw_contract(
    frames: dict[str, pd.DataFrame | None], store_currency: str | None = None
) -> dict[str, pd.DataFrame]:
    """Types the raw entities and drops rows that are not usable (the SQL side reports them).

    Idempotent, so ``compute_segments`` applies it again to whatever it is given.
    """
    out: dict[str, pd.DataFrame] = {}
    for entity in _ENTITIES:
        frame = _with_columns(frames.get(entity), _COLUMNS[entity])
        for column in _ID_COLUMNS:
            if column in frame.columns:
                frame[column] = _ids(frame[column])
        for column in _TS_COLUMNS:
            if column in frame.columns:
                frame[column] = _timestamps_utc(frame[column])
        out[entity] = frame

    contacts = out["contacts"]
    contacts = contacts[contacts["contact_id"].notna()]
    contact_ts = "updated_at" if "updated_at" in contacts.columns else "created_at"
    contacts = _keep_latest(contacts, "contact_id", contact_ts)
    known_contacts = set(contacts["contact_id"])

    orders = out["orders"]
    raw_amount = orders["amount_net"].copy()
    orders["amount_net"] = pd.Series([_decimal(v) for v in raw_amount], dtype=object)
    orders["status"] = pd.Series(
        [None if _is_missing(v) else str(v).strip().lower() for v in orders["status"]],
        dtype=object,
    )
    orders["currency"] = pd.Series(
        [None if _is_missing(v) else (str(v).strip().upper() or None) for v in orders["currency"]],
        dtype=object,
    )
    orders = orders[
        orders["order_id"].notna()
        & orders["contact_id"].notna()
        & orders["ordered_at"].notna()
        & orders["amount_net"].notna()
        & orders["status"].isin(KNOWN_STATUSES)
        & orders["contact_id"].isin(known_contacts)
    ]
    currency = _store_currency(orders, store_currency)
    orders = orders[orders["currency"].isna() | (orders["currency"] == currency)]
    orders = _keep_latest(orders.reset_index(drop=True), "order_id", "ordered_at")
    orders["amount_net"] = pd.Series(
        [_money(_units(v)) for v in orders["amount_net"]], index=orders.index, dtype=object
    )

    refunds = out["refunds"]
    refunds["amount_net"] = pd.Series([_decimal(v) for v in refunds["amount_net"]], dtype=object)
    order_contact = dict(zip(orders["order_id"], orders["contact_id"], strict=True))
    refunds["contact_id"] = [
        order_contact.get(order_id) if _is_missing(contact) else contact
        for contact, order_id in zip(refunds["contact_id"], refunds["order_id"], strict=True)
    ]
    refunds = refunds[
        refunds["refund_id"].notna()
        & refunds["refunded_at"].notna()
        & refunds["amount_net"].notna()
        & refunds["contact_id"].isin(known_contacts)
    ]
    refunds = refunds.loc[np.array([amount >= 0 for amount in refunds["amount_net"]], dtype=bool)]
    if "currency" in refunds.columns:
        refund_currency = pd.Series(
            [
                None if _is_missing(v) else (str(v).strip().upper() or None)
                for v in refunds["currency"]
            ],
            index=refunds.index,
            dtype=object,
        )
        refunds = refunds[refund_currency.isna() | (refund_currency == currency)]
    refunds = _keep_latest(refunds.reset_index(drop=True), "refund_id", "refunded_at")
    refunds["amount_net"] = pd.Series(
        [_money(_units(v)) for v in refunds["amount_net"]], index=refunds.index, dtype=object
    )

    return {"contacts": contacts, "orders": orders, "refunds": refunds}


def load_raw_contract(
    path: str | Path, store_currency: str | None = None
) -> dict[str, pd.DataFrame]:
    """Reads ``<entity>.parquet`` / ``<entity>.csv`` / ``<entity>/`` parts and keeps clean rows."""
    folder = Path(path)
    frames = {entity: _read_entity(folder, entity) for entity in _ENTITIES}
    if frames["contacts"] is None:
        raise FileNotFoundError(f"no contacts entity in {folder}")
    return clean_raw_contract(frames, store_currency=store_currency)


# --------------------------------------------------------------------------------------------
# Online Retail adapter
# --------------------------------------------------------------------------------------------

_LAYOUTS = {
    # published name -> our name
    "InvoiceNo": "invoice",
    "Invoice": "invoice",
    "StockCode": "stock_code",
    "Description": "description",
    "Quantity": "quantity",
    "InvoiceDate": "invoice_date",
    "UnitPrice": "price",
    "Price": "price",
    "CustomerID": "customer_id",
    "Customer ID": "customer_id",
    "Country": "country",
}
_RETAIL_COLUMNS = [
    "invoice",
    "stock_code",
    "description",
    "quantity",
    "invoice_date",
    "price",
    "customer_id",
    "country",
]
_SLASH_DATE = re.compile(
    r"^\s*(\d{1,2})/(\d{1,2})/(\d{2,4})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$"
)


def _retail_dates(series: pd.Series) -> pd.Series:
    """InvoiceDate as UTC: timestamps, ISO text, or US M/D/Y text (day-first if a day > 12)."""
    if pd.api.types.is_datetime64_any_dtype(series.dtype):
        return _timestamps_utc(series)
    text = [None if _is_missing(v) else str(v).strip() for v in series]
    matches = [None if t is None else _SLASH_DATE.match(t) for t in text]
    day_first = any(m is not None and int(m.group(1)) > 12 for m in matches)
    values: list[Any] = []
    for raw, match in zip(text, matches, strict=True):
        if match is None:
            values.append(raw)
            continue
        first, second, year, hour, minute, second_s = match.groups()
        month, day = (int(second), int(first)) if day_first else (int(first), int(second))
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        values.append(
            dt.datetime(
                full_year, month, day, int(hour or 0), int(minute or 0), int(second_s or 0)
            ).isoformat()
        )
    return _timestamps_utc(pd.Series(values, index=series.index, dtype=object))


def _retail_customer(value: Any) -> str | None:
    number = _decimal(value)
    if number is None:
        return None
    return str(int(number))


def _retail_customers(series: pd.Series) -> pd.Series:
    """Customer numbers as integer strings ('17850'); None when missing."""
    if pd.api.types.is_float_dtype(series.dtype) or pd.api.types.is_integer_dtype(series.dtype):
        present = series.notna().to_numpy(dtype=bool)
        numbers = series.fillna(0).to_numpy().astype(np.int64)
        values = [str(n) if ok else None for n, ok in zip(numbers, present, strict=True)]
        return pd.Series(values, index=series.index, dtype=object)
    return pd.Series([_retail_customer(v) for v in series], index=series.index, dtype=object)


def _retail_int(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_integer_dtype(series.dtype):
        return series.to_numpy(dtype=np.int64)
    return np.array([int(_decimal(v)) for v in series], dtype=np.int64)


def _retail_price_units(series: pd.Series) -> np.ndarray:
    if pd.api.types.is_float_dtype(series.dtype):
        # prices carry at most 4 decimals: rounding the scaled float gives the exact units
        return np.round(series.to_numpy(dtype=np.float64) * _SCALE).astype(np.int64)
    return np.array([_units(v) for v in series], dtype=np.int64)


def load_online_retail(file: str | Path) -> dict[str, pd.DataFrame]:
    """The UCI Online Retail file (parquet or csv, either layout) as contacts/orders/refunds."""
    file = Path(file)
    if file.suffix.lower() == ".parquet":
        raw = pq.read_table(file).to_pandas()
    else:
        raw = pd.read_csv(file, dtype=str, keep_default_na=False, na_values=[""])
    raw = raw.rename(columns={c: _LAYOUTS.get(str(c).strip(), c) for c in raw.columns})
    missing = [c for c in _RETAIL_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(f"not an Online Retail file, missing columns: {missing}")
    raw = raw[_RETAIL_COLUMNS]

    # 1. exact duplicate rows (all eight columns, as read) are kept once
    lines = raw.drop_duplicates().reset_index(drop=True)
    # 2. rows without a customer id are not used
    customer = _retail_customers(lines["customer_id"])
    keep = customer.notna().to_numpy()
    lines = lines[keep].reset_index(drop=True)
    lines["contact_id"] = customer[keep].to_numpy()
    lines["invoice"] = _ids(lines["invoice"])
    lines["line_at"] = _timestamps_utc(_retail_dates(lines["invoice_date"]))
    lines["units"] = _retail_int(lines["quantity"]) * _retail_price_units(lines["price"])
    lines = lines[lines["invoice"].notna() & lines["line_at"].notna()]

    # 3. contacts: created_at = first invoice line (any invoice type); country kept
    first_line = lines.sort_values(["contact_id", "line_at"], kind="mergesort").drop_duplicates(
        "contact_id"
    )
    contacts = first_line[["contact_id", "line_at", "country"]].rename(
        columns={"line_at": "created_at"}
    )
    contacts = contacts.sort_values("contact_id", kind="mergesort").reset_index(drop=True)

    # 4. an invoice is one order: earliest line time, exact sum of quantity * price
    by_time = lines.sort_values(["invoice", "line_at"], kind="mergesort")
    invoices = by_time.groupby("invoice", sort=True).agg(
        contact_id=("contact_id", "first"),
        at=("line_at", "min"),
        units=("units", "sum"),
    )
    invoices = invoices.reset_index()
    kind = invoices["invoice"].str[:1].str.upper()

    # 5. 'C' = refund of -amount; 'A' ignored; other invoices valid only when amount > 0
    cancellations = invoices[kind == "C"]
    refunds = pd.DataFrame(
        {
            "refund_id": cancellations["invoice"].to_numpy(),
            "order_id": pd.Series([None] * len(cancellations), dtype=object),
            "contact_id": cancellations["contact_id"].to_numpy(),
            "refunded_at": cancellations["at"].array,
            "amount_net": [_money(-u) for u in cancellations["units"]],
        }
    )
    sales = invoices[(kind != "C") & (kind != "A") & (invoices["units"] > 0)]
    orders = pd.DataFrame(
        {
            "order_id": sales["invoice"].to_numpy(),
            "contact_id": sales["contact_id"].to_numpy(),
            "ordered_at": sales["at"].array,
            "status": "completed",
            "amount_net": [_money(u) for u in sales["units"]],
            "currency": pd.Series([None] * len(sales), dtype=object),
        }
    )
    for frame, column in ((refunds, "refunded_at"), (orders, "ordered_at")):
        frame[column] = _timestamps_utc(frame[column])
    return {"contacts": contacts, "orders": orders, "refunds": refunds}


# --------------------------------------------------------------------------------------------
# Segments
# --------------------------------------------------------------------------------------------


def _quantile_scores(values: pd.Series, higher_is_better: bool) -> pd.Series:
    """score = 1 + floor(5 * (rank - 1) / N), rank with ties at the lowest, worst to best."""
    n = len(values)
    if n == 0:
        return pd.Series([], index=values.index, dtype="Int64")
    ranks = values.rank(method="min", ascending=higher_is_better).astype(np.int64)
    scores = 1 + (5 * (ranks - 1)) // n
    return scores.astype("Int64")


def _threshold_scores(values: pd.Series, table: pd.DataFrame, metric: str) -> pd.Series:
    """Score from the row with min_value <= value < max_value (NaN bound = unbounded)."""
    rows = table[table["metric"].astype(str).str.strip().str.lower() == metric]
    scale = _SCALE if metric == "monetary" else 1
    scores = pd.Series(pd.NA, index=values.index, dtype="Int64")
    for _, row in rows.iterrows():
        low = _decimal(row["min_value"])
        high = _decimal(row["max_value"])
        matched = pd.Series(True, index=values.index)
        if low is not None:
            matched &= pd.Series([int(v) >= low * scale for v in values], index=values.index)
        if high is not None:
            matched &= pd.Series([int(v) < high * scale for v in values], index=values.index)
        scores[matched & scores.isna()] = int(row["score"])
    return scores


def _lifecycle(
    orders_count: int, days_since: float, active: int, lapsed: int, loyal_min: int
) -> str:
    if orders_count == 0:
        return "prospect"
    if days_since <= active:
        if orders_count == 1:
            return "new"
        if orders_count >= loyal_min:
            return "loyal"
        return "active"
    if days_since <= lapsed:
        return "at_risk"
    return "lapsed"


def compute_segments(
    data: dict[str, pd.DataFrame],
    as_of_date: Any,
    *,
    rfm_scoring: str = "quantile",
    rfm_window_days: int | None = None,
    active_days: int = 90,
    lapsed_days: int = 365,
    loyal_min_orders: int = 4,
    new_subscriber_days: int = 30,
    first_buyer_days: int = 30,
    two_time_buyer_days: int = 7,
    one_time_lapse_days: int = 30,
    repeat_lapse_days: int = 60,
    thresholds: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """RFM, lifecycle and focus segment of every contact that exists on ``as_of_date``."""
    if rfm_scoring not in ("quantile", "thresholds"):
        raise ValueError(f"unknown rfm_scoring: {rfm_scoring!r}")
    clean = clean_raw_contract(data)
    as_of = _as_of(as_of_date)
    as_of_day = pd.Timestamp(as_of).tz_localize("UTC")

    def days_since(ts: pd.Series) -> pd.Series:
        return (as_of_day - _utc_day(ts)).dt.days

    # orders / refunds dated after the as-of date (UTC) do not exist
    orders = clean["orders"]
    orders = orders[_utc_day(orders["ordered_at"]) <= as_of_day].copy()
    orders["days_since"] = days_since(orders["ordered_at"])
    orders["units"] = [_units(v) for v in orders["amount_net"]]
    refunds = clean["refunds"]
    refunds = refunds[_utc_day(refunds["refunded_at"]) <= as_of_day].copy()
    refunds["days_since"] = days_since(refunds["refunded_at"])
    refunds["units"] = [_units(v) for v in refunds["amount_net"]]

    # contacts that exist: created on/before the date (or no created_at), or with any order
    contacts = clean["contacts"]
    created_ok = contacts["created_at"].isna() | (_utc_day(contacts["created_at"]) <= as_of_day)
    contacts = contacts[created_ok | contacts["contact_id"].isin(set(orders["contact_id"]))]
    result = pd.DataFrame({"contact_id": contacts["contact_id"].to_numpy()})
    result["as_of_date"] = as_of

    valid = orders[(orders["status"] == "completed") & (orders["units"] > 0)]

    # all history up to the as-of date: lifecycle and focus
    history = valid.groupby("contact_id").agg(
        first_order_at=("ordered_at", "min"),
        last_order_at=("ordered_at", "max"),
        orders_count=("order_id", "count"),
        days_since_last_order=("days_since", "min"),
    )
    result = result.merge(history, how="left", left_on="contact_id", right_index=True)
    result["orders_count"] = result["orders_count"].fillna(0).astype("Int64")
    result["days_since_last_order"] = result["days_since_last_order"].astype("Int64")
    for column in ("first_order_at", "last_order_at"):
        result[column] = _timestamps_utc(result[column])

    # RFM over the window (all history when rfm_window_days is None)
    if rfm_window_days is None:
        window_orders, window_refunds = valid, refunds
    else:
        window_orders = valid[valid["days_since"] <= rfm_window_days]
        window_refunds = refunds[refunds["days_since"] <= rfm_window_days]
    rfm = window_orders.groupby("contact_id").agg(
        recency_days=("days_since", "min"),
        frequency=("order_id", "count"),
        gross_units=("units", "sum"),
    )
    refunded = window_refunds.groupby("contact_id")["units"].sum()
    rfm["monetary_units"] = (
        (rfm["gross_units"] - refunded.reindex(rfm.index, fill_value=0))
        .clip(lower=0)
        .astype(np.int64)
    )
    rfm = rfm[rfm.index.isin(set(result["contact_id"]))]

    if rfm_scoring == "quantile":
        rfm["r_score"] = _quantile_scores(rfm["recency_days"], higher_is_better=False)
        rfm["f_score"] = _quantile_scores(rfm["frequency"], higher_is_better=True)
        rfm["m_score"] = _quantile_scores(rfm["monetary_units"], higher_is_better=True)
    else:
        table = DEFAULT_THRESHOLDS if thresholds is None else thresholds
        rfm["r_score"] = _threshold_scores(rfm["recency_days"], table, "recency")
        rfm["f_score"] = _threshold_scores(rfm["frequency"], table, "frequency")
        rfm["m_score"] = _threshold_scores(rfm["monetary_units"], table, "monetary")

    result = result.merge(
        rfm[["recency_days", "frequency", "monetary_units", "r_score", "f_score", "m_score"]],
        how="left",
        left_on="contact_id",
        right_index=True,
    )
    result["recency_days"] = result["recency_days"].astype("Int64")
    result["frequency"] = result["frequency"].fillna(0).astype("Int64")
    result["monetary"] = [
        _money(0 if _is_missing(u) else int(u)) for u in result.pop("monetary_units")
    ]
    for column in ("r_score", "f_score", "m_score"):
        result[column] = result[column].astype("Int64")

    cells: list[str | None] = []
    segments: list[str | None] = []
    for r, f, m in zip(result["r_score"], result["f_score"], result["m_score"], strict=True):
        scored = not (_is_missing(r) and _is_missing(f) and _is_missing(m))
        if not scored:
            cells.append(None)
            segments.append(PROSPECT_SEGMENT)
            continue
        if _is_missing(r) or _is_missing(f) or _is_missing(m):
            cells.append(None)
        else:
            cells.append(f"{int(r)}{int(f)}{int(m)}")
        if _is_missing(r) or _is_missing(f):
            segments.append(None)
        else:
            segments.append(RFM_SEGMENT_MAP[(int(r), int(f))])
    result["rfm_cell"] = pd.Series(cells, index=result.index, dtype=object)
    result["rfm_segment"] = pd.Series(segments, index=result.index, dtype=object)

    result["lifecycle_stage"] = [
        _lifecycle(
            int(count),
            math.inf if _is_missing(days) else int(days),
            active_days,
            lapsed_days,
            loyal_min_orders,
        )
        for count, days in zip(result["orders_count"], result["days_since_last_order"], strict=True)
    ]

    # focus segments: first match (the rules cannot overlap)
    if "subscribed_at" in contacts.columns:
        subscribed = dict(zip(contacts["contact_id"], contacts["subscribed_at"], strict=True))
    else:
        subscribed = {}
    focus: list[str | None] = []
    for contact_id, count, days in zip(
        result["contact_id"], result["orders_count"], result["days_since_last_order"], strict=True
    ):
        count = int(count)
        sub_at = subscribed.get(contact_id)
        sub_days = None if _is_missing(sub_at) else (as_of - sub_at.date()).days
        if count == 0 and sub_days is not None and 0 <= sub_days <= new_subscriber_days:
            focus.append("new_subscriber_non_buyer")
        elif count == 1 and days <= first_buyer_days:
            focus.append("first_time_buyer_recent")
        elif count == 2 and days <= two_time_buyer_days:
            focus.append("two_time_buyer_recent")
        elif count == 1 and days > one_time_lapse_days:
            focus.append("one_time_buyer_lapsing")
        elif count >= 2 and days > repeat_lapse_days:
            focus.append("repeat_buyer_lapsing")
        else:
            focus.append(None)
    result["focus_segment"] = pd.Series(focus, index=result.index, dtype=object)

    columns = [
        "contact_id",
        "as_of_date",
        "first_order_at",
        "last_order_at",
        "recency_days",
        "frequency",
        "monetary",
        "r_score",
        "f_score",
        "m_score",
        "rfm_cell",
        "rfm_segment",
        "lifecycle_stage",
        "orders_count",
        "days_since_last_order",
        "focus_segment",
    ]
    return result[columns].sort_values("contact_id", kind="mergesort").reset_index(drop=True)
