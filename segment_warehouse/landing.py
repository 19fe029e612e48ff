"""segment-warehouse-land: the raw files of the shop export into landing tables, before dbt.

The raw data contract (models/staging/raw/_raw__sources.yml, dbt source `raw`) names eight
entities. Each is a file `<entity>.parquet`, `<entity>.csv[.gz]` or a folder `<entity>/` of parts
under var raw_data_path (env SEGMENT_RAW_DATA_PATH). This loader finds them, reads every CSV file in
its own encoding (UTF-8, else Latin-1, or var csv_encoding), and copies the rows into one landing
table per entity in schema `raw` of the warehouse file: the contract's columns as read (text from
CSV, native types from Parquet; a missing column is empty text), plus `_source_file`,
`_source_row` (1-based data row in its file) and `_source_fingerprint` (path, size, modification
time and, for CSV, the csv_encoding setting). Only new and changed files are read: a table
`raw._landing_files` remembers each landed file's fingerprint; the rows of changed and removed
files leave the landing table. An entity without files gets an empty table.

With source_system online_retail it lands the UCI Online Retail file(s) at var online_retail_path
instead (models/staging/online_retail/_online_retail__sources.yml, dbt source `online_retail`):
either published layout, each column found under its aliases, every value as text, into table
`online_retail_lines` of the same schema, with the same file, row and fingerprint columns.

Why a small loader on DuckDB rather than dlt or dbt-duckdb's external sources: README,
"Landing the raw files".
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import yaml

from segment_warehouse.files import sql_literal
from segment_warehouse.spark import land_on_spark, target_type

ROOT = Path(__file__).resolve().parent.parent
SOURCES_YML = ROOT / "models" / "staging" / "raw" / "_raw__sources.yml"
SOURCE_NAME = "raw"
ONLINE_RETAIL_SOURCES_YML = (
    ROOT / "models" / "staging" / "online_retail" / "_online_retail__sources.yml"
)
ONLINE_RETAIL_DEFAULT_PATH = "../shared/data/online_retail/online_retail.parquet"
MANIFEST_TABLE = "_landing_files"
#: The columns the loader adds to every landing table (declared in the source YAML too).
LANDING_COLUMNS = {
    "_source_file": "VARCHAR",
    "_source_row": "BIGINT",
    "_source_fingerprint": "VARCHAR",
}

#: (format, pattern) per layout, in the order they are tried: the first that matches wins.
FILE_PATTERNS = (
    ("parquet", "{base}/{entity}.parquet"),
    ("csv", "{base}/{entity}.csv"),
    ("csv", "{base}/{entity}.csv.gz"),
    ("parquet", "{base}/{entity}/*.parquet"),
    ("csv", "{base}/{entity}/*.csv"),
    ("csv", "{base}/{entity}/*.csv.gz"),
)
ENCODING_ALIASES = {
    "utf8": "utf-8",
    "latin1": "latin-1",
    "iso-8859-1": "latin-1",
    "utf16": "utf-16",
}
ENCODINGS = ("auto", "utf-8", "latin-1", "utf-16")


class LandingError(Exception):
    """A problem with the raw files that stops the load (the message names file and column)."""


@dataclass(frozen=True)
class Entity:
    """One entity of the raw contract, as declared in the source YAML."""

    name: str
    required: bool
    columns: tuple[str, ...]
    required_columns: tuple[str, ...]
    asset_key: tuple[str, ...]
    descriptions: Mapping[str, str] = field(default_factory=dict)
    #: {column: header names it may have in a file}; by default its own name. Online Retail's
    #: columns have aliases (its two layouts), matched ignoring case, spaces and underscores.
    aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    #: Land every value as text (Online Retail: staging parses ids written as 17850 or 17850.0).
    as_text: bool = False
    #: Where the files are: a path or glob (Online Retail); None = the raw contract's layouts.
    path: str | None = None

    def header_names(self, column: str) -> tuple[str, ...]:
        return self.aliases.get(column, (column,))


def raw_contract(path: Path = SOURCES_YML) -> dict[str, Entity]:
    """{entity: Entity} of dbt source `raw`, in the YAML's order (loader columns left out)."""
    sources = yaml.safe_load(path.read_text())["sources"]
    source = next(source for source in sources if source["name"] == SOURCE_NAME)
    contract = {}
    for table in source["tables"]:
        columns = [c for c in table["columns"] if not c["name"].startswith("_")]
        meta = table.get("meta") or {}
        contract[table["name"]] = Entity(
            name=table["name"],
            required=bool(meta.get("required", False)),
            columns=tuple(c["name"] for c in columns),
            required_columns=tuple(
                c["name"] for c in columns if (c.get("meta") or {}).get("required")
            ),
            asset_key=tuple(meta.get("dagster", {}).get("asset_key", [SOURCE_NAME, table["name"]])),
            descriptions={c["name"]: c.get("description", "") for c in columns},
        )
    return contract


