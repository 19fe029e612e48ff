"""The Online Retail adapter (``source_system: online_retail``, SPEC section 9, rules.md).

Builds the shared UCI file as of 2011-12-09 and compares every contact with the reference; the
same data written in the "Online Retail II" layout as CSV (text dates, float customer ids) must
give the same marts.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest
from conftest import (
    ONLINE_RETAIL_FILE,
    SEGMENT_MARTS,
    BuildPool,
    assert_segments_match,
    assert_snapshots_equal,
    build_warehouse,
    connect,
    mart_snapshot,
    query,
    query_frame,
    ref,
    reference_records,
    run_build,
)

AS_OF = "2011-12-09"
ENTITY = "online_retail_lines"

# Builds the dbt project: left out of `make quick` (pytest -m 'not e2e').
pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not ONLINE_RETAIL_FILE.exists(), reason=f"{ONLINE_RETAIL_FILE} is not available"
    ),
]


def online_retail_vars(file: Path) -> dict[str, str]:
    return {"source_system": "online_retail", "online_retail_path": str(file)}


def us_text_dates(stamps: pd.Series) -> pd.Series:
    """Timestamps written as the US spreadsheet copies write them: '12/1/2010 8:26'."""
    return (
        stamps.dt.month.astype(str)
        + "/"
        + stamps.dt.day.astype(str)
        + "/"
        + stamps.dt.year.astype(str)
        + " "
        + stamps.dt.hour.astype(str)
        + ":"
        + stamps.dt.minute.map("{:02d}".format)
    )


def write_online_retail_ii_csv(
    source: Path, out: Path, since: str | None = None, until: str | None = None
) -> Path:
    """The file in the "Online Retail II" layout, as text: InvoiceDate like '12/1/2010 8:26',
    Customer ID like '17850.0' (empty when missing), prices as written by Python; only the
    lines invoiced on the days from ``since`` to ``until`` (inclusive) when given."""
    frame = pq.read_table(source).to_pandas()
    days = frame["InvoiceDate"].dt.strftime("%Y-%m-%d")
    frame = frame[(days >= (since or "")) & (days <= (until or "9999"))]
    stamps = frame["InvoiceDate"]
    assert (stamps.dt.second == 0).all() and (stamps.dt.microsecond == 0).all()
    text_dates = us_text_dates(stamps)
    customers = frame["CustomerID"].map(lambda v: "" if pd.isna(v) else repr(float(v)))
    layout = pd.DataFrame(
        {
            "Invoice": frame["InvoiceNo"],
            "StockCode": frame["StockCode"],
            "Description": frame["Description"],
            "Quantity": frame["Quantity"],
            "InvoiceDate": text_dates,
            "Price": frame["UnitPrice"].map(repr),
            "Customer ID": customers,
            "Country": frame["Country"],
        }
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    layout.to_csv(out, index=False)
    return out


def write_online_retail_latin1_csv(source: Path, out: Path) -> Path:
    """The file as its most common public copy has it (Kaggle's "E-Commerce Data" data.csv): the
    "Online Retail" layout in Latin-1 (ISO-8859-1), CRLF line ends, InvoiceDate like
    '12/1/2010 8:26', CustomerID as an integer (empty when missing)."""
    frame = pq.read_table(source).to_pandas()
    stamps = frame["InvoiceDate"]
    frame["InvoiceDate"] = us_text_dates(stamps)
    frame["CustomerID"] = frame["CustomerID"].map(lambda v: "" if pd.isna(v) else str(int(v)))
    frame["UnitPrice"] = frame["UnitPrice"].map(repr)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False, encoding="latin-1", lineterminator="\r\n")
    return out


def _latin1_job(root: Path) -> tuple[Path, Path]:
    out = root / "online_retail_latin1" / "data.csv"
    file = write_online_retail_latin1_csv(ONLINE_RETAIL_FILE, out)
    db = build_warehouse(
        online_retail_vars(file), AS_OF, root / "online_retail_latin1_warehouse", with_tests=False
    )
    return file, db


#: Online Retail II is published as two sheets that overlap (2009-12-01 to 2010-12-09 and
#: 2010-12-01 to 2011-12-09): saved as two CSV files, the days in both are exact duplicates.
SHEETS = {
    "online_retail_II_1.csv": (None, "2011-06-30"),
    "online_retail_II_2.csv": ("2011-06-01", None),
}


def _sheets_job(root: Path) -> tuple[Path, Path]:
    folder = root / "online_retail_ii_sheets"
    for name, (since, until) in SHEETS.items():
        write_online_retail_ii_csv(ONLINE_RETAIL_FILE, folder / name, since, until)
    pattern = folder / "online_retail_II_*.csv"
    warehouse = root / "online_retail_sheets_warehouse"
    db = build_warehouse(online_retail_vars(pattern), AS_OF, warehouse, with_tests=False)
    return folder, db


def _csv_job(root: Path) -> tuple[Path, Path]:
    file = write_online_retail_ii_csv(ONLINE_RETAIL_FILE, root / "online_retail_ii" / "retail.csv")
    db = build_warehouse(
        online_retail_vars(file), AS_OF, root / "online_retail_csv_warehouse", with_tests=False
    )
    return file, db


def submit_builds(builds: BuildPool, build_root: Path) -> None:
    """Submits this module's builds (conftest calls it when the session starts)."""
    builds.submit(
        "online_retail",
        build_warehouse,
        online_retail_vars(ONLINE_RETAIL_FILE),
        AS_OF,
        build_root / "online_retail_warehouse",
    )
    builds.submit("online_retail_csv", _csv_job, build_root)
    builds.submit("online_retail_latin1", _latin1_job, build_root)
    builds.submit("online_retail_sheets", _sheets_job, build_root)
    spreadsheet = build_root / "online_retail_xlsx" / "Online Retail.xlsx"
    spreadsheet.parent.mkdir(parents=True, exist_ok=True)
    spreadsheet.write_bytes(b"PK\x03\x04")  # the start of a zip, as an .xlsx file is
    builds.submit(
        "online_retail_xlsx",
        run_build,
        online_retail_vars(spreadsheet),
        AS_OF,
        build_root / "online_retail_xlsx_warehouse",
        with_tests=False,
    )


@pytest.fixture(scope="module", autouse=True)
def _submit_builds(builds: BuildPool, build_root: Path) -> None:
    submit_builds(builds, build_root)


@pytest.fixture(scope="module")
def retail_warehouse(builds: BuildPool) -> Path:
    return builds.result("online_retail")


@pytest.fixture(scope="module")
def retail_reference() -> dict[str, dict]:
    return reference_records(ref.load_online_retail(ONLINE_RETAIL_FILE), AS_OF)


def test_every_contact_matches_reference(retail_warehouse: Path, retail_reference) -> None:
    assert len(retail_reference) == 4372  # customers in the file (SOURCE.md)
    assert_segments_match(retail_warehouse, retail_reference, what="Online Retail as of 2011-12-09")


def test_contacts_keep_country_and_first_invoice(retail_warehouse: Path) -> None:
    rows = query(
        retail_warehouse,
        "select contact_id, country_name, created_at from main.customer_segments"
        " where contact_id in ('17850', '12346')",
    )
    found = {r[0]: r[1:] for r in rows}
    assert set(found) == {"17850", "12346"}, rows
    assert found["17850"][0] == "United Kingdom"
    assert str(found["17850"][1]) == "2010-12-01 08:26:00"


def test_data_quality_counts(retail_warehouse: Path) -> None:
    counts = dict(
        query(
            retail_warehouse,
            "select reason, count(*) from main.data_quality_issues"
            f" where entity = '{ENTITY}' group by reason",
        )
    )
    assert counts.get("missing_customer_id") == 135037, counts
    assert counts.get("duplicate_row") == 5268, counts
    assert counts.get("non_positive_invoice", 0) > 0, counts


def test_non_positive_invoices_keep_every_line(retail_warehouse: Path) -> None:
    """Every (deduplicated, attributed) line of an invoice with amount <= 0 is an issue."""
    with connect(retail_warehouse) as con:
        flagged = con.execute(
            "select raw_value as invoice, count(*) from main.data_quality_issues"
            f" where entity = '{ENTITY}' and reason = 'non_positive_invoice' group by all"
        ).fetchall()
        expected = con.execute(
            f"""
            with lines as (
                select distinct * from read_parquet('{ONLINE_RETAIL_FILE}')
            ),
            attributed as (
                select * from lines where CustomerID is not null
            ),
            invoices as (
                select InvoiceNo from attributed
                where InvoiceNo not like 'C%' and InvoiceNo not like 'A%'
                group by InvoiceNo
                having sum(Quantity * cast(UnitPrice as decimal(18, 4))) <= 0
            )
            select InvoiceNo, count(*) from attributed
            where InvoiceNo in (select InvoiceNo from invoices)
            group by all
            """
        ).fetchall()
    assert expected, "the file has non-positive invoices"
    assert sorted(flagged) == sorted(expected)


def assert_same_as_parquet(db: Path, parquet_db: Path, what: str, issues: bool = True) -> None:
    """The marts of ``db`` equal those of the Parquet file's build; with ``issues``, so do the
    rows set aside (raw values are written differently in a CSV file, and where they sit in the
    file is checked by the source_row tests)."""
    tables = [*SEGMENT_MARTS, "segment_membership"]
    assert_snapshots_equal(
        mart_snapshot(db, tables=tables),
        mart_snapshot(parquet_db, tables=tables),
        f"{what} vs parquet",
    )
    if issues:
        positions = ["source_file", "source_row", "record_key", "raw_row"]
        assert_snapshots_equal(
            mart_snapshot(db, tables=["data_quality_issues"], exclude_columns=positions),
            mart_snapshot(parquet_db, tables=["data_quality_issues"], exclude_columns=positions),
            f"{what} vs parquet: data_quality_issues",
        )


def test_online_retail_ii_csv_gives_identical_marts(builds: BuildPool, retail_warehouse: Path):
    file, csv_db = builds.result("online_retail_csv")
    header = file.open().readline().strip()
    assert header == "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country"
    assert_same_as_parquet(csv_db, retail_warehouse, "Online Retail II csv")


def test_latin1_csv_gives_identical_marts(builds: BuildPool, retail_warehouse: Path) -> None:
    """A Latin-1 file (not UTF-8: DuckDB alone refuses it) is found out and read as Latin-1."""
    file, latin1_db = builds.result("online_retail_latin1")
    with pytest.raises(UnicodeDecodeError):
        file.read_bytes().decode("utf-8")
    assert_same_as_parquet(latin1_db, retail_warehouse, "Online Retail as Latin-1 csv")
    # the letters outside ASCII arrive as written ('£' of the gift vouchers)
    descriptions = (
        "select distinct json_extract_string(raw_row, '$.description') as description"
        " from main.data_quality_issues where description like '%£%' order by 1"
    )
    pounds = query(latin1_db, descriptions)
    assert pounds and pounds == query(retail_warehouse, descriptions)


def test_two_overlapping_sheets_give_identical_marts(builds: BuildPool, retail_warehouse: Path):
    """A glob of both sheets of Online Retail II: the overlapping days are read once."""
    folder, sheets_db = builds.result("online_retail_sheets")
    assert_same_as_parquet(
        sheets_db, retail_warehouse, "two overlapping Online Retail II csv sheets", issues=False
    )
    overlap = pd.read_csv(folder / "online_retail_II_2.csv", dtype=str)
    overlap = overlap[pd.to_datetime(overlap["InvoiceDate"]) < "2011-07-01"]
    counts = dict(
        query(
            sheets_db,
            "select reason, count(*) from main.data_quality_issues"
            f" where entity = '{ENTITY}' group by reason",
        )
    )
    # every line of June 2011 is there twice: one copy more per line than in the file itself
    assert counts["duplicate_row"] == 5268 + len(overlap), counts


def test_spreadsheet_fails_saying_what_to_do(builds: BuildPool) -> None:
    result = builds.result("online_retail_xlsx")
    assert not result.ok, "an .xlsx file must stop the build"
    assert "is a spreadsheet" in result.output and "Save each sheet as CSV" in result.output, (
        result.tail(20)
    )


def test_parquet_source_row_is_the_file_row(retail_warehouse: Path) -> None:
    file_lines = pq.read_table(ONLINE_RETAIL_FILE, columns=["InvoiceNo", "StockCode"]).to_pandas()
    _assert_source_rows_name_file_lines(retail_warehouse, file_lines, "parquet")


def test_csv_source_row_is_the_file_row(builds: BuildPool) -> None:
    """data_quality_issues.source_row must point at the row in the file (1 = first data row)."""
    file, csv_db = builds.result("online_retail_csv")
    file_lines = pd.read_csv(file, dtype=str, usecols=["Invoice", "StockCode"])
    _assert_source_rows_name_file_lines(csv_db, file_lines, "csv (Online Retail II layout)")


def _assert_source_rows_name_file_lines(db: Path, file_lines: pd.DataFrame, what: str) -> None:
    file_lines.columns = ["file_invoice", "file_stock_code"]
    file_lines.index = pd.RangeIndex(1, len(file_lines) + 1)
    issues = query_frame(
        db,
        "select source_row, reason, json_extract_string(raw_row, '$.invoice_no') as invoice,"
        " json_extract_string(raw_row, '$.stock_code') as stock_code"
        f" from main.data_quality_issues where entity = '{ENTITY}'",
    )
    assert len(issues) > 140_000
    joined = issues.join(file_lines, on="source_row")
    wrong = joined[
        (joined["invoice"] != joined["file_invoice"])
        | (joined["stock_code"] != joined["file_stock_code"])
    ]
    examples = "\n".join(
        f"  source_row {r.source_row} ({r.reason}): the issue holds {r.invoice}/{r.stock_code},"
        f" line {r.source_row} of the file is {r.file_invoice}/{r.file_stock_code}"
        for r in wrong.head(5).itertuples()
    )
    assert wrong.empty, (
        f"{what}: {len(wrong)} of {len(issues)} data_quality_issues rows name the wrong file row"
        f" in source_row/record_key:\n{examples}\n"
        "(bug: segment_warehouse/landing.py and macros/online_retail.sql"
        " read_online_retail number CSV rows with `row_number() over (partition by filename)`"
        " without an order, and DuckDB's parallel CSV scan does not deliver rows in file order;"
        " the parquet path uses file_row_number and is right)"
    )


def test_engagement_marts_without_events(retail_warehouse: Path) -> None:
    """Online Retail has no email or web events, consent or profile data (rules.md): everyone is
    unreachable and cold with an unknown age; average order value and `purchased` still come
    from the invoices."""
    rows = query(
        retail_warehouse,
        "select engagement_level, score_band, nurturing_score, age_band, persona,"
        " distance_to_store_km is null, count(*) from main.customer_segments group by all",
    )
    contacts = query(retail_warehouse, "select count(*) from main.customer_segments")[0][0]
    assert rows == [("unreachable", "cold", 0.0, "unknown", None, True, contacts)], rows
    mismatched = query(
        retail_warehouse,
        "select count(*) from main.customer_segments where"
        " coalesce(funnel_stage = 'purchased', false)"
        " <> coalesce(days_since_last_order <= 30, false)"
        " or (average_order_value is null) <> (orders_count = 0)",
    )
    assert mismatched == [(0,)]
