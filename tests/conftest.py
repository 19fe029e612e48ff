"""Shared helpers and fixtures: build the dbt project into a throwaway DuckDB file and compare
its marts with the pandas reference (``tests/reference/segments.py``).

A dbt build costs ~10-20 s (parse, run), so every warehouse is built once per session or module,
and builds run in the background on a small pool (``builds`` fixture): a test module submits all of
its builds up front and each test waits only for the one it reads. Builds run in long-lived build
workers (``tests/dbt_worker.py``: the loader and dbt in process, imported once, the last parse of
the project reused when the vars are the same); ``SEGMENT_TEST_DBT_WORKER=0`` runs the commands
instead.

Helpers (import them with ``from conftest import ...``):

- ``build_warehouse(source, as_of, tmp, ...) -> Path``: ``dbt build`` into ``tmp/warehouse.duckdb``;
  ``source`` is a raw-contract folder or a dict of vars (e.g. the Online Retail ones);
- ``run_build(...) -> BuildResult``: the same without failing, for builds expected to fail;
- ``segments_frame(db)`` / ``reference_frame(data, as_of, **params)`` and
  ``assert_segments_match(db, expected)``: contact-by-contact comparison of the segment marts;
- ``mart_snapshot(db)`` / ``assert_snapshots_equal(a, b)``: sorted contents of every mart.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

try:
    from tests.reference import segments as ref
except ModuleNotFoundError:  # tests/ itself is on sys.path (no tests/__init__.py)
    from reference import segments as ref

ROOT = Path(__file__).resolve().parents[1]
DBT = ROOT / ".venv" / "bin" / "dbt"
THRESHOLDS_SEED = ROOT / "seeds" / "rfm_score_thresholds.csv"
PYCACHE = Path(tempfile.gettempdir()) / "segment-tests-pycache"
ONLINE_RETAIL_FILE = Path("/work/shared/data/online_retail/online_retail.parquet")

DEMO_CONTACTS = 3_000
DEMO_SEED = 11
DEMO_AS_OF = "2025-06-30"

#: The marts every build must produce (schema main).
SEGMENT_MARTS = (
    "customer_rfm",
    "customer_lifecycle",
    "customer_focus_segments",
    "customer_segments",
)
MARTS = (*SEGMENT_MARTS, "segment_membership", "data_quality_issues")

#: Columns compared with the reference, per mart.
SEGMENT_COLUMNS = (
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
)
RFM_COLUMNS = (
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
)
MART_COLUMNS: dict[str, tuple[str, ...]] = {
    "customer_segments": SEGMENT_COLUMNS,
    "customer_rfm": RFM_COLUMNS,
    "customer_lifecycle": (
        "as_of_date",
        "lifecycle_stage",
        "orders_count",
        "days_since_last_order",
    ),
    "customer_focus_segments": ("as_of_date", "focus_segment"),
}
_TIMESTAMP_COLUMNS = {"first_order_at", "last_order_at"}
_INTEGER_COLUMNS = {
    "recency_days",
    "frequency",
    "r_score",
    "f_score",
    "m_score",
    "orders_count",
    "days_since_last_order",
}

# dbt vars that are segment parameters of ``ref.compute_segments`` under the same name
REFERENCE_PARAMS = (
    "rfm_scoring",
    "rfm_window_days",
    "active_days",
    "lapsed_days",
    "loyal_min_orders",
    "new_subscriber_days",
    "first_buyer_days",
    "two_time_buyer_days",
    "one_time_lapse_days",
    "repeat_lapse_days",
)


# --------------------------------------------------------------------------------------------
# Building the warehouse
# --------------------------------------------------------------------------------------------


@dataclass
class BuildResult:
    """One ``dbt build``: where it wrote, how it ended and what it printed."""

    db_path: Path
    returncode: int
    output: str
    seconds: float
    command: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def tail(self, lines: int = 80) -> str:
        return "\n".join(self.output.splitlines()[-lines:])

    def check(self) -> Path:
        """The DuckDB path; an AssertionError with dbt's output when the build failed."""
        if not self.ok:
            raise AssertionError(
                f"dbt build failed (exit {self.returncode}, {self.seconds:.0f}s): "
                f"{' '.join(self.command)}\n--- dbt output (tail) ---\n{self.tail()}"
            )
        return self.db_path


