"""Write the report of a serving folder: `segments_<as_of_date>.html` and `index.html`."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from segment_warehouse.report.data import ReportData
from segment_warehouse.report.page import render_index, render_page
from segment_warehouse.report.sections import SECTIONS

REPORT_NAME = re.compile(r"^segments_(\d{4}-\d{2}-\d{2})\.html$")


@dataclass(frozen=True)
class Report:
    path: Path
    index: Path
    as_of_date: dt.date
    sections: tuple[str, ...]
    charts: int
    seconds: float


def report_name(as_of: dt.date) -> str:
    return f"segments_{as_of.isoformat()}.html"


def _write(path: Path, text: str) -> None:
    """Written aside, then renamed over: a reader never sees half a page."""
    aside = path.with_name(f".{path.name}.tmp")
    aside.write_text(text, encoding="utf-8")
    os.replace(aside, path)


def write_index(out: Path) -> Path:
    reports = [
        (dt.date.fromisoformat(match.group(1)), path.name)
        for path in out.iterdir()
        if (match := REPORT_NAME.match(path.name))
    ]
    index = out / "index.html"
    _write(index, render_index(reports, dt.datetime.now(dt.UTC)))
    return index


def build_report(serving: Path, out: Path, warehouse: Path | None = None) -> Report:
    """The report of the date published in `serving` (history from `warehouse`, if given)."""
    began = time.perf_counter()
    out = Path(out)
    with ReportData(Path(serving), warehouse) as data:
        sections = [(module.ID, module.TITLE, module.render(data)) for module in SECTIONS]
        as_of = data.as_of_date
        sources = f"Marts from {data.serving}"
        if data.history_source:
            sources += f"; history from the {data.history_source}"
        elif data.warehouse_problem:
            sources += f"; no history ({data.warehouse_problem})"
    generated = dt.datetime.now(dt.UTC)
    page = render_page(
        title=f"Segments as of {as_of}",
        subtitle=f"{sources}. Written {generated:%Y-%m-%d %H:%M} UTC.",
        sections=sections,
        footer="segment-warehouse report",
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / report_name(as_of)
    _write(path, page)
    index = write_index(out)
    return Report(
        path=path,
        index=index,
        as_of_date=as_of,
        sections=tuple(sid for sid, _, _ in sections),
        charts=page.count('class="plotly-graph-div"'),
        seconds=time.perf_counter() - began,
    )
