"""segment-warehouse-land (segment_warehouse/landing.py): the raw files into landing tables, with
their file and row, only new and changed files, each CSV file in its own encoding. No dbt build:
these run in `make quick`. The builds that read the landed tables are in test_raw_contract.py,
test_incremental_ingest.py and test_csv_encoding.py."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import duckdb
import pytest
import yaml
from conftest import ONLINE_RETAIL_FILE, ROOT

from orchestration.dbt import LANDING_OP_NAME, RAW_ENTITIES, build_run_config
from orchestration.definitions import defs
from orchestration.jobs import BUILD_JOB_NAME
from orchestration.landing import raw_landing
from segment_warehouse.landing import (
    LANDING_COLUMNS,
    LandingError,
    csv_encoding_setting,
    land,
    land_online_retail,
    main,
    online_retail_entity,
    project_vars,
    raw_contract,
    settings,
)


def _land(store: Path, db: Path, **kwargs) -> tuple[list, list[str]]:
    lines: list[str] = []
    loads = land(db, store, log=lines.append, **kwargs)
    return loads, lines


def _rows(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def _tiny_store(folder: Path) -> Path:
    (folder / "orders").mkdir(parents=True)
    (folder / "contacts.csv").write_text("contact_id,email\nC1,a@example.com\n,b@example.com\n")
    (folder / "orders" / "part-1.csv").write_text(
        "order_id,contact_id,ordered_at,status,amount_net\nO1,C1,2025-01-01,completed,10\n"
    )
    return folder


def test_the_contract_is_declared_once_in_the_source_yaml() -> None:
    contract = raw_contract()
    assert tuple(contract) == RAW_ENTITIES
    assert [name for name, entity in contract.items() if entity.required] == ["contacts", "orders"]
    assert contract["orders"].required_columns == (
        "order_id",
        "contact_id",
        "ordered_at",
        "status",
        "amount_net",
    )
    source = yaml.safe_load((ROOT / "models/staging/raw/_raw__sources.yml").read_text())
    for table in source["sources"][0]["tables"]:
        names = [column["name"] for column in table["columns"]]
        assert names[-3:] == list(LANDING_COLUMNS), table["name"]
        assert all(
            column.get("data_type") and column.get("description") for column in table["columns"]
        )
        assert table["meta"]["dagster"]["asset_key"] == ["raw", table["name"]]
    # the Dagster landing asset makes one asset per entity, keyed as the source's meta says, and
    # one for the Online Retail lines (source online_retail)
    keys = {tuple(key.path) for key in raw_landing.keys}
    assert keys == {entity.asset_key for entity in contract.values()} | {("raw", "online_retail")}
    assert online_retail_entity("x.csv").asset_key == ("raw", "online_retail")


def test_landing_keeps_file_row_and_raw_text(tmp_path: Path) -> None:
    store = _tiny_store(tmp_path / "store")
    db = tmp_path / "warehouse.duckdb"
    loads, lines = _land(store, db)
    assert {load.entity: load.rows_landed for load in loads}["contacts"] == 2
    rows = _rows(
        db, "select contact_id, email, _source_file, _source_row from raw.contacts order by 4"
    )
    assert rows == [
        ("C1", "a@example.com", f"{store}/contacts.csv", 1),
        (None, "b@example.com", f"{store}/contacts.csv", 2),
    ]
    # an entity with no file is an empty table with every contract column
    assert _rows(db, "select count(*) from raw.refunds") == [(0,)]
    columns = [row[0] for row in _rows(db, "describe raw.refunds")]
    assert columns == [*raw_contract()["refunds"].columns, *LANDING_COLUMNS]
    assert any("no refunds file" in line for line in lines), lines
    assert any("has no column" in line and "first_name" in line for line in lines), lines


def test_only_new_and_changed_files_are_read_and_removed_ones_leave(tmp_path: Path) -> None:
    store = _tiny_store(tmp_path / "store")
    db = tmp_path / "warehouse.duckdb"
    _land(store, db)
    second, _ = _land(store, db)
    assert all(load.new_or_changed == 0 and load.rows_landed == 0 for load in second)
    part2 = store / "orders" / "part-2.csv"
    part2.write_text(
        "order_id,contact_id,ordered_at,status,amount_net\nO2,C1,2025-01-02,pending,5\n"
    )
    third, _ = _land(store, db)
    orders = {load.entity: load for load in third}["orders"]
    assert (orders.files, orders.new_or_changed, orders.rows_landed) == (2, 1, 1)
    part2.unlink()
    (store / "orders" / "part-1.csv").write_text(
        "order_id,contact_id,ordered_at,status,amount_net\nO1,C1,2025-01-01,cancelled,10\n"
    )
    os.utime(store / "orders" / "part-1.csv", (1, 1))
    fourth, _ = _land(store, db)
    orders = {load.entity: load for load in fourth}["orders"]
    assert (orders.new_or_changed, orders.removed) == (1, 1)
    assert _rows(db, "select order_id, status, _source_row from raw.orders") == [
        ("O1", "cancelled", 1)
    ]


def test_each_csv_file_in_its_own_encoding(tmp_path: Path) -> None:
    store = _tiny_store(tmp_path / "store")
    (store / "contacts.csv").write_bytes("contact_id,first_name\nL1,René\n".encode("latin-1"))
    db = tmp_path / "warehouse.duckdb"
    _, lines = _land(store, db)
    assert _rows(db, "select first_name from raw.contacts") == [("René",)]
    assert [line for line in lines if "read as Latin-1" in line and "contacts.csv" in line]


def test_missing_required_file_and_column_fail_naming_them(tmp_path: Path) -> None:
    store = _tiny_store(tmp_path / "store")
    (store / "contacts.csv").unlink()
    with pytest.raises(LandingError, match=r"required file 'contacts' not found"):
        _land(store, tmp_path / "a.duckdb")
    store = _tiny_store(tmp_path / "store2")
    (store / "orders" / "part-1.csv").write_text("order_id,contact_id\nO1,C1\n")
    with pytest.raises(LandingError, match=r"required column 'ordered_at' is missing in .*part-1"):
        _land(store, tmp_path / "b.duckdb")


def test_csv_encoding_var(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert csv_encoding_setting("Latin_1") == "latin-1"
    assert csv_encoding_setting("UTF8") == "utf-8"
    with pytest.raises(LandingError, match="ebcdic"):
        csv_encoding_setting("ebcdic")
    store = _tiny_store(tmp_path / "store")
    code = main(
        [
            "--database",
            str(tmp_path / "w.duckdb"),
            "--raw-data-path",
            str(store),
            "--vars",
            "{csv_encoding: ebcdic}",
        ]
    )
    assert code == 1
    assert "var csv_encoding: 'ebcdic' is unknown" in capsys.readouterr().err


def test_other_source_systems_land_nothing(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    assert main(["--database", str(db), "--vars", '{"source_system": "shopify"}']) == 0
    assert not db.exists()


def test_online_retail_lands_either_layout_as_text(tmp_path: Path) -> None:
    """Online Retail (II) as CSV sheets in Latin-1 with headers 'Customer ID' and 'Price', and the
    first layout as Parquet with a float customer id: every value lands as text, under the
    source's names, with file and row."""
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    header = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country\n"
    (sheets / "online_retail_II_1.csv").write_bytes(
        (
            header + "489434,85048,CAFÉ LIGHT,12,12/1/2009 07:45,6.95,13085.0,United Kingdom\n"
        ).encode("latin-1")
    )
    (sheets / "online_retail_II_2.csv").write_text(
        header + "C489449,22087,PAPER BUNTING,-12,12/1/2009 10:33,2.95,16321,Australia\n"
        "489450,22088,PAPER,1,12/1/2009 10:34,1.00,,Australia\n"
    )
    db = tmp_path / "w.duckdb"
    lines: list[str] = []
    loads = land_online_retail(db, sheets / "online_retail_II_*.csv", log=lines.append)
    assert [(load.entity, load.files, load.rows_landed) for load in loads] == [
        ("online_retail_lines", 2, 3)
    ]
    assert _rows(
        db,
        "select invoice_no, description, unit_price, customer_id, _source_row"
        " from raw.online_retail_lines order by _source_file, _source_row",
    ) == [
        ("489434", "CAFÉ LIGHT", "6.95", "13085.0", 1),
        ("C489449", "PAPER BUNTING", "2.95", "16321", 1),
        ("489450", "PAPER", "1.00", None, 2),
    ]
    assert any("online_retail_II_1.csv is not UTF-8" in line for line in lines), lines
    # nothing new: nothing read again
    again = land_online_retail(db, sheets / "online_retail_II_*.csv", log=lines.append)
    assert (again[0].new_or_changed, again[0].rows_landed) == (0, 0)

    parquet = tmp_path / "online_retail.parquet"
    con = duckdb.connect()
    con.execute(
        "copy (select '536365' as InvoiceNo, '85123A' as StockCode, 'HOLDER' as Description,"
        " 6 as Quantity, timestamp '2010-12-01 08:26:00' as InvoiceDate, 2.55 as UnitPrice,"
        f" 17850.0 as CustomerID, 'United Kingdom' as Country) to '{parquet}' (format parquet)"
    )
    db2 = tmp_path / "w2.duckdb"
    land_online_retail(db2, parquet, log=lines.append)
    assert _rows(db2, "select * exclude (_source_fingerprint) from raw.online_retail_lines") == [
        (
            "536365", "85123A", "HOLDER", "6", "2010-12-01 08:26:00", "2.55", "17850.0",
            "United Kingdom", str(parquet), 1,
        )
    ]  # fmt: skip