def _dbt_executable() -> str:
    if DBT.exists():
        return str(DBT)
    found = shutil.which("dbt")
    if found is None:
        pytest.skip("dbt is not installed (expected .venv/bin/dbt)")
    return found


#: The test being set up or run (pytest_runtest_setup), to check that a test that builds is e2e.
_CURRENT_TEST: list[pytest.Item] = []


def _land_executable() -> str:
    """segment-warehouse-land beside dbt (the project's .venv/bin)."""
    return str(Path(_dbt_executable()).with_name("segment-warehouse-land"))


def pytest_runtest_setup(item: pytest.Item) -> None:
    _CURRENT_TEST[:] = [item]


def require_e2e_marker() -> None:
    """A build started for a test outside `pytest.mark.e2e` fails, naming the test: `make quick`
    runs `pytest -m 'not e2e'` and must build nothing."""
    if not _CURRENT_TEST or threading.current_thread() is not threading.main_thread():
        return
    item = _CURRENT_TEST[0]
    if item.get_closest_marker("e2e") is None:
        raise RuntimeError(
            f"{item.nodeid} builds the dbt project but is not marked e2e: add "
            "`pytestmark = pytest.mark.e2e` to its module (make quick leaves e2e tests out)"
        )


def run_build(
    source: str | Path | Mapping[str, Any] | None,
    as_of: str | dt.date | None,
    tmp: str | Path,
    *,
    vars: Mapping[str, Any] | None = None,
    with_tests: bool = True,
    unit_tests: bool = False,
    extra_args: Iterable[str] = (),
    timeout: int = 900,
    keep_warehouse: bool = False,
) -> BuildResult:
    """``segment-warehouse-land`` then ``dbt build`` of the project into ``tmp/warehouse.duckdb``;
    never raises on dbt errors (``output`` holds both commands' output).

    ``source``: a raw-contract folder (passed as env SEGMENT_RAW_DATA_PATH), or a dict of vars
    (e.g. ``{"source_system": "online_retail", "online_retail_path": FILE}``), or None for a build
    that reads no raw data (one that must fail on its vars before any SQL runs): nothing is
    landed, and the build does not depend on the default raw_data_path existing. ``as_of`` becomes
    var ``as_of_date``; ``vars`` are added last. Target and log paths live in ``tmp`` so that
    parallel builds do not share ``target/``. ``with_tests=False`` leaves out the data tests
    (values only: the variant builds of a store already built with its tests). The dbt unit tests
    run only with ``unit_tests=True`` (and ``with_tests``): they do not read the store, so under
    the default vars one run of them is enough, and ``make test``'s dbt build is that run; a build
    with a user's own vars sets it, to show that those vars do not fail them.
    ``extra_args`` go to ``dbt build``. Not ``--fail-fast``: with two threads, dbt-duckdb 1.11.1
    can crash while cancelling the other thread's query ("Connection already closed!") before
    printing the error a test looks for (seen once in CI). Without it a failing build also runs
    the nodes that do not depend on the failure: as fast alone (21 s), about 12 s more under the
    suite's load.
    ``keep_warehouse=True`` builds into the DuckDB file already there (an incremental build);
    by default the build starts from an empty warehouse.
    """
    require_e2e_marker()
    tmp = Path(tmp)
    tmp.mkdir(parents=True, exist_ok=True)
    db_path = tmp / "warehouse.duckdb"
    if not keep_warehouse:
        for stale in (db_path, db_path.with_name(db_path.name + ".wal")):
            stale.unlink(missing_ok=True)

    all_vars: dict[str, Any] = {}
    env = os.environ.copy()
    for name in ("DBT_PROFILES_DIR", "DBT_PROJECT_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH"):
        env.pop(name, None)
    # The Dagster build sets these in os.environ while it starts dbt (orchestration/dbt.py
    # as_of_date_env); a build started here from another thread at that moment must not inherit
    # them (CI once built edge_vars as of 2025-06-30 with the automation moment of the
    # orchestration test's 2025-07-01 01:00).
    for name in ("SEGMENT_AS_OF_DATE", "SEGMENT_AUTOMATION_AS_OF"):
        env.pop(name, None)
    env["DBT_DUCKDB_PATH"] = str(db_path)
    env["DBT_SEND_ANONYMOUS_USAGE_STATS"] = "false"
    # dbt imports thousands of modules: let them be byte-compiled once, outside the repo and the
    # venv, instead of at every build (the environment may set PYTHONDONTWRITEBYTECODE)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("PYTHONPYCACHEPREFIX", str(PYCACHE))
    if isinstance(source, Mapping):
        all_vars.update(source)
    elif source is not None:
        env["SEGMENT_RAW_DATA_PATH"] = str(Path(source).resolve())
    if as_of is not None:
        all_vars["as_of_date"] = str(as_of)
    all_vars.update(vars or {})

    command = [
        _dbt_executable(),
        "--no-use-colors",
        "build",
        "--profiles-dir",
        str(ROOT),
        "--project-dir",
        str(ROOT),
        "--target-path",
        str(tmp / "target"),
        "--log-path",
        str(tmp / "logs"),
    ]
    if all_vars:
        command += ["--vars", json.dumps(all_vars)]
    if not with_tests:
        command += ["--exclude", "resource_type:test", "resource_type:unit_test"]
    elif not unit_tests:
        command += ["--exclude", "resource_type:unit_test"]
    command += list(extra_args)
    # The raw files are landed first (segment-warehouse-land, as `make demo` and the Dagster job
    # do), with the build's vars; a landing that fails stops before dbt, with the loader's message.
    land_command = [_land_executable()]
    if all_vars:
        land_command += ["--vars", json.dumps(all_vars)]
    began = time.perf_counter()
    steps = [command] if source is None else [land_command, command]
    returncode, output = _run_steps(steps, env, timeout)
    result = BuildResult(db_path, returncode, output, time.perf_counter() - began, command)
    BUILD_LOG.append((tmp.name, result.seconds, result.returncode))
    return result


