"""The segment report, checked as a person sees it: built by the Dagster assets from a small store
built on two dates, opened in headless Chromium (Debian's `chromium`), and every number of the
RFM section read from the rendered DOM and compared with SQL on the serving file.

The page records every uncaught error, rejected promise, console.error and blocked request in
`#report-status` once loaded (segment_warehouse/report/page.py); a test proves that a thrown error
and a request to the internet are caught. The browser tests are marked `browser`
(`pytest -m "not browser"` leaves them out); without chromium they fail, they never skip.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from activation_data import write_config
from conftest import BuildPool, generate_demo_store, query, run_build

from activation.config import load_config
from activation.sync import sync_destination
from orchestration.publishing import SERVING_DATABASE, published_segments
from orchestration.report import segment_report
from segment_warehouse.report import build_report, report_name
from segment_warehouse.report.cli import main as report_cli
from segment_warehouse.report.sections.movement import GONE, NEW, compare_date

# Builds the dbt project: left out of `make quick` (pytest -m 'not e2e').
pytestmark = pytest.mark.e2e

BEFORE, AS_OF = dt.date(2025, 5, 31), dt.date(2025, 6, 30)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--virtual-time-budget=15000",
)


def _build_two_days(build_root: Path) -> tuple[Path, Path]:
    """A 600-contact store built as of BEFORE, then AS_OF into the same warehouse (history)."""
    store = generate_demo_store(build_root / "report_store", contacts=600, seed=5, as_of=AS_OF)
    folder = build_root / "report_warehouse"
    run_build(store, BEFORE, folder, with_tests=False).check()
    warehouse = run_build(store, AS_OF, folder, with_tests=False, keep_warehouse=True).check()
    return store, warehouse


def submit_builds(builds: BuildPool, build_root: Path) -> None:
    builds.submit("report", _build_two_days, build_root)


@pytest.fixture(scope="module")
def published(
    builds: BuildPool, build_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict]:
    """published_segments then segment_report, materialised by Dagster on the two-day build."""
    submit_builds(builds, build_root)
    _, warehouse = builds.result("report")
    root = tmp_path_factory.mktemp("report")
    serving, report = root / "serving", root / "report"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("DBT_DUCKDB_PATH", str(warehouse))
        monkeypatch.setenv("SEGMENT_SERVING_DIR", str(serving))
        monkeypatch.delenv("SEGMENT_REPORT_DIR", raising=False)
        result = dg.materialize(
            [published_segments, segment_report], instance=dg.DagsterInstance.ephemeral()
        )
    assert result.success
    metadata = result.asset_materializations_for_node("segment_report")[0].metadata
    yield {
        "warehouse": warehouse,
        "serving": serving,
        "report": report,
        "page": report / report_name(AS_OF),
        "metadata": metadata,
    }


# --------------------------------------------------------------------------------------------
# Chromium and the rendered DOM
# --------------------------------------------------------------------------------------------


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "chromium not found: install Debian's chromium (apt-get install chromium; .ci/run "
            'does), or leave the browser tests out with -m "not browser"'
        )
    return found


def render(page: Path, tmp_path: Path, *args: str) -> tuple[str, float]:
    """Chromium's DOM of the page after its scripts ran (--dump-dom), and the seconds it took."""
    began = time.perf_counter()
    completed = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            *args,
            "--dump-dom",
            page.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    seconds = time.perf_counter() - began
    assert completed.returncode == 0, f"chromium exit {completed.returncode}:\n{completed.stderr}"
    assert "<html" in completed.stdout, f"chromium dumped no DOM:\n{completed.stderr[-2000:]}"
    return completed.stdout, seconds