def test_online_retail_errors_say_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(LandingError, match=r"is a spreadsheet.*Save each sheet as CSV"):
        land_online_retail(tmp_path / "a.duckdb", tmp_path / "Online Retail.xlsx")
    with pytest.raises(LandingError, match=r"file '.*nothing_here.csv' not found"):
        land_online_retail(tmp_path / "a.duckdb", tmp_path / "nothing_here.csv")
    odd = tmp_path / "odd.csv"
    odd.write_text(
        "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Country\n1,2,3,4,5,6,7\n"
    )
    with pytest.raises(
        LandingError, match=r"has no column for customer_id \(expected one of customerid"
    ):
        land_online_retail(tmp_path / "a.duckdb", odd)


def test_changed_column_types_reload_every_file(tmp_path: Path) -> None:
    store = tmp_path / "store"
    store.mkdir()
    con = duckdb.connect()
    con.execute(f"copy (select 'C1' as contact_id) to '{store}/contacts.parquet' (format parquet)")
    con.execute(
        "copy (select 'O1' as order_id, 'C1' as contact_id, timestamp '2025-01-01' as ordered_at,"
        f" 'completed' as status, 10 as amount_net) to '{store}/orders.parquet' (format parquet)"
    )
    db = tmp_path / "w.duckdb"
    _land(store, db)
    assert ("amount_net", "INTEGER") in [row[:2] for row in _rows(db, "describe raw.orders")]
    con.execute(
        "copy (select 'O1' as order_id, 'C1' as contact_id, timestamp '2025-01-01' as ordered_at,"
        f" 'completed' as status, 10.5 as amount_net) to '{store}/orders.parquet' (format parquet)"
    )
    loads, _ = _land(store, db)
    assert {load.entity: load.new_or_changed for load in loads}["orders"] == 1
    assert _rows(db, "select amount_net, ordered_at from raw.orders")[0][0] == pytest.approx(10.5)