def _run_steps(steps: list[list[str]], env: dict[str, str], timeout: int) -> tuple[int, str]:
    """Runs the commands one after the other until one fails: (its exit code, what they printed).
    By default in a build worker (tests/dbt_worker.py: dbt and the loader in process, imported
    once per worker); with SEGMENT_TEST_DBT_WORKER=0 as the commands themselves."""
    if os.environ.get("SEGMENT_TEST_DBT_WORKER", "1") != "0":
        return _WORKERS.run(steps, env, timeout)
    output = ""
    returncode = 0
    try:
        for step in steps:
            completed = subprocess.run(
                step,
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
            returncode = completed.returncode
            output += completed.stdout + completed.stderr
            if returncode != 0:
                break
    except subprocess.TimeoutExpired as error:
        returncode = -1
        output += f"{error.stdout or ''}{error.stderr or ''}\n[timed out after {timeout}s]"
    return returncode, output


class _BuildWorkers:
    """Idle build workers (tests/dbt_worker.py), one taken per build: a thread that builds uses
    one of its own, so builds in parallel run in separate processes, as the commands would."""

    STEP_NAMES = {"dbt": "dbt", "segment-warehouse-land": "land"}

    def __init__(self) -> None:
        self._idle: list[subprocess.Popen[str]] = []
        self._lock = threading.Lock()

    def _start(self, env: dict[str, str]) -> subprocess.Popen[str]:
        python = Path(_dbt_executable()).with_name("python")
        return subprocess.Popen(
            [str(python), str(ROOT / "tests" / "dbt_worker.py")],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )

    def run(self, steps: list[list[str]], env: dict[str, str], timeout: int) -> tuple[int, str]:
        request = {
            "env": env,
            "steps": [[self.STEP_NAMES[Path(step[0]).name], step[1:]] for step in steps],
        }
        with self._lock:
            worker = self._idle.pop() if self._idle else None
        if worker is None or worker.poll() is not None:
            worker = self._start(env)
        answer: list[str] = []
        reader = threading.Thread(target=lambda: answer.append(worker.stdout.readline()))
        try:
            worker.stdin.write(json.dumps(request) + "\n")
            worker.stdin.flush()
            reader.start()
            reader.join(timeout)
        except BrokenPipeError:
            pass
        if not answer or not answer[0]:
            worker.kill()
            worker.wait()
            if reader.is_alive():
                return -1, f"[timed out after {timeout}s]"
            return -1, f"[the build worker died (exit {worker.returncode})]"
        with self._lock:
            self._idle.append(worker)
        reply = json.loads(answer[0])
        return reply["returncode"], reply["output"]

    def close(self) -> None:
        with self._lock:
            workers, self._idle = self._idle, []
        for worker in workers:
            worker.stdin.close()
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()


_WORKERS = _BuildWorkers()


def pytest_unconfigure(config: pytest.Config) -> None:
    _WORKERS.close()


#: (folder name, seconds, exit code) of every build of the session, for the terminal summary.
BUILD_LOG: list[tuple[str, float, int]] = []


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not BUILD_LOG:
        return
    usage_self = resource.getrusage(resource.RUSAGE_SELF)
    usage_children = resource.getrusage(resource.RUSAGE_CHILDREN)
    terminalreporter.section("dbt builds")
    for name, seconds, returncode in BUILD_LOG:
        status = "ok" if returncode == 0 else f"exit {returncode}"
        terminalreporter.write_line(f"{seconds:6.1f}s  {name} ({status})")
    terminalreporter.write_line(
        f"{len(BUILD_LOG)} builds, {sum(s for _, s, _ in BUILD_LOG):.0f}s of build time;"
        f" CPU: pytest {usage_self.ru_utime + usage_self.ru_stime:.0f}s,"
        f" dbt {usage_children.ru_utime + usage_children.ru_stime:.0f}s"
    )


def build_warehouse(
    source: str | Path | Mapping[str, Any] | None,
    as_of: str | dt.date | None,
    tmp: str | Path,
    **kwargs: Any,
) -> Path:
    """``run_build`` that must succeed: returns the DuckDB path (failure shows dbt's output)."""
    return run_build(source, as_of, tmp, **kwargs).check()


class BuildPool:
    """Runs builds (or any slow job) in background threads, once per key."""

    def __init__(self, workers: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="dbt-build")
        self._futures: dict[str, Future[Any]] = {}

    def submit(self, key: str, job: Callable[..., Any], *args: Any, **kwargs: Any) -> Future[Any]:
        require_e2e_marker()
        if key not in self._futures:
            self._futures[key] = self._executor.submit(job, *args, **kwargs)
        return self._futures[key]

    def result(self, key: str) -> Any:
        if key not in self._futures:
            raise KeyError(f"no build submitted under {key!r}")
        return self._futures[key].result()

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


# --------------------------------------------------------------------------------------------
# Reading the warehouse
# --------------------------------------------------------------------------------------------


def connect(db_path: str | Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(db_path), read_only=True)


def query(db_path: str | Path, sql: str, params: list[Any] | None = None) -> list[tuple]:
    with connect(db_path) as con:
        return con.execute(sql, params or []).fetchall()


def query_frame(db_path: str | Path, sql: str) -> pd.DataFrame:
    with connect(db_path) as con:
        return con.execute(sql).fetchdf()


def mart_names(db_path: str | Path) -> list[str]:
    """Every table of schema main (the marts), sorted."""
    rows = query(
        db_path,
        "select table_name from information_schema.tables"
        " where table_schema = 'main' and table_type = 'BASE TABLE' order by table_name",
    )
    return [row[0] for row in rows]


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def mart_snapshot(
    db_path: str | Path,
    tables: Iterable[str] | None = None,
    exclude_columns: Iterable[str] = (),
) -> dict[str, tuple[list[str], list[tuple]]]:
    """Sorted contents of each mart: ``{table: (columns, rows)}``; columns in exclude_columns
    (e.g. ``source_file``, which names the folder a store was read from) are left out."""
    excluded = set(exclude_columns)
    snapshot: dict[str, tuple[list[str], list[tuple]]] = {}
    with connect(db_path) as con:
        names = list(tables) if tables is not None else None
        if names is None:
            names = [
                row[0]
                for row in con.execute(
                    "select table_name from information_schema.tables where table_schema = 'main'"
                    " and table_type = 'BASE TABLE' order by table_name"
                ).fetchall()
            ]
        for table in names:
            columns = [
                row[0]
                for row in con.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = 'main' and table_name = ? order by ordinal_position",
                    [table],
                ).fetchall()
                if row[0] not in excluded
            ]
            select = ", ".join(f'"{c}"' for c in columns)
            rows = con.execute(f'select {select} from main."{table}" order by all').fetchall()
            snapshot[table] = (columns, [_hashable(row) for row in rows])
    return snapshot