def online_retail_entity(path: str, source_yml: Path = ONLINE_RETAIL_SOURCES_YML) -> Entity:
    """The Online Retail lines of dbt source `online_retail`, read from `path` (a file or glob)."""
    table = yaml.safe_load(source_yml.read_text())["sources"][0]["tables"][0]
    columns = [c for c in table["columns"] if not c["name"].startswith("_")]
    return Entity(
        name=table["identifier"],
        required=True,
        columns=tuple(c["name"] for c in columns),
        required_columns=tuple(c["name"] for c in columns),
        asset_key=tuple(table["meta"]["dagster"]["asset_key"]),
        descriptions={c["name"]: c.get("description", "") for c in columns},
        aliases={c["name"]: tuple(c["meta"]["aliases"]) for c in columns},
        as_text=True,
        path=str(path).strip(),
    )


def header_key(name: str, entity: Entity) -> str:
    """A header as it is matched: trimmed and lower-cased; for aliased columns (Online Retail)
    spaces and underscores are ignored too."""
    key = name.strip().lower()
    return key.replace(" ", "").replace("_", "") if entity.aliases else key


def sql_list(values: Iterable[str]) -> str:
    return "[" + ", ".join(sql_literal(value) for value in values) + "]"


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def csv_encoding_setting(value: object = "auto") -> str:
    """var csv_encoding, normalised: auto, utf-8, latin-1 or utf-16 (else a LandingError)."""
    setting = str(value if value is not None else "auto").strip().lower().replace("_", "-")
    setting = ENCODING_ALIASES.get(setting, setting)
    if setting not in ENCODINGS:
        raise LandingError(
            f"var csv_encoding: '{setting}' is unknown; use auto (UTF-8, else Latin-1, per file),"
            " utf-8, latin-1 (ISO-8859-1) or utf-16. Other encodings: convert the file to UTF-8"
            " first."
        )
    return setting


def find_entity_files(
    con: duckdb.DuckDBPyConnection, base: str, entity: str
) -> tuple[str | None, list[str]]:
    """(format, [paths]) of one entity's files; the first layout that matches wins."""
    for file_format, pattern in FILE_PATTERNS:
        glob = pattern.format(base=base, entity=entity)
        found = con.execute(f"select file from glob({sql_literal(glob)}) order by file").fetchall()
        if found:
            return file_format, [row[0] for row in found]
    return None, []


def fingerprints(
    con: duckdb.DuckDBPyConnection, file_format: str, files: list[str], setting: str
) -> dict[str, str]:
    """{file: path|size|modified[|csv_encoding=<setting>]}: a CSV file is read again when the
    csv_encoding setting changes."""
    rows = con.execute(
        f"select filename, size, cast(last_modified as varchar) from read_blob({sql_list(files)})"
    ).fetchall()
    suffix = f"|csv_encoding={setting}" if file_format == "csv" else ""
    return {name: f"{name}|{size}|{modified}{suffix}" for name, size, modified in rows}


