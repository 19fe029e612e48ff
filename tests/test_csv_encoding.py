"""CSV files in other encodings than UTF-8 (var csv_encoding; segment_warehouse/landing.py, for the
raw contract and the Online Retail file).

Exports from spreadsheets on Windows are often Latin-1 (ISO-8859-1), which DuckDB refuses to read
as UTF-8. With `csv_encoding: auto` each file is read as UTF-8 when every line of it is UTF-8
(with or without a byte-order mark), else as Latin-1; one folder may mix both.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import BuildPool, query, run_build

# Builds the dbt project: left out of `make quick` (pytest -m 'not e2e').
pytestmark = pytest.mark.e2e

AS_OF = "2025-06-30"
CONTACT_COLUMNS = ["contact_id", "first_name", "city", "created_at"]
#: a column outside the contract whose name is not ASCII: in the Latin-1 part, the header itself
#: is not UTF-8
EXTRA_COLUMN = "Pâtisserie préférée"
#: (file, encoding, rows): a UTF-8 part with a byte-order mark and letters Latin-1 has not, and
#: a Latin-1 part whose third data row has no key (a data-quality issue at source_row 3).
CONTACT_PARTS = [
    (
        "part-1.csv",
        "utf-8-sig",
        [
            ("U1", "Łukasz", "Kraków", "2024-01-05T10:00:00Z"),
            ("U2", "Zoë", "Málaga", "2024-02-05T10:00:00Z"),
        ],
    ),
    (
        "part-2.csv",
        "latin-1",
        [
            ("L1", "René", "Zürich", "2024-03-05T10:00:00Z"),
            ("L2", "Françoise", "Besançon", "2024-04-05T10:00:00Z"),
            ("", "Ægir", "Århus", "2024-05-05T10:00:00Z"),
        ],
    ),
]
ORDERS = [
    ("O1", "U1", "2025-06-01T09:00:00Z", "completed", "25.50"),
    ("O2", "L1", "2025-06-02T09:00:00Z", "completed", "40.00"),
]


def write_mixed_encoding_store(folder: Path) -> Path:
    (folder / "contacts").mkdir(parents=True, exist_ok=True)
    for name, encoding, rows in CONTACT_PARTS:
        lines = [
            ",".join([*CONTACT_COLUMNS, EXTRA_COLUMN]),
            *(",".join([*row, "éclair"]) for row in rows),
        ]
        (folder / "contacts" / name).write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    # one Latin-1 file alone, with the extra column: its header is not UTF-8
    header = f"order_id,contact_id,ordered_at,status,amount_net,{EXTRA_COLUMN}"
    orders = [header, *(",".join([*order, "crème"]) for order in ORDERS)]
    (folder / "orders.csv").write_text("\n".join(orders) + "\n", encoding="latin-1")
    return folder


def _job(root: Path, name: str, vars: dict[str, str] | None = None):
    # a store per build: two builds run at once, and one must not read files the other writes
    store = write_mixed_encoding_store(root / f"{name}_store")
    result = run_build(store, AS_OF, root / name, vars=vars)
    return store, result


def submit_builds(builds: BuildPool, build_root: Path) -> None:
    """Submits this module's builds (conftest calls it when the session starts)."""
    root = build_root / "csv_encoding"
    builds.submit("csv_encoding_auto", _job, root, "auto")
    builds.submit("csv_encoding_bad_var", _job, root, "bad_var", {"csv_encoding": "ebcdic"})


@pytest.fixture(scope="module", autouse=True)
def _submit_builds(builds: BuildPool, build_root: Path) -> None:
    submit_builds(builds, build_root)


def test_each_file_is_read_in_its_own_encoding(builds: BuildPool) -> None:
    store, result = builds.result("csv_encoding_auto")
    db = result.check()
    contacts = dict(
        (row[0], row[1:])
        for row in query(
            db,
            "select contact_id, first_name, city from staging.stg_raw__contacts"
            " where dq_failure is null",
        )
    )
    expected = {
        key: (first_name, city)
        for _, _, rows in CONTACT_PARTS
        for key, first_name, city, _ in rows
        if key
    }
    assert contacts == expected
    latin1_lines = [line for line in result.output.splitlines() if "read as Latin-1" in line]
    assert len(latin1_lines) == 2, result.tail(40)
    assert {Path(line.split("csv: ")[1].split(" is not")[0]).name for line in latin1_lines} == {
        "part-2.csv",
        "orders.csv",
    }
    # the orders of both parts' contacts count
    rfm = dict(query(db, "select contact_id, frequency from main.customer_rfm"))
    assert rfm == {"U1": 1, "U2": 0, "L1": 1, "L2": 0}


def test_rows_of_a_latin1_file_keep_their_file_row(builds: BuildPool) -> None:
    """Files of different encodings are read apart: row numbers still name the file's rows."""
    store, result = builds.result("csv_encoding_auto")
    issues = query(
        result.check(),
        "select source_file, source_row, reason, json_extract_string(raw_row, '$.first_name')"
        " from main.data_quality_issues where entity = 'contacts'",
    )
    latin1_file = str((store / "contacts" / "part-2.csv").resolve())
    assert issues == [(latin1_file, 3, "missing_key", "Ægir")]


def test_unknown_encoding_fails_naming_the_var(builds: BuildPool) -> None:
    _, result = builds.result("csv_encoding_bad_var")
    assert not result.ok, "an unknown csv_encoding must stop the build"
    errors = [line for line in result.output.splitlines() if "csv_encoding" in line]
    assert any("ebcdic" in line and "latin-1" in line for line in errors), result.tail(20)