def assert_snapshots_equal(
    actual: Mapping[str, tuple[list[str], list[tuple]]],
    expected: Mapping[str, tuple[list[str], list[tuple]]],
    what: str,
    show: int = 5,
) -> None:
    """Same marts, same columns, same rows (as multisets); shows the first differing rows."""
    assert sorted(actual) == sorted(expected), f"{what}: the marts differ"
    problems: list[str] = []
    for table in sorted(expected):
        columns, rows = actual[table]
        expected_columns, expected_rows = expected[table]
        if columns != expected_columns:
            problems.append(f"{table}: columns {columns} != {expected_columns}")
            continue
        if rows == expected_rows:
            continue
        only_actual = Counter(rows) - Counter(expected_rows)
        only_expected = Counter(expected_rows) - Counter(rows)
        lines = [
            f"{table}: {len(rows)} rows vs {len(expected_rows)} expected;"
            f" {sum(only_actual.values())} rows only here, {sum(only_expected.values())} only"
            f" in the expected build (columns: {', '.join(columns)})"
        ]
        lines += [f"    here:     {row}" for row in list(only_actual)[:show]]
        lines += [f"    expected: {row}" for row in list(only_expected)[:show]]
        problems.append("\n".join(lines))
    assert not problems, f"{what}:\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------
