"""The report's sections, in page order. A section is a module here with:

- ``ID``: the anchor of the section (``<section id=...>``), stable: tests and links use it;
- ``TITLE``: its heading;
- ``render(data: ReportData) -> str``: its HTML body (tables, charts, notices).

To add a section (e.g. predictive scores or automations), add a module and list it below.
"""

from types import ModuleType

from segment_warehouse.report.sections import (
    activation,
    data_quality,
    engagement,
    focus,
    movement,
    overview,
    profile,
    rfm,
    scores,
    trends,
)

SECTIONS: tuple[ModuleType, ...] = (
    overview,
    rfm,
    movement,
    trends,
    focus,
    engagement,
    scores,
    profile,
    data_quality,
    activation,
)