def csv_encodings(
    con: duckdb.DuckDBPyConnection, files: list[str], setting: str, log: Callable[[str], None]
) -> dict[str, str]:
    """{file: encoding}. With `auto`, a file is UTF-8 (with or without a byte-order mark) when every
    line of it is valid UTF-8, else Latin-1 (ISO-8859-1); the lines that are not UTF-8 are found by
    one scan of the files as lines of text that keeps its rejects (DuckDB's store_rejects)."""
    encodings = {file: "utf-8" if setting == "auto" else setting for file in files}
    if setting != "auto" or not files:
        return encodings
    con.execute("drop table if exists temp.main.segment_csv_encoding_errors")
    con.execute("drop table if exists temp.main.segment_csv_encoding_scans")
    con.execute(
        f"select count(*) from read_csv({sql_list(files)}, encoding = 'utf-8',"
        " columns = {'line': 'VARCHAR'}, delim = E'\\x1f', quote = '', escape = '',"
        " header = false, auto_detect = false, strict_mode = false, ignore_errors = true,"
        " store_rejects = true, rejects_scan = 'segment_csv_encoding_scans',"
        " rejects_table = 'segment_csv_encoding_errors')"
    ).fetchall()
    not_utf8 = con.execute(
        "select distinct scans.file_path from temp.main.segment_csv_encoding_errors as errors"
        " inner join temp.main.segment_csv_encoding_scans as scans"
        " on errors.scan_id = scans.scan_id and errors.file_id = scans.file_id"
        " where errors.error_type = 'INVALID ENCODING' order by 1"
    ).fetchall()
    for (file,) in not_utf8:
        encodings[file] = "latin-1"
        log(
            f"csv: {file} is not UTF-8; read as Latin-1 (ISO-8859-1). Set var csv_encoding to"
            " choose. A Windows-1252 file (with the euro sign or curly quotes) is not Latin-1:"
            " convert it to UTF-8 first (iconv -f WINDOWS-1252 -t UTF-8)."
        )
    return encodings


def csv_reader(files: list[str], encoding: str) -> str:
    return (
        f"read_csv({sql_list(files)}, encoding = {sql_literal(encoding)}, all_varchar = true,"
        " header = true, union_by_name = true, filename = true)"
    )


def parquet_reader(files: list[str]) -> str:
    return (
        f"read_parquet({sql_list(files)}, union_by_name = true, filename = true,"
        " file_row_number = true)"
    )


def describe(con: duckdb.DuckDBPyConnection, reader: str) -> list[tuple[str, str]]:
    """(column name, DuckDB type) of a reader's columns."""
    return [(row[0], row[1]) for row in con.execute(f"describe select * from {reader}").fetchall()]


@dataclass
class EntityLoad:
    """What one entity's load did, for the log line and for callers (Dagster metadata)."""

    entity: str
    files: int = 0
    new_or_changed: int = 0
    removed: int = 0
    rows_landed: int = 0
    reloaded: bool = False