def test_settings_read_dbt_project_vars_under_the_command_line_ones(tmp_path: Path) -> None:
    """As dbt reads them: --vars first, then dbt_project.yml's plain vars (its Jinja default of
    raw_data_path is left to SEGMENT_RAW_DATA_PATH), then the environment."""
    project = tmp_path / "dbt_project.yml"
    project.write_text(
        "vars:\n  source_system: online_retail\n  csv_encoding: latin-1\n"
        "  raw_data_path: \"{{ env_var('SEGMENT_RAW_DATA_PATH', 'data/demo_store') }}\"\n"
    )
    declared = project_vars(project)
    assert declared == {"source_system": "online_retail", "csv_encoding": "latin-1"}
    environ = {"SEGMENT_RAW_DATA_PATH": "/shop/export", "DBT_DUCKDB_PATH": "w.duckdb"}
    values = settings(None, environ, declared)
    assert values["source_system"] == "online_retail"
    assert values["csv_encoding"] == "latin-1"
    assert values["raw_data_path"] == "/shop/export"
    values = settings('{"source_system": raw, "csv_encoding": utf-8}', environ, declared)
    assert (values["source_system"], values["csv_encoding"]) == ("raw", "utf-8")
    assert settings(None, {}, {})["raw_data_path"] == "data/demo_store"
    # the repository's own dbt_project.yml: its defaults
    assert project_vars()["csv_encoding"] == "auto"


