"""The console summary, in the shape the team is used to (one line per check, then totals)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.reporting.results_json import summary_counts

if TYPE_CHECKING:
    from feature_store_health.run import HealthRun

__all__ = ["STATUS_ICONS", "dry_run_lines", "summary_lines"]

STATUS_ICONS = {"HEALTHY": "✅", "DEGRADED": "⚠️", "UNHEALTHY": "❌", "CRITICAL": "🚨"}


def summary_lines(run: "HealthRun") -> list[str]:
    zone = ZoneInfo(run.config.timezone)
    lines: list[str] = []
    groups: dict[tuple[str, object], list] = {}
    for verdict in run.verdicts:
        groups.setdefault((verdict.table, verdict.check_date), []).append(verdict)
    for (table, check_date), verdicts in sorted(groups.items(), key=lambda item: (item[0][0], item[0][1])):
        as_of = run.as_of(check_date).astimezone(zone)
        lines.append(f"{table} · {check_date} · as of {as_of:%Y-%m-%d %H:%M %Z}")
        for verdict in verdicts:
            lines.append(f"{verdict.severity.icon} {DIMENSIONS[verdict.dimension].label}: {verdict.message}")
        lines.append("")
    counts = summary_counts(run)
    summary = f"Summary: {counts['passed']}/{counts['checks']} checks passed"
    if counts["warnings"]:
        summary += f", {counts['warnings']} with warnings"
    if counts["not_evaluated"]:
        summary += f", {counts['not_evaluated']} not evaluated"
    if counts["skipped"]:
        summary += f", {counts['skipped']} skipped (nothing to judge)"
    lines.append(summary)
    seconds = sum(stats.seconds for stats in run.queries)
    billed = [stats.bytes_processed for stats in run.queries if stats.bytes_processed is not None]
    bytes_text = f"{sum(billed):,} bytes processed" if billed else "bytes processed n/a"
    lines.append(f"Queries: {len(run.queries)} in {seconds:.3f} s, {bytes_text} ({run.settings.backend}: {run.source_description()})")
    lines.append(f"Overall Status: {STATUS_ICONS[run.status]} {run.status}")
    if run.status != "HEALTHY":
        lines.append(f"Rerun: {run.rerun_command()}")
    return lines


def dry_run_lines(run: "HealthRun", planned: list[tuple[str, str, int | None, str | None]]) -> list[str]:
    dates = run.settings.dates
    lines = ["", f"Dry run: {len(planned)} planned quer{'y' if len(planned) == 1 else 'ies'} for "
             f"{dates[0]}..{dates[-1]} ({run.settings.backend}: {run.source_description()}); no check runs", ""]
    for table, sql, estimate, error in planned:
        lines.append(f"-- {table}: @start_date = {dates[0]}, @end_date = {dates[-1]}")
        lines.extend(sql.splitlines())
        if error:
            lines.append(f"-- ❌ would fail: {error}")
        else:
            size = f"{estimate:,} bytes" if estimate is not None else "n/a on this backend"
            lines.append(f"-- ✅ valid; estimated bytes processed: {size}")
        lines.append("")
    return lines