class Landing:
    """One warehouse file's landing schema, filled entity by entity."""

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        raw_data_path: str,
        csv_encoding: object = "auto",
        schema: str = SOURCE_NAME,
        log: Callable[[str], None] = print,
        contract: Mapping[str, Entity] | None = None,
    ) -> None:
        self.con = con
        self.base = str(raw_data_path).strip()
        self.setting = csv_encoding_setting(csv_encoding)
        self.schema = schema
        self.log = log
        self.contract = dict(contract or raw_contract())

    def table(self, name: str) -> str:
        return f"{quoted(self.schema)}.{quoted(name)}"

    def run(self) -> list[EntityLoad]:
        self.con.execute(f"create schema if not exists {quoted(self.schema)}")
        self.con.execute(
            f"create table if not exists {self.table(MANIFEST_TABLE)} (entity varchar,"
            " file varchar, fingerprint varchar, columns varchar[], landed_at timestamptz)"
        )
        return [self.load_entity(entity) for entity in self.contract.values()]

    # -- one entity ------------------------------------------------------------------------

    def find_files(self, entity: Entity) -> tuple[str | None, list[str]]:
        if entity.path is None:
            return find_entity_files(self.con, self.base, entity.name)
        # Online Retail: one file or a glob of them (the two sheets of Online Retail II as CSV)
        path = entity.path
        if path.lower().endswith((".xlsx", ".xls")):
            raise LandingError(
                f"online retail: {path} is a spreadsheet, which DuckDB cannot read here. Save each"
                " sheet as CSV (or convert it to Parquet) and point var online_retail_path at the"
                " file, or at a glob of the files (e.g. 'online_retail_II_*.csv' for its two"
                " sheets)."
            )
        found = self.con.execute(f"select file from glob({sql_literal(path)}) order by file")
        files = [row[0] for row in found.fetchall()]
        if not files:
            raise LandingError(
                f"online retail: file '{path}' not found. Set var online_retail_path (or env"
                " SEGMENT_ONLINE_RETAIL_PATH) to the .parquet or .csv file."
            )
        return ("parquet" if path.lower().endswith(".parquet") else "csv"), files

    def load_entity(self, entity: Entity) -> EntityLoad:
        result = EntityLoad(entity.name)
        file_format, files = self.find_files(entity)
        if not files:
            if entity.required:
                raise LandingError(
                    f"raw contract: required file '{entity.name}' not found in raw_data_path"
                    f" '{self.base}' (looked for {entity.name}.parquet, {entity.name}.csv[.gz] and"
                    f" {entity.name}/*.parquet|csv). Point var raw_data_path (or env"
                    " SEGMENT_RAW_DATA_PATH) at the export folder, or run `make demo-data` to"
                    " generate the demo store."
                )
            self.log(f"raw contract: no {entity.name} file in {self.base}; {entity.name} is empty")
        assert file_format is not None or not files
        current = fingerprints(self.con, file_format, files, self.setting) if files else {}
        landed = {
            file: (fingerprint, list(columns))
            for file, fingerprint, columns in self.con.execute(
                f"select file, fingerprint, columns from {self.table(MANIFEST_TABLE)}"
                " where entity = ?",
                [entity.name],
            ).fetchall()
        }
        todo = [file for file in files if landed.get(file, (None,))[0] != current[file]]
        encodings = (
            csv_encodings(self.con, todo, self.setting, self.log) if file_format == "csv" else {}
        )
        columns_of = {file: landed[file][1] for file in files if file not in todo}
        types: dict[str, str] = {}
        if file_format == "parquet":
            described = describe(self.con, parquet_reader(files))
            types = {header_key(name, entity): kind for name, kind in described}
            all_columns = [name for name, _ in described]
            for file in todo:
                columns_of[file] = [name for name, _ in describe(self.con, parquet_reader([file]))]
        elif file_format == "csv":
            for file in todo:
                columns_of[file] = [
                    name for name, _ in describe(self.con, csv_reader([file], encodings[file]))
                ]
            all_columns = list(dict.fromkeys(name for file in files for name in columns_of[file]))
        else:
            all_columns = []
        present = {header_key(name, entity) for name in all_columns}
        if files:
            self.check_columns(entity, file_format, files, all_columns, present)
        wanted = {
            column: "VARCHAR"
            if entity.as_text
            else types.get(self.header(entity, column, present), "VARCHAR")
            for column in entity.columns
        } | LANDING_COLUMNS
        self.con.execute("begin transaction")
        try:
            if self.table_types(entity.name) != list(wanted.items()):
                # a first load, or the columns' types changed: every file is read again
                result.reloaded = bool(landed)
                self.create_table(entity.name, wanted)
                self.con.execute(
                    f"delete from {self.table(MANIFEST_TABLE)} where entity = ?", [entity.name]
                )
                missing = [file for file in files if file not in todo]
                if missing and file_format == "csv":
                    encodings |= csv_encodings(self.con, missing, self.setting, self.log)
                todo = list(files)
                stale: list[str] = []
            else:
                stale = [file for file in landed if landed[file][0] != current.get(file)]
            if stale:
                old = [landed[file][0] for file in stale]
                self.con.execute(
                    f"delete from {self.table(entity.name)} where _source_fingerprint in"
                    f" (select unnest({sql_list(old)}))"
                )
                self.con.execute(
                    f"delete from {self.table(MANIFEST_TABLE)} where entity = ?"
                    f" and file in (select unnest({sql_list(stale)}))",
                    [entity.name],
                )
            result.rows_landed = self.insert(entity, file_format, todo, current, encodings)
            for file in todo:
                self.con.execute(
                    f"insert into {self.table(MANIFEST_TABLE)} values (?, ?, ?, ?, now())",
                    [entity.name, file, current[file], columns_of[file]],
                )
            self.con.execute("commit")
        except BaseException:
            self.con.execute("rollback")
            raise
        result.files = len(files)
        result.new_or_changed = len(todo)
        result.removed = len([file for file in landed if file not in current])
        self.log(
            f"landing {entity.name}: {result.new_or_changed} of {result.files} files new or"
            f" changed, {result.removed} removed, {result.rows_landed} rows landed"
            + (" (column types changed: every file read again)" if result.reloaded else "")
        )
        return result

    @staticmethod
    def header(entity: Entity, column: str, present: Iterable[str]) -> str | None:
        """The key (header_key) under which `column` is in the files, or None."""
        keys = [header_key(name, entity) for name in entity.header_names(column)]
        return next((key for key in keys if key in present), None)

    def check_columns(
        self,
        entity: Entity,
        file_format: str | None,
        files: list[str],
        all_columns: list[str],
        present: set[str],
    ) -> None:
        shown = (
            files[0]
            if len(files) == 1
            else entity.path or f"{self.base}/{entity.name}/ ({len(files)} files)"
        )
        missing = [
            column for column in entity.columns if self.header(entity, column, present) is None
        ]
        for column in entity.required_columns:
            if column in missing and entity.path is not None:
                raise LandingError(
                    f"online retail: {entity.path} has no column for {column} (expected one of"
                    f" {', '.join(entity.header_names(column))}, case and spaces ignored). Its"
                    f" columns are: {', '.join(all_columns)}. Use the 'Online Retail' or 'Online"
                    " Retail II' layout."
                )
            if column in missing:
                raise LandingError(
                    f"raw contract: required column '{column}' is missing in {shown}. Its columns"
                    f" are: {', '.join(all_columns)}. Rename the column in the export (names are"
                    " fixed, see docs/analytics-engineer.md, 'Raw data contract')."
                    + (
                        " If the names look garbled, the file is in another encoding: set var"
                        " csv_encoding (utf-8, latin-1 or utf-16)."
                        if file_format == "csv"
                        else ""
                    )
                )
        if missing:
            self.log(f"raw contract: {shown} has no column {', '.join(missing)}; read as empty")

    def table_types(self, name: str) -> list[tuple[str, str]] | None:
        exists = self.con.execute(
            "select count(*) from information_schema.tables where table_schema = ?"
            " and table_name = ? and table_catalog = current_database()",
            [self.schema, name],
        ).fetchone()[0]
        if not exists:
            return None
        return describe(self.con, self.table(name))

    def create_table(self, name: str, wanted: Mapping[str, str]) -> None:
        columns = ", ".join(f"{quoted(column)} {kind}" for column, kind in wanted.items())
        self.con.execute(f"create or replace table {self.table(name)} ({columns})")

    def insert(
        self,
        entity: Entity,
        file_format: str | None,
        files: list[str],
        current: Mapping[str, str],
        encodings: Mapping[str, str],
    ) -> int:
        """Copies the rows of `files` into the landing table; returns how many."""
        if not files:
            return 0
        target = self.table(entity.name)
        before = self.con.execute(f"select count(*) from {target}").fetchone()[0]
        fingerprint = (
            "case filename "
            + " ".join(f"when {sql_literal(f)} then {sql_literal(current[f])}" for f in files)
            + " end"
        )
        if file_format == "parquet":
            batches = [(parquet_reader(files), "file_row_number + 1")]
        else:
            # DuckDB has no file_row_number for CSV: one file per read, numbered in scan order
            # (row_number() over () streams and keeps insertion order).
            batches = [
                (csv_reader([file], encodings[file]), "row_number() over ()") for file in files
            ]
        for reader, row_number in batches:
            names = {header_key(name, entity): name for name, _ in describe(self.con, reader)}
            chosen = {
                column: names[key]
                for column in entity.columns
                if (key := self.header(entity, column, names)) is not None
            }
            selected = ", ".join(
                (f"cast({quoted(name)} as varchar)" if entity.as_text else quoted(name))
                + f" as {quoted(column)}"
                for column, name in chosen.items()
            )
            self.con.execute(
                f"insert into {target} by name select {selected + ', ' if selected else ''}"
                f"filename as _source_file, {row_number} as _source_row,"
                f" {fingerprint} as _source_fingerprint from {reader}"
            )
        return self.con.execute(f"select count(*) from {target}").fetchone()[0] - before


