"""Trend charts for the weekly report: matplotlib, rendered to SVG text embedded in the HTML.

matplotlib is imported here only, when a multi-date HTML report is written (it costs ~0.5 s).
"""

from __future__ import annotations

import io
import re
from typing import Sequence

from feature_store_health.checks.trend import TrendRow, configured_fields

__all__ = ["trend_chart_svg"]


def trend_chart_svg(rows: Sequence[TrendRow], title: str, table) -> str:
    """Six panels for ``table`` (its TableConfig); one whose dimension the table does not configure
    says so instead of drawing an empty line."""
    shown_fields = configured_fields(table)
    import matplotlib
    from matplotlib.figure import Figure  # not pyplot: no GUI backend machinery, a faster import

    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "feature-store-health",
                                "font.size": 8, "axes.titlesize": 9}):
        labels = [row.check_date.strftime("%m-%d") + ("*" if row.from_history else "") for row in rows]
        positions = range(len(rows))
        figure = Figure(figsize=(12, 5.5))
        axes = figure.subplots(2, 3)
        figure.suptitle(title)

        coverage = axes[0][0]
        coverage.bar(positions, [row.rows for row in rows], color="#4c78a8", label="rows")
        coverage.plot(positions, [row.players for row in rows], color="#f58518", marker="o", label="players")
        coverage.set_title("Coverage: rows and players per date")
        coverage.legend(loc="lower left")

        shares = axes[0][1]
        if "ready_pct" in shown_fields:
            shares.plot(positions, [_nan(row.ready_pct) for row in rows], marker="o", label="% production ready")
        if "complete_pct" in shown_fields:
            shares.plot(positions, [_nan(row.complete_pct) for row in rows], marker="s", label="% rows complete")
        shares.set_title("Readiness and completeness (%)")
        shares.set_ylim(0, 101)
        shares.legend(loc="lower left")

        nulls = axes[0][2]
        for feature in rows[0].null_pct if rows else ():
            nulls.plot(positions, [_nan(row.null_pct[feature]) for row in rows], marker=".", label=feature)
        nulls.set_title("NULL rate per critical feature (%)")
        nulls.legend(loc="upper left", fontsize=6)

        tiers = axes[1][0]
        bottom = [0] * len(rows)
        for tier in rows[0].tiers if rows else ():
            counts = [row.tiers[tier] for row in rows]
            tiers.bar(positions, counts, bottom=bottom, label=tier)
            bottom = [b + c for b, c in zip(bottom, counts)]
        tiers.set_title("Quality tier distribution (rows)")
        if "tiers" in shown_fields:
            tiers.legend(loc="lower left", fontsize=6)
        else:
            _not_configured(tiers)

        duration = axes[1][1]
        duration.bar(positions, [_nan(row.processing_minutes) for row in rows], color="#54a24b")
        duration.set_title("Processing duration, MAX - MIN processed_at (min)")

        conversion = axes[1][2]
        conversion.set_title("Downstream conversion (active predictions / rows)")
        if "conversion" in shown_fields:
            conversion.plot(positions, [_nan(row.conversion) for row in rows], marker="o", color="#e45756")
        else:
            _not_configured(conversion)

        for axis in [axis for row_axes in axes for axis in row_axes]:
            axis.set_xticks(list(positions), labels, rotation=45)
        figure.subplots_adjust(left=0.05, right=0.99, top=0.88, bottom=0.12, hspace=0.55, wspace=0.2)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    # drop the XML prolog and DOCTYPE: the SVG is embedded inline in the HTML page
    return re.sub(r"^.*?(<svg\b)", r"\1", svg, count=1, flags=re.S)


def _not_configured(axis) -> None:
    axis.text(0.5, 0.5, "not configured for this table", ha="center", va="center", transform=axis.transAxes)


def _nan(value: float | None) -> float:
    return float("nan") if value is None else value
