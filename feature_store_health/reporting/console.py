"""The console summary, in the shape the team is used to (one line per check, then totals)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.trend import configured_fields
from feature_store_health.checks.verdict import STATUS_ICONS
from feature_store_health.reporting.models_affected import models_affected_line
from feature_store_health.reporting.results_json import summary_counts

if TYPE_CHECKING:
    from feature_store_health.run import HealthRun

__all__ = ["dry_run_lines", "summary_lines", "trend_lines"]


def summary_lines(run: "HealthRun") -> list[str]:
    zone = ZoneInfo(run.config.timezone)
    lines: list[str] = []
    groups: dict[tuple[str, object], list] = {}
    for verdict in run.verdicts:
        groups.setdefault((verdict.table, verdict.check_date), []).append(verdict)
    order = {table.name: index for index, table in enumerate(run.config.tables)}  # grouped by table, config order
    for (table, check_date), verdicts in sorted(groups.items(), key=lambda item: (order.get(item[0][0], len(order)),
                                                                                 item[0][0], item[0][1])):
        as_of = run.as_of(check_date).astimezone(zone)
        lines.append(f"{table} · {check_date} · as of {as_of:%Y-%m-%d %H:%M %Z}")
        for verdict in verdicts:
            lines.append(f"{verdict.severity.icon} {DIMENSIONS[verdict.dimension].label}: {verdict.message}")
            affected = models_affected_line(run, verdict)   # [[models]]: who reads the columns it names
            if affected:
                lines.append(f"   {affected}")
            mute = run.mutes.of(verdict)   # [[mutes]]: its alerts silenced; still judged and counted
            if mute is not None:
                lines.append(f"   🔇 {mute.label}")
        lines.extend(_flagged_lines(run, table, verdicts))
        lines.append("")
    if run.settings.days > 1:
        lines.extend(trend_lines(run))
    lines.extend(runbook_lines(run))
    counts = summary_counts(run)
    summary = f"Summary: {counts['passed']}/{counts['checks']} checks passed"
    if counts["warnings"]:
        summary += f", {counts['warnings']} with warnings"
    if counts["not_evaluated"]:
        summary += f", {counts['not_evaluated']} not evaluated"
    if counts["skipped"]:
        summary += f", {counts['skipped']} skipped (nothing to judge)"
    if counts["not_run"]:
        summary += f", {counts['not_run']} never ran"
    muted = len(run.mutes.muted_verdicts(run.verdicts))
    if muted:   # a mute silences alerts only: the status and the exit code count the check as it is
        summary += f", {muted} muted (alerts off; still counted in the status and exit code)"
    lines.append(summary)
    seconds = sum(stats.seconds for stats in run.queries)
    billed = [stats.bytes_processed for stats in run.queries if stats.bytes_processed is not None]
    bytes_text = f"{sum(billed):,} bytes processed" if billed else "bytes processed n/a"
    lookups = len(run.metadata_lookups)
    lookup_text = f" + {lookups} metadata lookup{'s' if lookups != 1 else ''} (no bytes)" if lookups else ""
    lines.append(f"Queries: {len(run.queries)} in {seconds:.3f} s{lookup_text}, {bytes_text} "
                 f"({run.settings.backend}: {run.source_description()})")
    history = history_line(run)
    if history:
        lines.append(history)
    lines.append(f"Overall Status: {STATUS_ICONS[run.status]} {run.status}")
    gate = gate_line(run)
    if gate:
        lines.append(gate)
    if not run.complete:
        lines.append(f"Incomplete: {run.incomplete_reason()}; the checks that ran say {run.judged_status}")
    if run.status != "HEALTHY":
        lines.append(f"Rerun: {run.rerun_command()}")
    return lines


def gate_line(run: "HealthRun") -> str | None:
    """The go/no-go, on a morning's run (the checked date is today) or when it holds: a backfill
    check of a healthy past date has nothing to tell Phase 5."""
    from feature_store_health.clock import today_in

    gate = run.gate_decision
    if gate is None:
        return None
    today = gate.check_date == today_in(run.config.timezone, run.started_at)
    if gate.decision == "go" and not today:
        return None
    when = "final: the go/no-go" if gate.final else "not final: before ready_by minus the margin"
    reasons = f"; {len(gate.reasons)} reason{'s' * (len(gate.reasons) != 1)}: {gate.reasons[0]}" if gate.reasons else ""
    more = f" (and {len(gate.reasons) - 1} more)" if len(gate.reasons) > 1 else ""
    why = gate.partial or ("history off" if run.settings.history_off else "--as-of replays an earlier moment")
    recorded = "" if run.gate_json()["recorded"] else f" (not recorded: {why})"
    return f"Gate: {gate.decision} for {gate.check_date} ({when}){recorded}{reasons}{more}"


def runbook_lines(run: "HealthRun") -> list[str]:
    """One ``Runbook:`` line per dimension with a check that is not OK (nor skipped)."""
    failing = dict.fromkeys(verdict.dimension for verdict in run.verdicts
                            if verdict.severity.value not in ("OK", "SKIPPED"))
    return [f"Runbook: {DIMENSIONS[dimension].label}: {run.runbook_link(dimension)}" for dimension in failing] + (
        [""] if failing else [])


def _flagged_lines(run: "HealthRun", table: str, verdicts: list) -> list[str]:
    """The column profile stays out of the console but for the columns a check flagged."""
    from feature_store_health.reporting.columns import flagged_columns

    flags = flagged_columns(run, table, verdicts)
    if not flags:
        return []
    # a column flagged only by muted checks says so: its finding is known and accepted for now
    muted = run.mutes.muted_verdicts(verdicts)
    unmuted = flagged_columns(run, table, [v for v in verdicts if run.mutes.of(v) is None]) if muted else flags
    labels = {column: mute.label for verdict, mute in muted
              for column in flagged_columns(run, table, [verdict]) if column not in unmuted}
    return ["Columns flagged: " + "; ".join(
        f"{column} ({', '.join([*why, *([labels[column]] if column in labels else [])])})"
        for column, why in flags.items())]


def dry_run_lines(run: "HealthRun", planned: list[tuple[str, str, dict, int | None, str | None]]) -> list[str]:
    dates = run.settings.dates
    lines = ["", f"Dry run: {len(planned)} planned quer{'y' if len(planned) == 1 else 'ies'} for "
             f"{dates[0]}..{dates[-1]} ({run.settings.backend}: {run.source_description()}); no check runs", ""]
    for table, sql, window, estimate, error in planned:
        lines.append(f"-- {table}: " + ", ".join(f"@{name} = {value}" for name, value in window.items()))
        lines.extend(sql.splitlines())
        if error:
            lines.append(f"-- ❌ would fail: {error}")
        else:
            size = f"{estimate:,} bytes" if estimate is not None else "n/a on this backend"
            lines.append(f"-- ✅ valid; estimated bytes processed: {size}")
        lines.append("")
    return lines


def history_line(run: "HealthRun") -> str | None:
    """What the metric history gave and took: the baseline read and this run's write."""
    if run.settings.history_off:
        return "History: off (--no-history): baselines from the warehouse alone, nothing recorded"
    read, write = run.history_read, run.history_write
    if read is None and write is None:
        return None
    parts = []
    if read is not None:
        parts.append(f"read failed: {read['error']}" if "error" in read else
                     f"read {read['dates']} table-dates in {read['seconds']:.3f} s")
        if read.get("damaged"):
            damaged = read["damaged"]
            parts.append(f"{len(damaged)} damaged value{'s' * (len(damaged) != 1)} left out (first: {damaged[0]})")
    if write is not None:
        parts.append(f"write failed: {write['error']}" if "error" in write else
                     f"not written ({write['skipped']})" if "skipped" in write else
                     f"wrote {write['rows']:,} rows in {write['seconds']:.3f} s")
    where = (write or {}).get("location") or (read or {}).get("location")
    return "History: " + ", ".join(parts) + (f" ({where})" if where else "")