def connect(database: str | Path) -> duckdb.DuckDBPyConnection:
    """The warehouse file, with the settings profiles.yml gives dbt (UTC, memory limit)."""
    Path(database).parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(database))
    con.execute("set TimeZone = 'UTC'")
    con.execute(
        f"set memory_limit = {sql_literal(os.environ.get('DBT_DUCKDB_MEMORY_LIMIT', '3GB'))}"
    )
    return con


def land(
    database: str | Path,
    raw_data_path: str | Path,
    csv_encoding: object = "auto",
    schema: str = SOURCE_NAME,
    log: Callable[[str], None] = print,
) -> list[EntityLoad]:
    """Lands every entity of the raw contract from `raw_data_path` into `database`."""
    con = connect(database)
    try:
        return Landing(con, str(raw_data_path), csv_encoding, schema, log).run()
    finally:
        con.close()


def land_online_retail(
    database: str | Path,
    path: str | Path,
    csv_encoding: object = "auto",
    schema: str = SOURCE_NAME,
    log: Callable[[str], None] = print,
) -> list[EntityLoad]:
    """Lands the Online Retail file(s) at `path` (a file or glob) into `database`."""
    entity = online_retail_entity(str(path))
    con = connect(database)
    try:
        return Landing(con, "", csv_encoding, schema, log, {entity.name: entity}).run()
    finally:
        con.close()