def _materialize_landing(run_config: dict) -> dg.ExecuteInProcessResult:
    landing_config = run_config["ops"].get(LANDING_OP_NAME, {"config": {}})
    return dg.materialize(
        [raw_landing], run_config={"ops": {LANDING_OP_NAME: landing_config}}, raise_on_error=False
    )


def test_dagster_landing_reads_the_builds_vars(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The landing op gets the dbt vars of the build job's run config: an Online Retail build
    lands the Online Retail file and does not need a raw export; a raw build's raw_data_path and
    csv_encoding reach it. The run config is the real build job's (validated against it)."""
    db = tmp_path / "w.duckdb"
    monkeypatch.setenv("DBT_DUCKDB_PATH", str(db))
    monkeypatch.setenv("SEGMENT_RAW_DATA_PATH", str(tmp_path / "no_export_here"))
    job = defs.resolve_job_def(BUILD_JOB_NAME)

    online_retail = build_run_config(
        "2011-12-09", source_system="online_retail", online_retail_path=str(ONLINE_RETAIL_FILE)
    )
    assert online_retail["ops"][LANDING_OP_NAME] == {
        "config": {
            "dbt_vars": {
                "source_system": "online_retail",
                "online_retail_path": str(ONLINE_RETAIL_FILE),
            }
        }
    }
    dg.validate_run_config(job, online_retail)
    result = _materialize_landing(online_retail)
    assert result.success
    materialized = result.asset_materializations_for_node(LANDING_OP_NAME)
    landed = {tuple(event.asset_key.path): event.metadata for event in materialized}
    assert len(landed) == len(RAW_ENTITIES) + 1
    assert landed.pop(("raw", "online_retail"))["rows_landed"].value == 541_909
    assert all(
        metadata["skipped"].value == "source_system is online_retail: nothing to land here"
        for metadata in landed.values()
    )
    assert _rows(db, "select count(*) from raw.online_retail_lines") == [(541_909,)]

    # without the vars the landing looks for the export, and says which file is missing
    failed = _materialize_landing(build_run_config("2011-12-09"))
    assert not failed.success
    assert "required file 'contacts' not found" in str(failed.get_step_failure_events()[0])

    store = _tiny_store(tmp_path / "store")
    (store / "contacts.csv").write_bytes("contact_id,first_name\nL1,René\n".encode("latin-1"))
    raw = build_run_config("2025-06-30", raw_data_path=str(store), csv_encoding="latin-1")
    dg.validate_run_config(job, raw)
    result = _materialize_landing(raw)
    assert result.success
    assert _rows(db, "select first_name from raw.contacts") == [("René",)]
    landed = {
        tuple(event.asset_key.path): event.metadata["rows_landed"].value
        for event in result.asset_materializations_for_node(LANDING_OP_NAME)
    }
    assert landed[("raw", "contacts")] == 1
    assert landed[("raw", "orders")] == 1