def trend_lines(run: "HealthRun") -> list[str]:
    """The weekly report's sections, one table per monitored table, plus the most common issues.
    A section that cannot be built says why in one line; it never stops the summary."""
    from feature_store_health.backends.base import BackendError

    lines: list[str] = []
    for table in run.config.tables:
        try:
            lines.extend(_table_trend_lines(run, table))
        except BackendError:
            continue  # its checks already say why
        except Exception as exc:
            lines += [f"Trends · {table.name}: unavailable ({type(exc).__name__}: {exc})", ""]
    return lines


def _table_trend_lines(run: "HealthRun", table) -> list[str]:
    """Two weekly tables that fit a terminal: volume and freshness, then quality. Readable headers
    with units; every column as wide as its widest cell."""
    dates = run.settings.dates
    rows = run.trend(table.name)
    tiers = list(rows[0].tiers)
    short = {feature: feature.replace("_avg_last_10", "").replace("_last_10", "") for feature in table.critical_features}
    shown_fields = configured_fields(table)
    optional = [(header, shown) for header, field, shown in (
        ("ready %", "ready_pct", lambda row: _fmt(row.ready_pct)),
        ("complete %", "complete_pct", lambda row: _fmt(row.complete_pct)),
        ("processing min", "processing_minutes", lambda row: _fmt(row.processing_minutes)),
        ("predictions", "active_predictions", lambda row: str(row.active_predictions)),
        ("per row", "conversion", lambda row: _fmt(row.conversion)),
    ) if field in shown_fields]
    volume = _aligned(
        ["date", "games", "rows", "players", *(header for header, _ in optional)],
        [[f"{row.check_date}{'*' if row.from_history else ''}", str(row.games), str(row.rows), str(row.players),
          *(shown(row) for _, shown in optional)]
         for row in rows])
    lines = [f"Trends · {table.name} · {dates[0]} … {dates[-1]}", *volume, ""]
    if tiers or short:
        quality = _aligned(
            ["date", *(tier if tier != "NULL" else "no tier" for tier in tiers), *(f"NULL % {short[f]}" for f in short)],
            [[str(row.check_date), *(str(row.tiers[tier]) for tier in tiers), *(_fmt(row.null_pct[f]) for f in short)]
             for row in rows])
        what = "; ".join(part for part, present in (("rows per tier", tiers), ("% NULL per critical feature", short))
                         if present)
        lines += [f"Quality · {table.name} ({what})", *quality]
    if any(row.from_history for row in rows):
        lines.append("* from the metric history: the warehouse's partition of the date has expired")
    for field, values in run.issue_counts(table.name).items():
        top = ", ".join(f"{value} ({count})" for value, count in values[:3]) or "none"
        lines.append(f"Most common {field}: {top}")
    lines.append("")
    return lines


def _aligned(headers: list[str], cells: list[list[str]]) -> list[str]:
    widths = [max(len(header), *(len(line[index]) for line in cells)) for index, header in enumerate(headers)]

    def line(values: list[str]) -> str:
        return "  ".join(value.ljust(width) if index == 0 else value.rjust(width)
                         for index, (value, width) in enumerate(zip(values, widths)))

    return [line(headers), *(line(values) for values in cells)]


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f}"
