"""serving.duckdb opens in the DuckDB releases BI tools ship (1.1 to 2.0), read-only, while the
project publishes again.

Each older DuckDB is installed from the package index into a folder of its own (pip --target) and
run in a subprocess of this Python, so the test reads the file exactly as that release would.
The warehouse published here is a small DuckDB file made in the test: what is checked is the
serving file's format and views, not the marts (the orchestration tests publish real builds).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from orchestration.publishing import SERVING_DATABASE, publish

#: DuckDB releases BI tools ship: 1.1 (older duckdb-engine installs), 1.4 (Evidence, DBeaver and
#: Metabase drivers at the time of writing), and 2.0, this project's own.
OLD_RELEASES = ("1.1.3", "1.4.2")
TABLES = ("customer_segments", "segment_membership", "data_quality_issues")

READER = """
import json, sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
counts = {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in sys.argv[2:]}
print(json.dumps({"version": duckdb.__version__, "counts": counts}))
"""

# Holds the file open read-only and answers "count <table>" lines on stdin until "quit".
HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("open", duckdb.__version__, flush=True)
for line in sys.stdin:
    if line.strip() == "quit":
        break
    table = line.split()[1]
    print(con.execute(f'select count(*) from "{table}"').fetchone()[0], flush=True)
"""


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """{version: folder with that duckdb installed}, from the package index."""
    root = tmp_path_factory.mktemp("duckdb-releases")
    folders = {}
    for version in OLD_RELEASES:
        folder = root / version
        completed = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--target", str(folder), f"duckdb=={version}"],
            capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert completed.returncode == 0, (
            f"could not install duckdb=={version} from the package index:\n{completed.stderr}"
        )
        folders[version] = folder
    return folders


def _env(folder: Path) -> dict[str, str]:
    env = os.environ.copy()
    env["PYTHONPATH"] = str(folder)  # ahead of this venv's site-packages (DuckDB 2.0)
    return env


def read_with(folder: Path, database: Path, tables: tuple[str, ...]) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", READER, str(database), *tables],
        capture_output=True, text=True, timeout=120, env=_env(folder), check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-2000:]
    return json.loads(completed.stdout)


def make_warehouse(path: Path, contacts: int) -> None:
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute(
            "create table customer_segments as select 'c' || range as contact_id,"
            " 'Champions' as rfm_segment, date '2025-06-30' as as_of_date,"
            f" cast(range as decimal(18, 4)) as monetary from range({contacts})"
        )
        con.execute(
            "create table segment_membership as select contact_id, 'rfm' as segment_family,"
            " rfm_segment as segment from customer_segments"
        )
        con.execute(
            "create table data_quality_issues as select 'orders' as entity, 1 as source_row,"
            " {'a': 1} as raw_row from range(2)"
        )


def test_every_release_opens_the_serving_file_read_only(
    tmp_path: Path, releases: dict[str, Path]
) -> None:
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    make_warehouse(warehouse, 5)
    publish(warehouse, serving, TABLES)
    expected = {"customer_segments": 5, "segment_membership": 5, "data_quality_issues": 2}
    for version, folder in releases.items():
        result = read_with(folder, serving / SERVING_DATABASE, TABLES)
        assert result == {"version": version, "counts": expected}
    with duckdb.connect(str(serving / SERVING_DATABASE), read_only=True) as con:
        assert {t: con.execute(f"select count(*) from {t}").fetchone()[0] for t in TABLES} == (
            expected
        )


def test_a_serving_file_of_the_new_format_is_rewritten(
    tmp_path: Path, releases: dict[str, Path]
) -> None:
    """A serving.duckdb published before this change (DuckDB 2.0's default format, which 1.x
    refuses) is written again in the compatible format by the next publication."""
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    make_warehouse(warehouse, 3)
    publish(warehouse, serving, TABLES)
    (serving / SERVING_DATABASE).unlink()
    with duckdb.connect(str(serving / SERVING_DATABASE)) as con:  # DuckDB 2.0's own format
        for table in TABLES:
            con.execute(
                f"create view {table} as select * from"
                f" read_parquet('{(serving / f'{table}.parquet').resolve()}')"
            )
    old = releases[OLD_RELEASES[0]]
    refused = subprocess.run(
        [sys.executable, "-c", READER, str(serving / SERVING_DATABASE)],
        capture_output=True, text=True, timeout=120, env=_env(old), check=False,
    )  # fmt: skip
    assert refused.returncode != 0 and "version" in refused.stderr.lower()
    result = publish(warehouse, serving, TABLES)
    assert sorted(result["views_created"]) == sorted(TABLES)
    assert read_with(old, serving / SERVING_DATABASE, TABLES)["counts"]["customer_segments"] == 3
    # The next publication finds it right and leaves it alone.
    assert publish(warehouse, serving, TABLES)["views_created"] == []


def test_an_old_reader_holding_the_file_sees_the_next_publication(
    tmp_path: Path, releases: dict[str, Path]
) -> None:
    """A BI tool on DuckDB 1.1 keeps serving.duckdb open while the warehouse is rebuilt and
    published again: the publication succeeds, and the reader's next query sees the new rows."""
    warehouse, serving = tmp_path / "warehouse.duckdb", tmp_path / "serving"
    make_warehouse(warehouse, 4)
    publish(warehouse, serving, TABLES)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(serving / SERVING_DATABASE)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_env(releases[OLD_RELEASES[0]]),
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdin is not None
        assert holder.stdout.readline().split() == ["open", OLD_RELEASES[0]]
        holder.stdin.write("count customer_segments\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "4"
        began = time.monotonic()
        make_warehouse(warehouse, 9)  # the rebuild
        assert publish(warehouse, serving, TABLES)["views_created"] == []
        assert time.monotonic() - began < 60
        holder.stdin.write("count customer_segments\n")
        holder.stdin.flush()
        assert holder.stdout.readline().strip() == "9"
        holder.stdin.write("quit\n")
        holder.stdin.flush()
        assert holder.wait(timeout=30) == 0, holder.stderr.read() if holder.stderr else ""
    finally:
        if holder.poll() is None:
            holder.kill()