def land_source(values: Mapping[str, Any], log: Callable[[str], None] = print) -> list[EntityLoad]:
    """Lands what the build's source_system reads (values: `settings`): the raw contract's files,
    the Online Retail file, or nothing (shopify: the loader's tables are read where they are)."""
    system = values["source_system"]
    if system == "raw":
        return land(
            values["database"],
            values["raw_data_path"],
            values["csv_encoding"],
            values["raw_schema"],
            log,
        )
    if system == "online_retail":
        return land_online_retail(
            values["database"],
            values["online_retail_path"],
            values["csv_encoding"],
            values["raw_schema"],
            log,
        )
    log(f"landing: source_system is {system}; no file to land")
    return []


def project_vars(project_file: Path = ROOT / "dbt_project.yml") -> dict[str, Any]:
    """The vars of dbt_project.yml that are plain values (a Jinja expression such as
    raw_data_path's env_var() default is left to the environment, as dbt renders it)."""
    if not project_file.exists():
        return {}
    declared = (yaml.safe_load(project_file.read_text()) or {}).get("vars") or {}
    return {
        name: value
        for name, value in declared.items()
        if value is not None and not (isinstance(value, str) and "{{" in value)
    }


def settings(
    vars_text: str | None,
    environ: Mapping[str, str] = os.environ,
    project: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The loader's settings as dbt reads them: --vars (YAML or JSON) first, then the vars of
    dbt_project.yml, then the environment (SEGMENT_RAW_DATA_PATH, SEGMENT_ONLINE_RETAIL_PATH,
    DBT_DUCKDB_PATH)."""
    given = yaml.safe_load(vars_text) if vars_text else {}
    if not isinstance(given, dict):
        raise LandingError(f"--vars must be a mapping of dbt vars, not {vars_text!r}")
    merged = {**(project_vars() if project is None else project), **given}
    return {
        "source_system": str(merged.get("source_system") or "raw").strip(),
        "raw_data_path": merged.get("raw_data_path")
        or environ.get("SEGMENT_RAW_DATA_PATH", "data/demo_store"),
        "online_retail_path": merged.get("online_retail_path")
        or environ.get("SEGMENT_ONLINE_RETAIL_PATH", ONLINE_RETAIL_DEFAULT_PATH),
        "csv_encoding": merged.get("csv_encoding") or "auto",
        "raw_schema": merged.get("raw_schema") or SOURCE_NAME,
        "database": environ.get("DBT_DUCKDB_PATH", "target/segment_warehouse.duckdb"),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="segment-warehouse-land",
        description="Land the raw-contract files (raw_data_path), or with source_system"
        " online_retail the Online Retail file (online_retail_path), in the warehouse's `raw`"
        " schema; run it before `dbt build`. Reads only new and changed files.",
    )
    parser.add_argument("--vars", help="the dbt vars of the build (raw_data_path, csv_encoding...)")
    parser.add_argument("--database", help="the DuckDB file (default: env DBT_DUCKDB_PATH)")
    parser.add_argument("--raw-data-path", help="the export folder (default: var raw_data_path)")
    parser.add_argument("--csv-encoding", help="auto, utf-8, latin-1 or utf-16 (var csv_encoding)")
    parser.add_argument(
        "--target",
        help="the profiles.yml target of the build (default: env DBT_TARGET, else dev); on a"
        " spark target the files land as Spark tables (segment_warehouse/spark.py)",
    )
    args = parser.parse_args(argv)
    try:
        values = settings(args.vars)
        values["database"] = args.database or values["database"]
        values["raw_data_path"] = args.raw_data_path or values["raw_data_path"]
        values["csv_encoding"] = args.csv_encoding or values["csv_encoding"]
        log = lambda line: print(line, flush=True)  # noqa: E731
        if target_type(args.target) == "spark":
            land_on_spark(values, log)
        else:
            land_source(values, log)
    except (LandingError, duckdb.Error, ValueError) as error:
        print(f"segment-warehouse-land: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
