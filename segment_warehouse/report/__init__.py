"""The segment report: static HTML pages (plotly, inlined) built from the serving folder.

`build_report(serving, out, warehouse)` writes `segments_<as_of_date>.html` and `index.html`;
the sections are modules of `segment_warehouse.report.sections`.
"""

from segment_warehouse.report.build import Report, build_report, report_name
from segment_warehouse.report.data import ReportData, ReportError

__all__ = ["Report", "ReportData", "ReportError", "build_report", "report_name"]
