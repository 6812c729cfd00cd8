"""drift's pictures in the HTML report: for each flagged numeric column, the baseline's bin shares
beside the date's (a small inline SVG bar chart, self-contained); for each flagged category
column, a share table. Only the flagged columns: an OK day shows none."""

from __future__ import annotations

import html
from typing import Any, Mapping

from feature_store_health.checks.verdict import Verdict

__all__ = ["distribution_html"]

BAR_WIDTH, GAP, HEIGHT = 14, 10, 90
BASELINE_COLOR, TODAY_COLOR = "#9e9e9e", "#d32f2f"


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _chart(entry: Mapping[str, Any]) -> str:
    shares, baseline, labels = entry["shares"], entry["baseline_shares"], entry["bins"]
    top = max([*shares, *baseline, 1.0])
    step = 2 * BAR_WIDTH + GAP
    width = step * len(labels) + GAP
    bars = []
    for index, (label, today, usual) in enumerate(zip(labels, shares, baseline)):
        x = GAP + index * step
        for offset, value, color, who in ((0, usual, BASELINE_COLOR, "baseline"), (BAR_WIDTH, today, TODAY_COLOR, "this date")):
            height = HEIGHT * value / top
            bars.append(f'<rect x="{x + offset}" y="{HEIGHT - height:.1f}" width="{BAR_WIDTH - 1}" height="{height:.1f}" '
                        f'fill="{color}"><title>{_e(label)}: {who} {value:.1f} %</title></rect>')
    return (f'<svg class="drift-bins" data-column="{_e(entry["column"])}" width="{width}" height="{HEIGHT + 4}" '
            f'viewBox="0 0 {width} {HEIGHT + 4}" role="img" aria-label="{_e(entry["column"])}: bin shares, '
            f'baseline against this date">{"".join(bars)}'
            f'<line x1="0" y1="{HEIGHT}" x2="{width}" y2="{HEIGHT}" stroke="#555"/></svg>')


def _share_table(entry: Mapping[str, Any]) -> str:
    rows = "".join(f"<tr><td>{_e(label)}</td><td>{today:.1f} %</td><td>{usual:.1f} %</td></tr>"
                   for label, today, usual in zip(entry["bins"], entry["shares"], entry["baseline_shares"]))
    return (f'<table class="drift-shares" data-column="{_e(entry["column"])}"><thead><tr><th>value</th>'
            f"<th>this date</th><th>baseline</th></tr></thead><tbody>{rows}</tbody></table>")


def distribution_html(verdict: Verdict) -> str:
    if verdict.dimension != "drift":
        return ""
    affected = set((verdict.details or {}).get("columns_affected") or ())
    parts = []
    for entry in (verdict.details or {}).get("columns", ()):
        if entry["column"] not in affected:
            continue
        legend = (f'<span style="color:{BASELINE_COLOR}">■</span> baseline · '
                  f'<span style="color:{TODAY_COLOR}">■</span> this date')
        picture = _chart(entry) if entry["kind"] == "numeric" else _share_table(entry)
        bins = "" if entry["kind"] != "numeric" else (
            "<p style=\"font-size:11px\">bins, left to right: " + _e(" · ".join(entry["bins"])) + "</p>")
        parts.append(f"<h4>{_e(entry['column'])}: score {entry['score']:.1f}</h4><p>{legend}</p>{picture}{bins}")
    return "".join(parts)
