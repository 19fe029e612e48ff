"""The HTML page around the sections: plotly.js inlined once, styles, navigation, and the status
element a browser test reads (script errors, charts drawn).

The page loads nothing: plotly.js is in the file and a Content-Security-Policy forbids every
request (a chart that tried to fetch a map or a font would be reported as an error), so it opens
from a file, a mail attachment or a share without a server or internet.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import plotly
from plotly.offline import get_plotlyjs

from segment_warehouse.report.html import esc

CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
    "style-src 'unsafe-inline'; img-src data: blob:; font-src data:"
)

# Before any other script: every uncaught error, rejected promise, console.error and blocked
# request is collected in window.__reportErrors.
ERROR_CAPTURE = """
window.__reportErrors = [];
window.addEventListener('error', function (event) {
  var where = event.filename ? ' at ' + event.filename + ':' + event.lineno : '';
  var what = event.message || (event.target && (event.target.src || event.target.href)) || 'error';
  window.__reportErrors.push('error: ' + what + where);
}, true);
window.addEventListener('unhandledrejection', function (event) {
  var reason = event.reason;
  window.__reportErrors.push('unhandled rejection: ' + String(reason && (reason.stack || reason)));
});
window.addEventListener('securitypolicyviolation', function (event) {
  window.__reportErrors.push(
    'blocked request: ' + event.blockedURI + ' (' + event.violatedDirective + ')');
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__reportErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();
"""

# `?section=<id>` shows that section alone (a link to one section, or its screenshot).
SECTION_FILTER = """
(function () {
  var match = /[?&]section=([A-Za-z0-9_-]+)/.exec(window.location.search);
  if (!match) { return; }
  document.querySelectorAll('main > section').forEach(function (section) {
    if (section.id !== match[1]) { section.hidden = true; }
  });
})();
"""

# After load: how many charts there are and how many plotly drew, and the errors, written into
# #report-status (data-state="loaded" once done); shown as a banner when anything failed.
STATUS_SCRIPT = """
window.addEventListener('load', function () {
  setTimeout(function () {
    var status = document.getElementById('report-status');
    var charts = document.querySelectorAll('.plotly-graph-div');
    var drawn = 0;
    charts.forEach(function (chart) { if (chart.querySelector('.main-svg')) { drawn += 1; } });
    var errors = window.__reportErrors.slice();
    if (drawn !== charts.length) {
      errors.push((charts.length - drawn) + ' of ' + charts.length + ' charts were not drawn');
    }
    status.setAttribute('data-charts', String(charts.length));
    status.setAttribute('data-charts-drawn', String(drawn));
    status.setAttribute('data-errors', String(errors.length));
    status.textContent = JSON.stringify(errors);
    status.setAttribute('data-state', 'loaded');
    if (errors.length) { status.hidden = false; }
  }, 200);
});
"""

STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0; color: #1c2833;
       background: #f4f6f7; }
header { background: #1f4e79; color: white; padding: 18px 32px; }
header h1 { margin: 0 0 4px; font-size: 24px; }
header p { margin: 0; opacity: 0.85; }
nav { background: white; border-bottom: 1px solid #d5d8dc; padding: 8px 32px; position: sticky;
      top: 0; z-index: 10; }
nav a { margin-right: 16px; color: #1f4e79; text-decoration: none; font-size: 14px; }
main { padding: 8px 32px 32px; }
section { background: white; border-radius: 6px; padding: 8px 20px 20px; margin: 16px 0;
          box-shadow: 0 1px 2px rgba(0,0,0,0.08); }
h2 { border-bottom: 2px solid #2e86c1; padding-bottom: 4px; }
.kpis { display: flex; gap: 16px; flex-wrap: wrap; margin: 12px 0; }
.kpi { background: #eaf2f8; border-radius: 6px; padding: 12px 20px; min-width: 180px; }
.kpi-value { font-size: 26px; font-weight: 600; }
.kpi-label { font-size: 13px; color: #566573; }
table.data { border-collapse: collapse; margin: 12px 0; font-size: 13px; }
table.data caption { text-align: left; font-weight: 600; padding: 4px 0; }
table.data th, table.data td { border-bottom: 1px solid #e5e8e8; padding: 4px 10px;
                               text-align: left; }
table.data th { background: #f8f9f9; }
table.data .num { text-align: right; font-variant-numeric: tabular-nums; }
table.grid td { text-align: center; min-width: 110px; }
table.grid span { display: block; }
.cell-name { font-weight: 600; }
.cell-revenue { color: #566573; font-size: 12px; }
.two-col { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
.notice { background: #fef9e7; border-left: 4px solid #f4d03f; padding: 8px 12px; }
.note { color: #566573; font-size: 13px; }
#report-status { background: #fdedec; border-left: 4px solid #cb4335; padding: 8px 12px;
                 margin: 8px 32px; white-space: pre-wrap; }
footer { color: #808b96; font-size: 12px; padding: 0 32px 24px; }
details summary { cursor: pointer; color: #1f4e79; margin: 8px 0; }
"""


def render_page(
    title: str,
    subtitle: str,
    sections: Sequence[tuple[str, str, str]],
    footer: str,
) -> str:
    """The whole document; sections are (id, title, body html)."""
    nav = "".join(f'<a href="#{esc(sid)}">{esc(stitle)}</a>' for sid, stitle, _ in sections)
    body = "".join(
        f'<section id="{esc(sid)}"><h2>{esc(stitle)}</h2>{html}</section>'
        for sid, stitle, html in sections
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{STYLE}</style>"
        f"<script>{ERROR_CAPTURE}</script>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        "</head><body>"
        f"<header><h1>{esc(title)}</h1><p>{esc(subtitle)}</p></header>"
        f"<nav>{nav}</nav>"
        '<div id="report-status" data-state="pending" hidden></div>'
        f"<main>{body}</main>"
        f"<footer>{esc(footer)} · plotly.js {esc(plotly.__version__)} (plotly.py) inlined</footer>"
        f"<script>{SECTION_FILTER}{STATUS_SCRIPT}</script>"
        "</body></html>\n"
    )


def render_index(reports: Sequence[tuple[dt.date, str]], generated_at: dt.datetime) -> str:
    """index.html: one link per report file, newest as-of date first."""
    items = "".join(
        f'<li data-as-of="{day}"><a href="{esc(name)}">Segments as of {day}</a></li>'
        for day, name in sorted(reports, reverse=True)
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>Segment reports</title><style>{STYLE}</style></head><body>"
        "<header><h1>Segment reports</h1><p>One page per published as-of date</p></header>"
        f'<main><section><ul id="reports">{items}</ul></section></main>'
        f"<footer>index written {generated_at:%Y-%m-%d %H:%M:%S} UTC · "
        f"{json.dumps(len(reports))} report(s)</footer></body></html>\n"
    )