# Comparing segments with the reference
# --------------------------------------------------------------------------------------------


def _norm_timestamp(value: Any) -> pd.Timestamp | None:
    if ref._is_missing(value):
        return None
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp.as_unit("us")


def _norm_int(value: Any) -> int | None:
    return None if ref._is_missing(value) else int(value)


def _norm_money(value: Any) -> Decimal | None:
    if ref._is_missing(value):
        return None
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def _norm_date(value: Any) -> dt.date | None:
    if ref._is_missing(value):
        return None
    return pd.Timestamp(value).date()


def _norm_text(value: Any) -> str | None:
    return None if ref._is_missing(value) else str(value)


def _normalise(column: str, value: Any) -> Any:
    if column in _TIMESTAMP_COLUMNS:
        return _norm_timestamp(value)
    if column in _INTEGER_COLUMNS:
        return _norm_int(value)
    if column == "monetary":
        return _norm_money(value)
    if column == "as_of_date":
        return _norm_date(value)
    return _norm_text(value)


def _records(rows: Iterable[tuple], columns: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``{contact_id: {column: normalised value}}`` from rows of (contact_id, *columns)."""
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        contact_id = str(row[0])
        assert contact_id not in out, f"contact {contact_id!r} appears twice"
        out[contact_id] = {c: _normalise(c, v) for c, v in zip(columns, row[1:], strict=True)}
    return out


def warehouse_records(
    db_path: str | Path, mart: str, columns: tuple[str, ...] | None = None
) -> dict[str, dict[str, Any]]:
    """One mart's rows by contact, normalised (money read as exact text, not as a float)."""
    columns = columns or MART_COLUMNS[mart]
    select = ", ".join(
        "cast(monetary as varchar) as monetary" if c == "monetary" else c for c in columns
    )
    return _records(query(db_path, f"select contact_id, {select} from main.{mart}"), columns)


def reference_params(vars: Mapping[str, Any] | None) -> dict[str, Any]:
    """The ``compute_segments`` keyword arguments that match a dict of dbt vars."""
    params = {k: v for k, v in (vars or {}).items() if k in REFERENCE_PARAMS}
    if params.get("rfm_scoring") == "thresholds":
        params["thresholds"] = pd.read_csv(THRESHOLDS_SEED)
    return params


def reference_records(
    data: Mapping[str, pd.DataFrame], as_of: str | dt.date, vars: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The reference's segments by contact, normalised like ``warehouse_records``."""
    frame = ref.compute_segments(dict(data), as_of, **reference_params(vars))
    rows = frame[["contact_id", *SEGMENT_COLUMNS]].itertuples(index=False, name=None)
    return _records(rows, SEGMENT_COLUMNS)


def segment_differences(
    actual: Mapping[str, Mapping[str, Any]],
    expected: Mapping[str, Mapping[str, Any]],
    columns: Iterable[str],
    show: int = 10,
) -> list[str]:
    """Human-readable differences between two ``{contact_id: {column: value}}`` maps."""
    columns = list(columns)
    problems: list[str] = []
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    if missing:
        problems.append(
            f"{len(missing)} contacts missing from the warehouse, e.g. {missing[:show]}"
        )
    if extra:
        problems.append(f"{len(extra)} contacts not in the reference, e.g. {extra[:show]}")
    differing: list[tuple[str, list[str]]] = []
    per_column: Counter[str] = Counter()
    for contact_id in sorted(set(actual) & set(expected)):
        diffs = [c for c in columns if actual[contact_id][c] != expected[contact_id][c]]
        if diffs:
            per_column.update(diffs)
            differing.append((contact_id, diffs))
    if differing:
        problems.append(
            f"{len(differing)} of {len(set(actual) & set(expected))} contacts differ"
            f" (by column: {dict(per_column)}); first ones (warehouse vs reference):"
        )
        for contact_id, diffs in differing[:show]:
            detail = "; ".join(
                f"{c}: {actual[contact_id][c]!r} vs {expected[contact_id][c]!r}" for c in diffs
            )
            problems.append(f"  {contact_id}: {detail}")
    return problems


def assert_segments_match(
    db_path: str | Path,
    expected: Mapping[str, Mapping[str, Any]],
    *,
    rfm_window: bool = False,
    exclude_contacts: Iterable[str] = (),
    what: str = "warehouse vs reference",
) -> None:
    """Every segment mart agrees with the reference, contact by contact.

    With an RFM window, ``customer_rfm.first_order_at/last_order_at`` are the window's, so they
    are compared through ``customer_segments`` (all history) only.
    """
    excluded = set(exclude_contacts)
    expected = {k: v for k, v in expected.items() if k not in excluded}
    assert expected, f"{what}: the reference has no contacts (nothing to compare)"
    problems: list[str] = []
    for mart, columns in MART_COLUMNS.items():
        if rfm_window and mart == "customer_rfm":
            columns = tuple(c for c in columns if c not in _TIMESTAMP_COLUMNS)
        actual = {
            k: v for k, v in warehouse_records(db_path, mart, columns).items() if k not in excluded
        }
        found = segment_differences(actual, expected, columns)
        if found:
            problems.append(f"[{mart}]")
            problems.extend(found)
    assert not problems, f"{what}:\n" + "\n".join(problems)


# --------------------------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------------------------


_BUILD_MODULES = pytest.StashKey[list]()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Remembers the test modules that define ``submit_builds(builds, build_root)`` and have a
    selected e2e test (a module may also hold tests that build nothing: `-m 'not e2e'` builds
    nothing)."""
    modules: list[Any] = []
    for item in items:
        module = getattr(item, "module", None)
        if item.get_closest_marker("e2e") is None:
            continue
        if hasattr(module, "submit_builds") and module not in modules:
            modules.append(module)
    config.stash[_BUILD_MODULES] = modules


@pytest.fixture(scope="session", autouse=True)
def _prefetch_builds(request: pytest.FixtureRequest) -> None:
    """Submits the builds of every selected module when the session starts, in module order, so
    that the pool keeps working while earlier tests run."""
    modules = request.config.stash.get(_BUILD_MODULES, [])
    if not modules:
        return
    builds = request.getfixturevalue("builds")
    build_root = request.getfixturevalue("build_root")
    # on behalf of the modules' e2e tests, whichever test happens to run first
    current = _CURRENT_TEST[:]
    _CURRENT_TEST.clear()
    try:
        for module in modules:
            module.submit_builds(builds, build_root)
    finally:
        _CURRENT_TEST[:] = current


@pytest.fixture(scope="session")
def builds() -> Iterable[BuildPool]:
    """The background build pool (2 workers by default: env SEGMENT_TEST_BUILD_WORKERS)."""
    pool = BuildPool(int(os.environ.get("SEGMENT_TEST_BUILD_WORKERS", "2")))
    yield pool
    pool.shutdown()


@pytest.fixture(scope="session")
def build_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A session folder for stores and warehouses built in the background."""
    return tmp_path_factory.mktemp("builds")


def generate_demo_store(out: Path, fmt: str = "parquet", **kwargs: Any) -> Path:
    from segment_warehouse.demo_store import generate

    settings = {"contacts": DEMO_CONTACTS, "seed": DEMO_SEED, "as_of": DEMO_AS_OF, "fmt": fmt}
    settings.update(kwargs)
    generate(out, **settings)
    return out


def submit_demo_build(builds: BuildPool, build_root: Path) -> Future[Any]:
    """The demo store (3,000 contacts, seed 11, parquet) and its full ``dbt build``."""

    def job() -> tuple[Path, Path]:
        store = generate_demo_store(build_root / "demo_store")
        return store, build_warehouse(store, DEMO_AS_OF, build_root / "demo_warehouse")

    return builds.submit("demo", job)


@pytest.fixture(scope="session")
def demo_store(builds: BuildPool, build_root: Path) -> Path:
    """A generated store: 3,000 contacts, seed 11, as of 2025-06-30, parquet parts."""
    submit_demo_build(builds, build_root)
    return builds.result("demo")[0]


@pytest.fixture(scope="session")
def demo_warehouse(builds: BuildPool, build_root: Path) -> Path:
    """The DuckDB file of the demo store's ``dbt build`` as of 2025-06-30."""
    submit_demo_build(builds, build_root)
    return builds.result("demo")[1]


@pytest.fixture(scope="session")
def demo_reference_data(demo_store: Path) -> dict[str, pd.DataFrame]:
    """The demo store as the reference reads it."""
    return ref.load_raw_contract(demo_store)
