"""Trend charts for the weekly report: six panels per table, one inline SVG embedded in the HTML.

Drawn by svg_plot.py as plain SVG text, no third-party import (matplotlib cost a weekly run ~1.1 s
to import and draw). A value the trend does not have (None) leaves a gap, never a zero.
"""

from __future__ import annotations

import html
from typing import Sequence

from feature_store_health.checks.trend import TrendRow, configured_fields
from feature_store_health.reporting.svg_plot import (LEFT, LEGEND_LINE, RIGHT, TITLE_BAND, Panel, Series,
                                                     draw_panel, legend_lines)

__all__ = ["trend_chart_svg"]

WIDTH, COLUMNS = 1150, 3
TOP, PLOT_HEIGHT, X_LABELS = 36, 160, 44   # the figure title; each plot; its rotated date labels
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
# matplotlib's default colour cycle (tab10), so the charts read as they did
CYCLE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
NULL_TIER = "#9e9e9e"
NOT_CONFIGURED = "not configured for this table"


def trend_chart_svg(rows: Sequence[TrendRow], title: str, table) -> str:
    """Six panels for ``table`` (its TableConfig); one whose dimension the table does not configure
    says so instead of drawing an empty line."""
    dates = [row.check_date.strftime("%m-%d") + ("*" if row.from_history else "") for row in rows]
    panels = _panels(rows, configured_fields(table))
    cell = WIDTH / COLUMNS
    parts, top = [], TOP
    for first in range(0, len(panels), COLUMNS):
        row_panels = panels[first:first + COLUMNS]
        # the tallest legend of the row sets where its plots start, so the three line up
        band = max(len(legend_lines(p, cell - LEFT - RIGHT)) for p in row_panels) * LEGEND_LINE
        for column, panel in enumerate(row_panels):
            parts.append(draw_panel(panel, dates, column * cell, top, cell, band, PLOT_HEIGHT))
        top += TITLE_BAND + band + PLOT_HEIGHT + X_LABELS
    height = round(top + 6)
    label = f"{title}: " + ", ".join(panel.title for panel in panels)
    head = [f'<svg xmlns="http://www.w3.org/2000/svg" class="trend-chart" role="img" aria-label="{_e(label)}" '
            f'width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{FONT}" '
            f'style="max-width:100%;height:auto">',
            f'<text class="figure-title" x="{WIDTH / 2:g}" y="22" font-size="14" text-anchor="middle">{_e(title)}</text>']
    if any(row.from_history for row in rows):
        head.append(f'<text x="{WIDTH - 14}" y="22" font-size="9" text-anchor="end" fill="#666">'
                    f'* a date the warehouse no longer holds: its recorded numbers</text>')
    return "".join(head + parts) + "</svg>"


def _panels(rows: Sequence[TrendRow], shown: frozenset[str]) -> list[Panel]:
    def series(label: str, values: Sequence[float | None], color: str, marker: str = "circle") -> Series:
        return Series(label, list(values), color, marker)

    shares = [series("% production ready", (r.ready_pct for r in rows), CYCLE[0])] if "ready_pct" in shown else []
    if "complete_pct" in shown:
        shares.append(series("% rows complete", (r.complete_pct for r in rows), CYCLE[1], "square"))
    features = list(rows[0].null_pct) if rows else []
    tiers = list(rows[0].tiers) if rows else []
    return [
        Panel("Coverage: rows and players per date",
              bars=[series("rows", (r.rows for r in rows), "#4c78a8")],
              lines=[series("players", (r.players for r in rows), "#f58518")]),
        Panel("Readiness and completeness (%)", lines=shares, y_range=(0, 101), tooltip_unit=" %",
              note=None if shares else NOT_CONFIGURED),
        Panel("NULL rate per critical feature (%)", tooltip_unit=" %", note=None if features else NOT_CONFIGURED,
              lines=[series(f, (r.null_pct[f] for r in rows), CYCLE[i % len(CYCLE)], "dot")
                     for i, f in enumerate(features)]),
        Panel("Quality tier distribution (rows)", note=None if "tiers" in shown and tiers else NOT_CONFIGURED,
              bars=[series(tier, (r.tiers[tier] for r in rows),
                           NULL_TIER if tier == "NULL" else CYCLE[i % len(CYCLE)]) for i, tier in enumerate(tiers)]),
        Panel("Processing duration, MAX - MIN processed_at (min)", legend=False, tooltip_unit=" min",
              bars=[series("processing", (r.processing_minutes for r in rows), "#54a24b")],
              note=None if "processing_minutes" in shown else NOT_CONFIGURED),
        # a ratio near 3.5: its axis fits the data (as matplotlib's did), not 0..4
        Panel("Downstream conversion (active predictions / rows)", legend=False, zero_based=False,
              lines=[series("conversion", (r.conversion for r in rows), "#e45756")],
              note=None if "conversion" in shown else NOT_CONFIGURED),
    ]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)
