"""reports/dashboard.html: the ops dashboard, rebuilt by every archived run from the history alone.

Per table: the last 30 days' incidents (opened, resolved, time to resolve, alerts sent) and
landings, the open incidents with their age, a calendar of the last 90 check dates × the table's
dimensions (each cell the newest verdict's severity, its message on hover), and the landing time
by day against ready_by. One file, inline CSS and SVG, no script, nothing fetched. Times are
shown in the configured zone (America/New_York); the numbers come from dashboard_data.py.
"""

from __future__ import annotations

import datetime as dt
import html
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence
from zoneinfo import ZoneInfo

from feature_store_health.alerting.incidents import Incident, IncidentState
from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.plan import applicable_dimensions
from feature_store_health.checks.verdict import Severity
from feature_store_health.clock import today_in
from feature_store_health.reporting.dashboard_data import (
    CALENDAR_DAYS, EXPIRED, NEVER_JUDGED, NOT_LANDED, SUMMARY_DAYS, Cell, LandingDay, Summary, age_text, cell_of,
    incident_states, landing_of, read_dashboard_history, summarize, window,
)
from feature_store_health.reporting.files import write_atomic
from feature_store_health.reporting.html_parts import SEVERITY_COLORS

if TYPE_CHECKING:
    from feature_store_health.config import TableConfig
    from feature_store_health.run import HealthRun

__all__ = ["DASHBOARD", "render_dashboard", "write_dashboard"]

DASHBOARD = "dashboard.html"
CELL_W, CELL_H, GAP = 11, 13, 1          # one calendar cell; the landing chart shares its columns
LABEL_W, TOP = 170, 18                   # dimension labels on the left, month labels on top
CHART_H = 150
FILLS = {severity.value: color for severity, color in SEVERITY_COLORS.items()} | {
    NOT_LANDED: "url(#not-landed)", EXPIRED: "url(#expired)", NEVER_JUDGED: "#ffffff"}
LEGEND = [("OK", "OK"), ("WARNING", "WARNING"), ("ERROR", "ERROR"), ("CRITICAL", "CRITICAL"),
          ("NOT_EVALUATED", "not evaluated"), ("SKIPPED", "skipped"), (NOT_LANDED, "not landed"),
          (EXPIRED, "expired partition"), (NEVER_JUDGED, "never judged")]
STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#1f2328}h1{margin:0 0 4px}
h2{margin:28px 0 6px;border-bottom:1px solid #d0d7de}h3{margin:14px 0 4px;font-size:15px}
table{border-collapse:collapse}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left;font-size:13px}
th{background:#f6f8fa}.sev{font-weight:bold}.nowrap{white-space:nowrap}.muted{color:#57606a;font-size:13px}
.cell{stroke:#d0d7de;stroke-width:.5}svg text{font-family:system-ui,sans-serif;font-size:10px;fill:#57606a}svg .label{font-size:11px;fill:#1f2328}
.legend span{display:inline-block;margin-right:12px;font-size:12px}.legend svg{vertical-align:middle;margin-right:3px}"""
# the two marks that are no severity, shared by every SVG of the page
DEFS = ('<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
        '<pattern id="not-landed" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
        '<rect width="4" height="4" fill="#ffffff"/><rect width="2" height="4" fill="#57606a"/></pattern>'
        '<pattern id="expired" width="4" height="4" patternUnits="userSpaceOnUse">'
        '<rect width="4" height="4" fill="#eaeef2"/><circle cx="2" cy="2" r="0.9" fill="#8c959f"/></pattern>'
        '</defs></svg>')


def _e(text: Any) -> str:
    return html.escape(str(text))


def write_dashboard(run: "HealthRun", root: Path) -> str:
    """Read the history (one narrow read) and write ``root/dashboard.html``; the console line
    saying what it cost. Raises HistoryError (not readable) or OSError (not written)."""
    started = time.perf_counter()
    history, last = read_dashboard_history(run)
    read_seconds = time.perf_counter() - started
    page = render_dashboard(history, run.config.tables, last, run.started_at, run.config.timezone,
                            run.history_store.location if run.history_store is not None else "")
    write_atomic(root / DASHBOARD, page)
    values = sum(len(found) for found in history.values())
    return (f"Dashboard: {root / DASHBOARD} ({values} values of {len(history)} table-dates read in "
            f"{read_seconds:.2f} s, built in {time.perf_counter() - started - read_seconds:.2f} s)")


def render_dashboard(history: Mapping[tuple[str, dt.date], Mapping[str, Any]], tables: Sequence["TableConfig"],
                     last: dt.date, now: dt.datetime, timezone: str, location: str) -> str:
    zone = ZoneInfo(timezone)
    dates = window(last, CALENDAR_DAYS)
    states = incident_states(history)
    built = now.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
    sections = "\n".join(_table_section(table, history, states, dates, now, timezone) for table in tables)
    legend = "".join(f'<span data-legend="{state}"><svg width="12" height="12"><rect width="11" height="11" '
                     f'fill="{FILLS[state]}" stroke="#d0d7de"/></svg>{_e(text)}</span>' for state, text in LEGEND)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Feature store health: ops dashboard</title>
<style>{STYLE}</style></head>
<body>{DEFS}<h1>Feature store health: ops dashboard</h1>
<p class="muted">Check dates {dates[0]} … {dates[-1]}, from the history ({_e(location)}) alone. Built {_e(built)};
times in {_e(timezone)}. Summaries count the incidents of the last {SUMMARY_DAYS} check
dates. <a href="index.html">All runs</a></p>
<p class="legend">{legend}</p>
{sections}
</body></html>
"""


def _table_section(table: "TableConfig", history: Mapping[tuple[str, dt.date], Mapping[str, Any]],
                   states: Mapping[Incident, IncidentState], dates: list[dt.date], now: dt.datetime,
                   timezone: str) -> str:
    landings = {day: landing_of(history.get((table.name, day))) for day in dates}
    recent = dates[-SUMMARY_DAYS:]
    summary = summarize(table, recent, states, landings, timezone)
    open_ones = sorted(((incident, state) for incident, state in states.items()
                        if incident.table == table.name and state.is_open and incident.check_date in set(dates)),
                       key=lambda item: (item[1].opened_at, item[0].check_date, item[0].dimension))
    today = today_in(timezone, now)
    return (f'<section class="dashboard-table" data-table="{_e(table.name)}"><h2>{_e(table.name)}</h2>'
            f"<h3>Last {SUMMARY_DAYS} days ({recent[0]} … {recent[-1]})</h3>{_summary_table(summary, table)}"
            f"<h3>Last {CALENDAR_DAYS} days: the newest verdict of each date and dimension</h3>"
            f"{_calendar(table, history, dates, today)}"
            f"<h3>Landing time (first landing, {_e(timezone)}) against ready_by {table.ready_by:%H:%M}</h3>"
            f"{_landing_chart(table, landings, dates, timezone)}"
            f"<h3>Open incidents ({len(open_ones)})</h3>{_open_table(open_ones, now, timezone)}</section>")


def _duration(delta: dt.timedelta | None) -> str:
    return "—" if delta is None else age_text(delta)


def _summary_table(summary: Summary, table: "TableConfig") -> str:
    channels = "".join(f", {_e(name)} {count}" for name, count in summary.channels.items())
    rows = [("incidents opened", summary.opened), ("resolved", summary.resolved), ("still open", summary.still_open),
            ("time to resolve (median)", _duration(summary.resolve_median)),
            ("time to resolve (worst)", _duration(summary.resolve_worst)),
            ("alerts sent (incidents alerted)", f"{summary.alerts} (Slack webhook {summary.alerted}{channels})"),
            (f"game days landed after ready_by {table.ready_by:%H:%M}", f"{summary.late} of {summary.due}"),
            ("game days not landed", summary.never_landed)]
    body = "".join(f'<tr data-stat="{_e(name)}"><th>{_e(name)}</th><td>{_e(value)}</td></tr>' for name, value in rows)
    return f'<table class="summary">{body}</table>'


def _open_table(open_ones: list[tuple[Incident, IncidentState]], now: dt.datetime, timezone: str) -> str:
    if not open_ones:
        return '<p class="muted">None.</p>'
    zone = ZoneInfo(timezone)
    rows = []
    for incident, state in open_ones:
        severity = Severity(state.severity)
        alerted = "not alerted" if state.alerted_at is None else \
            f"{state.alerted_severity} at {state.alerted_at.astimezone(zone):%Y-%m-%d %H:%M}"
        channels = ", ".join(sorted(state.channels or {}))
        label = DIMENSIONS[incident.dimension].label if incident.dimension in DIMENSIONS else incident.dimension
        rows.append(
            f'<tr class="open-incident" data-dimension="{_e(incident.dimension)}" data-date="{incident.check_date}">'
            f'<td class="nowrap">{incident.check_date}</td><td class="nowrap">{_e(label)}</td>'
            f'<td class="sev" style="color:{SEVERITY_COLORS[severity]}">{_e(state.severity)}</td>'
            f'<td class="nowrap">{state.opened_at.astimezone(zone):%Y-%m-%d %H:%M}</td>'
            f'<td class="age nowrap">{_e(age_text(now - state.opened_at))}</td>'
            f"<td>{_e(alerted)}{_e(', ' + channels) if channels else ''}</td><td>{_e(state.message)}</td></tr>")
    return ("<table><thead><tr><th>date</th><th>dimension</th><th>severity</th><th>opened</th><th>age</th>"
            f"<th>alerted</th><th>message</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _x(index: int) -> int:
    return LABEL_W + index * (CELL_W + GAP)


def _month_labels(dates: list[dt.date]) -> str:
    return "".join(f'<text x="{_x(index)}" y="11">{day:%b %d}</text>' for index, day in enumerate(dates)
                   if index == 0 or day.day == 1)


def _calendar(table: "TableConfig", history: Mapping[tuple[str, dt.date], Mapping[str, Any]],
              dates: list[dt.date], today: dt.date) -> str:
    dimensions = applicable_dimensions(table)
    width = _x(len(dates)) + 4
    height = TOP + len(dimensions) * (CELL_H + GAP) + 2
    parts = [f'<svg class="calendar" data-table="{_e(table.name)}" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img">', _month_labels(dates)]
    for row, dimension in enumerate(dimensions):
        y = TOP + row * (CELL_H + GAP)
        label = DIMENSIONS[dimension].label
        parts.append(f'<text class="label" x="{LABEL_W - 6}" y="{y + CELL_H - 3}" text-anchor="end">{_e(label)}</text>')
        for column, day in enumerate(dates):
            cell = cell_of(history.get((table.name, day)), dimension, table, day, today)
            parts.append(_cell(cell, day, dimension, label, _x(column), y))
    parts.append("</svg>")
    return "".join(parts)


def _cell(cell: Cell, day: dt.date, dimension: str, label: str, x: int, y: int) -> str:
    shown = {NOT_LANDED: "not landed", EXPIRED: "expired", NEVER_JUDGED: "never judged"}.get(cell.state, cell.state)
    hover = f"{day} · {label}: {shown}" + (f" — {cell.message}" if cell.message and cell.state != NEVER_JUDGED else "")
    return (f'<rect class="cell" data-date="{day}" data-dimension="{dimension}" data-state="{cell.state}" '
            f'x="{x}" y="{y}" width="{CELL_W}" height="{CELL_H}" fill="{FILLS[cell.state]}"><title>{_e(hover)}</title></rect>')


def _clock(hours: float) -> str:
    minutes = round(hours * 60)
    day, minutes = divmod(minutes, 24 * 60)
    text = f"{minutes // 60:02d}:{minutes % 60:02d}"
    return text if day == 0 else f"{text} (+{day} d)"


def _landing_chart(table: "TableConfig", landings: Mapping[dt.date, LandingDay | None], dates: list[dt.date],
                   timezone: str) -> str:
    ready = table.ready_by.hour + table.ready_by.minute / 60
    hours = {day: landing.hours(day, timezone) for day, landing in landings.items() if landing is not None}
    top = max([ready + 2, *(min(value, 24.0) for value in hours.values() if value is not None)])
    top = float(int(top) + 1)   # a whole hour above the latest landing shown (a later one is clipped)
    width = _x(len(dates)) + 90

    def y(value: float) -> float:
        return round(TOP + CHART_H - max(0.0, min(value, top)) / top * CHART_H, 1)

    parts = [f'<svg class="landing" data-table="{_e(table.name)}" width="{width}" height="{TOP + CHART_H + 20}" '
             f'viewBox="0 0 {width} {TOP + CHART_H + 20}" role="img">', _month_labels(dates)]
    for tick in range(0, int(top) + 1, 2):
        parts.append(f'<line x1="{LABEL_W}" x2="{_x(len(dates))}" y1="{y(tick)}" y2="{y(tick)}" stroke="#eaeef2"/>'
                     f'<text x="{LABEL_W - 6}" y="{y(tick) + 3}" text-anchor="end">{_clock(tick)}</text>')
    parts.append(f'<line class="ready-by" x1="{LABEL_W}" x2="{_x(len(dates))}" y1="{y(ready)}" y2="{y(ready)}" '
                 f'stroke="#cf222e" stroke-dasharray="4 3"><title>ready_by {table.ready_by:%H:%M}</title></line>'
                 f'<text x="{_x(len(dates)) + 4}" y="{y(ready) + 3}" style="fill:#cf222e">ready_by {table.ready_by:%H:%M}</text>')
    for index, day in enumerate(dates):
        landing = landings.get(day)
        cx = _x(index) + CELL_W / 2
        if landing is None or not landing.due:
            continue   # not recorded, or no games: nothing was due
        value = hours.get(day)
        if value is None:
            parts.append(f'<text class="landing-point" data-date="{day}" data-state="not-landed" x="{cx}" y="{TOP + 8}" '
                         f'text-anchor="middle" style="fill:#8b0000;font-size:11px">×<title>{day}: not landed</title></text>')
            continue
        late = landing.late(day, table, timezone)
        color = "#cf222e" if late else "#1a7f37"
        what = f"{day}: landed {_clock(value)}" + (f", after ready_by {table.ready_by:%H:%M}" if late else "")
        parts.append(f'<circle class="landing-point" data-date="{day}" data-state="{"late" if late else "on-time"}" '
                     f'data-hours="{value:.3f}" cx="{cx}" cy="{y(value)}" r="3" fill="{color}"><title>{_e(what)}</title></circle>')
    parts.append("</svg>")
    return "".join(parts)
