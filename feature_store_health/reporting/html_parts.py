"""The pieces every part of the HTML report is built from: the severity colours, the inline style,
escaping, a table, a severity badge and the banner's status icon (html_report.py and
html_sections.py assemble them)."""

from __future__ import annotations

import html
from typing import Any, Iterable, Sequence

from feature_store_health.checks.verdict import Severity

__all__ = ["SEVERITY_COLORS", "STYLE", "status_icon_svg"]

SEVERITY_COLORS = {
    Severity.OK: "#1a7f37", Severity.WARNING: "#9a6700", Severity.ERROR: "#cf222e",
    Severity.CRITICAL: "#8b0000", Severity.NOT_EVALUATED: "#6e40c9", Severity.SKIPPED: "#57606a",
}
STYLE = (
    "<style>.fsh table{border-collapse:collapse;margin:6px 0}.fsh td,.fsh th{border:1px solid #d0d7de;"
    "padding:3px 8px;text-align:left;font-size:13px}.fsh th{background:#f6f8fa}.fsh .sev{font-weight:bold}"
    ".fsh h3{margin:14px 0 4px}</style>"
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


# The banner's status icon drawn inline (a white shape on the banner's colour): no emoji font needed
_ICON_SHAPES = {
    "HEALTHY": '<path d="M5 10.5l3.2 3.2L15 7" fill="none" stroke="#fff" stroke-width="2.4"/>',
    "DEGRADED": '<path d="M10 4.5v7" stroke="#fff" stroke-width="2.4"/><circle cx="10" cy="15" r="1.5" fill="#fff"/>',
    "UNHEALTHY": '<path d="M6.5 6.5l7 7M13.5 6.5l-7 7" stroke="#fff" stroke-width="2.4"/>',
    "CRITICAL": '<path d="M10 4.5v7" stroke="#fff" stroke-width="2.4"/><circle cx="10" cy="15" r="1.5" fill="#fff"/>'
                '<circle cx="10" cy="10" r="8.2" fill="none" stroke="#fff" stroke-width="1.2"/>',
    "INCOMPLETE": '<path d="M8 6v8M12 6v8" stroke="#fff" stroke-width="2.4"/>',
}


def status_icon_svg(status: str) -> str:
    """An inline SVG icon for an overall status, labelled with the status for screen readers."""
    return (f'<svg class="status-icon" role="img" aria-label="{_e(status)}" width="20" height="20" viewBox="0 0 20 20" '
            f'style="vertical-align:-3px">{_ICON_SHAPES.get(status, "")}</svg>')


def _badge(severity: Severity) -> str:
    return f'<span class="sev" style="color:{SEVERITY_COLORS[severity]}">{_e(severity.value)}</span>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], raw_columns: Iterable[int] = ()) -> str:
    raw = set(raw_columns)
    head = "".join(f"<th>{_e(header)}</th>" for header in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if index in raw else _e(cell)}</td>" for index, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