class Dom(HTMLParser):
    """The parts of a dumped DOM the tests read: tables by id (each row's attributes and cells,
    each cell's attributes, text and span texts by class) and elements by id."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tables: dict[str, list[dict]] = {}
        self.elements: dict[str, dict] = {}
        self._table: str | None = None
        self._row: dict | None = None
        self._cell: dict | None = None
        self._span: str | None = None
        self._element: dict | None = None
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes and tag != "table":
            self._element = {"tag": tag, "attrs": attributes, "text": ""}
            self.elements[attributes["id"]] = self._element
        if tag == "table" and "id" in attributes:
            self._table = attributes["id"]
            self.tables[self._table] = []
        elif tag == "tr" and self._table:
            self._row = {"attrs": attributes, "cells": []}
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"tag": tag, "attrs": attributes, "text": "", "spans": {}}
        elif tag == "span" and self._cell is not None:
            self._span = attributes.get("class", "")
            self._cell["spans"][self._span] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag == "tr" and self._row is not None:
            if self._table:
                self.tables[self._table].append(self._row)
            self._row = None
        elif tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row["cells"].append(self._cell)
            self._cell = None
        elif tag == "span":
            self._span = None
        elif self._element is not None and tag == self._element["tag"]:
            self._element = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell["text"] += data
            if self._span is not None:
                self._cell["spans"][self._span] += data
        if self._element is not None:
            self._element["text"] += data

    def body_rows(self, table_id: str) -> list[dict]:
        assert table_id in self.tables, f"no <table id={table_id!r}> in the rendered page"
        return [
            row
            for row in self.tables[table_id]
            if any(cell["tag"] == "td" for cell in row["cells"])
            and "empty" not in row["attrs"].values()
        ]


def assert_loaded_without_errors(dom: Dom) -> dict:
    status = dom.elements.get("report-status")
    assert status is not None, "the page has no #report-status element"
    attrs = status["attrs"]
    assert attrs.get("data-state") == "loaded", f"the page's load script did not finish: {attrs}"
    errors = json.loads(status["text"] or "[]")
    assert attrs["data-errors"] == "0" and not errors, f"errors in the page: {errors}"
    assert attrs["data-charts"] == attrs["data-charts-drawn"], attrs
    return attrs


def shown_number(text: str) -> Decimal:
    return Decimal(text.strip().replace(",", ""))


# --------------------------------------------------------------------------------------------
# Without a browser: files, sources, fallbacks
# --------------------------------------------------------------------------------------------


def test_the_dagster_asset_writes_a_page_and_the_index(published: dict) -> None:
    page, report = published["page"], published["report"]
    assert page.exists() and (report / "index.html").exists()
    # SEGMENT_REPORT_DIR unset: report/ beside the serving folder
    assert report == published["serving"].parent / "report"
    assert published["metadata"]["as_of_date"].value == str(AS_OF)
    text = page.read_text(encoding="utf-8")
    assert published["metadata"]["charts"].value == text.count('class="plotly-graph-div"') >= 15
    # plotly.js is in the file; nothing is loaded from elsewhere, and the CSP forbids it anyway
    assert "<script src" not in text and "<link" not in text
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    index = (report / "index.html").read_text(encoding="utf-8")
    assert f'href="{report_name(AS_OF)}"' in index
    # both dates of the history are in the movement section
    assert f'data-before="{BEFORE}" data-after="{AS_OF}"' in text


def test_movement_compares_with_the_last_date_a_month_back_else_the_earliest() -> None:
    days = [dt.date(2025, 4, 30), dt.date(2025, 5, 31), dt.date(2025, 6, 29), AS_OF]
    assert compare_date(days, AS_OF) == dt.date(2025, 5, 31)
    assert compare_date(days[2:], AS_OF) == dt.date(2025, 6, 29)
    assert compare_date([AS_OF], AS_OF) is None
    # dates after the published one (a later build not yet published) are never compared
    assert compare_date([*days, dt.date(2025, 7, 31)], AS_OF) == dt.date(2025, 5, 31)


def test_the_build_job_writes_the_report() -> None:
    from orchestration.definitions import defs
    from orchestration.jobs import BUILD_JOB_NAME

    job = defs.resolve_job_def(BUILD_JOB_NAME)
    keys = job.asset_layer.asset_graph.get_all_asset_keys()
    assert segment_report.key in keys
    graph = defs.resolve_asset_graph()
    assert published_segments.key in graph.get(segment_report.key).parent_keys
    assert graph.get(segment_report.key).group_name == "serving"


def test_without_the_warehouse_the_history_sections_say_why(
    published: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report_cli(["--serving", str(published["serving"]), "--out", str(tmp_path)]) == 0
    assert "wrote" in capsys.readouterr().out
    text = (tmp_path / report_name(AS_OF)).read_text(encoding="utf-8")
    assert "Movement needs the history tables (no warehouse file given (--warehouse))" in text
    assert "The activation ledger was not read: no warehouse file given" in text
    # the marts are still all there
    assert 'id="rfm-groups"' in text and 'id="rfm-heatmap"' in text


def test_activation_says_no_sync_yet_when_nothing_was_synced(published: dict) -> None:
    text = published["page"].read_text(encoding="utf-8")
    assert "No sync yet" in text


def test_a_missing_serving_folder_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report_cli(["--serving", str(tmp_path / "nowhere"), "--out", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "nowhere does not exist: publish the marts first" in error
    (tmp_path / "half").mkdir()
    assert report_cli(["--serving", str(tmp_path / "half"), "--out", str(tmp_path)]) == 2
    assert "lacks customer_segments.parquet" in capsys.readouterr().err


def test_a_locked_warehouse_leaves_the_marts_in_the_report(published: dict, tmp_path: Path) -> None:
    # a build holding the warehouse's write lock (another process) must not stop the report
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(published["warehouse"], copy)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]);"
            " print('locked', flush=True); time.sleep(60)",
            str(copy),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        report = build_report(published["serving"], tmp_path / "out", copy)
    finally:
        holder.kill()
        holder.wait()
    text = report.path.read_text(encoding="utf-8")
    assert "could not be read" in text and 'id="rfm-groups"' in text


# --------------------------------------------------------------------------------------------
# In Chromium
# --------------------------------------------------------------------------------------------


@pytest.mark.browser
def test_numbers_shown_equal_sql_on_the_serving_file(published: dict, tmp_path: Path) -> None:
    text, seconds = render(published["page"], tmp_path)
    dom = Dom(text)
    status = assert_loaded_without_errors(dom)
    assert int(status["data-charts"]) == published["metadata"]["charts"].value
    # plotly draws its mode bar, without the button that uploads a chart to Plotly's cloud
    assert 'data-title="Download plot as a PNG"' in text
    assert 'data-title="Share chart' not in text
    serving = published["serving"] / SERVING_DATABASE

    # contacts (and revenue) per RFM group: the text shown and the data attribute
    expected = {
        segment: (contacts, revenue)
        for segment, contacts, revenue in query(
            serving,
            "select rfm_segment, count(*), coalesce(sum(monetary), 0)"
            " from customer_segments group by all",
        )
    }
    shown = {}
    for row in dom.body_rows("rfm-groups"):
        cells = {cell["attrs"].get("data-field"): cell for cell in row["cells"]}
        contacts = shown_number(cells["contacts"]["text"])
        assert contacts == Decimal(cells["contacts"]["attrs"]["data-value"])
        revenue = shown_number(cells["revenue"]["text"])
        shown[row["attrs"]["data-segment"]] = (int(contacts), revenue)
    assert set(shown) == set(expected)
    for segment, (contacts, revenue) in expected.items():
        assert shown[segment][0] == contacts, segment
        assert shown[segment][1] == Decimal(revenue).quantize(Decimal("0.01")), segment

    # every cell of the 5 x 5 grid
    cells = {
        (int(row[0]), int(row[1])): row[2:]
        for row in query(
            serving,
            "select r_score, f_score, count(*), coalesce(sum(monetary), 0),"
            " string_agg(distinct rfm_segment, ' / ')"
            " from customer_segments where r_score is not null group by all",
        )
    }
    grid = [cell for row in dom.body_rows("rfm-heatmap") for cell in row["cells"]]
    grid = [cell for cell in grid if cell["tag"] == "td"]
    assert len(grid) == 25
    for cell in grid:
        key = (int(cell["attrs"]["data-r"]), int(cell["attrs"]["data-f"]))
        contacts, revenue, segment = cells.get(key, (0, Decimal(0), None))
        assert shown_number(cell["spans"]["cell-contacts"]) == contacts, key
        assert int(cell["attrs"]["data-contacts"]) == contacts, key
        assert shown_number(cell["spans"]["cell-revenue"]) == Decimal(revenue).quantize(
            Decimal("0.01")
        ), key
        assert Decimal(cell["attrs"]["data-revenue"]) == Decimal(revenue), key
        if segment is not None:
            assert cell["spans"]["cell-name"] == segment, key
        else:  # an empty cell still names its group, from the warehouse's rfm_segment_map
            assert cell["spans"]["cell-name"] not in ("", "–"), key
    assert sum(int(cell["attrs"]["data-contacts"]) for cell in grid) == sum(
        value[0] for value in cells.values()
    )

    # the overview's contacts and the lifecycle flows, against the warehouse's history
    total = query(serving, "select count(*) from customer_segments")[0][0]
    assert shown_number(dom.elements["kpi-contacts"]["text"].split("C")[0]) == total
    flows = {
        (row["attrs"]["data-from"], row["attrs"]["data-to"]): int(
            row["cells"][2]["attrs"]["data-value"]
        )
        for row in dom.body_rows("movement-lifecycle")
    }
    with duckdb.connect(str(published["warehouse"]), read_only=True) as con:
        history = con.execute(
            "select contact_id, as_of_date, segment from main.segment_membership_history"
            " where segment_family = 'lifecycle'"
        ).fetchall()
    before = {contact: segment for contact, day, segment in history if day == BEFORE}
    after = {contact: segment for contact, day, segment in history if day == AS_OF}
    expected_flows: dict[tuple[str, str], int] = {}
    for contact in set(before) | set(after):
        key = (before.get(contact, NEW), after.get(contact, GONE))
        expected_flows[key] = expected_flows.get(key, 0) + 1
    assert flows == expected_flows
    print(f"chromium rendered the report in {seconds:.1f}s")


@pytest.mark.browser
@pytest.mark.parametrize(
    ("injected", "caught"),
    [
        ("<script>throw new Error('deliberate failure')</script>", "deliberate failure"),
        (
            "<script>Promise.reject(new Error('rejected on purpose'))</script>",
            "rejected on purpose",
        ),
        (
            '<img src="https://example.com/pixel.png" alt="">',
            "blocked request: https://example.com",
        ),
        ('<div class="plotly-graph-div"></div>', "1 of"),
    ],
    ids=["thrown", "rejected", "internet", "chart-not-drawn"],
)
def test_a_script_error_or_a_request_fails_the_check(
    published: dict, tmp_path: Path, injected: str, caught: str | None
) -> None:
    broken = tmp_path / "broken.html"
    page = published["page"].read_text(encoding="utf-8")
    broken.write_text(page.replace("</body>", injected + "</body>"), encoding="utf-8")
    dom = Dom(render(broken, tmp_path)[0])
    with pytest.raises(AssertionError, match="errors in the page"):
        assert_loaded_without_errors(dom)
    assert caught in dom.elements["report-status"]["text"]


def test_activation_shows_the_last_sync_of_each_destination(
    published: dict, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(published["warehouse"], warehouse)
    config = write_config(
        tmp_path / "destinations.yml",
        [
            {
                "name": "lists",
                "type": "files",
                "segments": {"families": ["lifecycle"]},
                "options": {"path": str(tmp_path / "lists")},
            }
        ],
    )
    destination = load_config(config).destinations[0]
    sync_destination(warehouse, destination)
    sync_destination(warehouse, destination)  # nothing changed: the last sync sends nothing
    with duckdb.connect(str(warehouse), read_only=True) as con:
        runs = con.execute(
            "select rows_sent, status from activation.sync_runs order by started_at"
        ).fetchall()
    assert len(runs) == 2 and runs[0][0] > 0
    report = build_report(published["serving"], tmp_path / "out", warehouse)
    rows = Dom(report.path.read_text(encoding="utf-8")).body_rows("activation-syncs")
    assert [row["attrs"]["data-destination"] for row in rows] == ["lists"]
    cells = {cell["attrs"].get("data-field"): cell for cell in rows[0]["cells"]}
    assert cells["status"]["text"] == runs[-1][1]
    assert int(cells["rows_sent"]["attrs"]["data-value"]) == runs[-1][0]


def test_data_quality_counts_rows_by_entity_and_reason(published: dict, tmp_path: Path) -> None:
    serving = tmp_path / "serving"
    shutil.copytree(published["serving"], serving)
    issues = serving / "data_quality_issues.parquet"
    with duckdb.connect() as con:
        # the published file's own columns, three issues in them
        con.execute(f"create table issues as select * from read_parquet('{issues}') limit 0")
        con.execute(
            "insert into issues (entity, reason, outcome, source_file, as_of_date) values"
            " ('orders', 'negative_amount', 'row_rejected', 'orders.csv', ?),"
            " ('orders', 'negative_amount', 'row_rejected', 'orders.csv', ?),"
            " ('contacts', 'duplicate_key', 'duplicate_dropped', 'contacts.csv', ?)",
            [AS_OF] * 3,
        )
        con.execute(f"copy issues to '{issues}' (format parquet)")
    report = build_report(serving, tmp_path / "out")
    rows = Dom(report.path.read_text(encoding="utf-8")).body_rows("data-quality")
    counts = {
        (row["attrs"]["data-entity"], row["attrs"]["data-reason"]): int(
            row["cells"][3]["attrs"]["data-value"]
        )
        for row in rows
    }
    assert counts == {("contacts", "duplicate_key"): 1, ("orders", "negative_amount"): 2}
