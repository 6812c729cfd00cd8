"""anomalies: every tracked metric of the date against its baseline (the previous game days).

Fixed thresholds catch gross failures; this catches the shifts that pass them: a feature's mean
25 % too high on every row, rows per team down a quarter, a secondary column NULL on a third of
the rows, the table landing hours later than usual. The score of the worst metric decides;
every metric beyond the warning score is named with its value and expected range.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import (
    BASE, TEAMS, Dimension, Judgement, JudgeContext, Values, band, nothing_to_judge, settling, settling_metrics,
)
from feature_store_health.checks.dimensions import completeness, production_readiness, quality_tiers
from feature_store_health.checks.dimensions.quality_tiers import tier_metric_name
from feature_store_health.checks.dimensions.staleness import max_processed_at
from feature_store_health.checks.metrics import Metric
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["DIMENSION", "clock_time", "expected_range", "shown_value"]

SHOWN_IN_MESSAGE = 5
RELEASE_SHARE = 0.5  # an incident ends when its metric is back within half the warning score of its old level  # flagged metrics named in the message (all of them are in the details)


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    """Besides these, the column profile of the same query (NULLs, means, medians, stddevs)."""
    tracked = [*BASE, TEAMS]
    if table.processed_at_column:
        tracked.append(max_processed_at(table.processed_at_column))
    # the shares the fixed checks count, the very same metrics (one column of the one query each)
    shares = {"production_ready_count", "complete_count", tier_metric_name(table.poor_tier) if table.poor_tier else ""}
    for dimension in (production_readiness.DIMENSION, completeness.DIMENSION, quality_tiers.DIMENSION):
        if dimension.applies(table):
            tracked.extend(metric for metric in dimension.metrics(table, config) if metric.name in shares)
    tracked += settling_metrics(table)
    return tuple(tracked)


def shown_value(metric: str, value: float) -> str:
    """A tracked value for a message: a landing time as a clock time, percentages and counts with
    one decimal, small numbers with three significant digits."""
    if metric == "landing_time":
        return clock_time(value)
    magnitude = abs(value)
    if magnitude >= 10 or metric.startswith(("null_pct:", "pct_")) or metric == "rows_per_team":
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    if magnitude < 0.001:  # fixed point, never 4.5e-09: three significant digits, at most 6 decimals
        return f"{value:.6f}".rstrip("0").rstrip(".") if round(value, 6) else "0"
    return f"{value:.3g}"


def clock_time(hours: float) -> str:
    """Hours after the date's midnight as a time of day: "02:08"; "23:49 the day before"; "02:08
    2 days later"."""
    total = round(hours * 60)
    days, minutes_of_day = divmod(total, 24 * 60)
    clock = f"{minutes_of_day // 60:02d}:{minutes_of_day % 60:02d}"
    if days == 0:
        return clock
    if days == -1:
        return f"{clock} the day before"
    if days == 1:
        return f"{clock} the day after"
    return f"{clock} {abs(days)} days {'later' if days > 0 else 'before'}"


def expected_range(metric: str, low: float, high: float | None) -> str:
    """The range a metric was expected in: "22.1–24.9", or "≥ 3.1" for a spread, which is judged
    downwards only (its high end is infinite, or None in the results JSON)."""
    if high is None or math.isinf(high):
        return f"≥ {shown_value(metric, low)}"
    if metric == "landing_time" and not 0 <= low < 24:
        return f"{shown_value(metric, low)} to {shown_value(metric, high)}"  # "23:49 the day before to 04:19"
    return f"{shown_value(metric, low)}–{shown_value(metric, high)}"


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    from feature_store_health.checks.baseline import drifts, label, observations

    if (skip := nothing_to_judge(values, ctx)) is not None:
        return skip
    early = settling(values, table)
    if early is not None:
        return Judgement(Severity.SKIPPED, None,
                         f"early season: {early:.0f}% of rows {table.early_season_column} (rolling windows "
                         f"still filling, above {table.early_season_max_pct:g}%): not compared with a baseline",
                         {"early_season_pct": round(early, 2)})
    if ctx.baseline_error is not None:
        return Judgement(Severity.NOT_EVALUATED, None, f"not evaluated: {ctx.baseline_error}", {})
    settings = ctx.baseline_config
    baseline = ctx.baseline or ()
    needed = settings.minimum_game_days
    details: dict[str, Any] = {"baseline_days": len(baseline),
                               "baseline_dates": [day.isoformat() for day, _ in baseline], **(ctx.baseline_notes or {})}
    left_out = _left_out(details)
    if len(baseline) < needed and ctx.schedule_gap is not None:  # no game day known: the schedule, not the history
        return Judgement(Severity.NOT_EVALUATED, None, f"not evaluated: {ctx.schedule_gap}, so no earlier game day "
                         f"is known for a baseline ({len(baseline)} of {needed})", details)
    if len(baseline) < needed:
        return Judgement(Severity.SKIPPED, None,
                         f"insufficient history, {len(baseline)} of {needed} game days{left_out}", details)
    values = _night_landing(values, ctx, details)
    today = observations(table, ctx.schema, values, ctx.check_date, ctx.timezone, ctx.profile_plan)
    days = [observed for _, observed in baseline] + list(ctx.baseline_fill or ())
    warning = limits["warning_above"]
    judged, too_short = drifts(today, days, settings, warning)
    judged, levels = _with_carried(judged, today, ctx, warning)
    judged.sort(key=lambda drift: (-abs(drift.score), drift.metric))
    flagged = [drift for drift in judged if drift.metric in levels]
    details["drifts"] = [drift.to_json() | {"flagged": drift.metric in levels}
                         | ({"level": levels[drift.metric]} if drift.metric in levels else {}) for drift in judged]
    details["metrics_judged"] = len(judged)
    details["metrics_without_baseline"] = too_short
    if not judged:
        return Judgement(Severity.SKIPPED, None, "no tracked metric has a baseline yet", details)
    worst = judged[0]
    severity = band(abs(worst.score), limits, "above")
    if flagged and severity is Severity.OK:  # an incident not yet back within its level: still flagged
        severity = Severity.WARNING

    def described(drift) -> str:
        before = (f" (its level before {levels[drift.metric][2]})"
                  if drift.metric in levels and levels[drift.metric][2] != ctx.check_date.isoformat() else "")
        return (f"{label(drift.metric)} {shown_value(drift.metric, drift.value)}, "
                f"expected {expected_range(drift.metric, drift.low, drift.high)}{before}")

    span = f"({len(baseline)} game days{left_out})"
    if not flagged:
        message = (f"{len(judged)} metrics within their baseline {span}; largest score {abs(worst.score):.1f} "
                   f"({label(worst.metric)} {shown_value(worst.metric, worst.value)})")
    else:
        named = "; ".join(f"{described(drift)} (score {abs(drift.score):.1f})" for drift in flagged[:SHOWN_IN_MESSAGE])
        more = f"; and {len(flagged) - SHOWN_IN_MESSAGE} more" if len(flagged) > SHOWN_IN_MESSAGE else ""
        count = f"{len(flagged)} of {len(judged)} metrics off their baseline {span}: "
        message = count + named + more
    if not values["games_scheduled"]:  # rows on a date the schedule calls empty: no team to divide by
        day = ctx.check_date.isoformat() if ctx.check_date else "the date"
        why = ctx.schedule_gap or f"{ctx.schedule_table} has no games on {day}"  # a day off, or no telling
        message += f"; rows per team playing not judged: {why}"
    return Judgement(severity, round(abs(worst.score), 2), message + _restarted(details, needed), details)


def _with_carried(judged: list, today, ctx: JudgeContext, warning: float) -> tuple[list, dict[str, list[Any]]]:
    """Each metric flagged on the last game day is judged against that incident's level from
    before it began too ([median, spread, since], carried from day to day), and the larger score
    stands: an incident stays flagged, whether it sits near the threshold (its own OK days would
    widen the baseline) or outlasts the lookback (no clean day left), until it is back within the
    level it left. A metric flagged today starts an incident at today's baseline level. Returns
    the drifts and the level of every flagged metric, recorded with the verdict.

    Released only once back within RELEASE_SHARE of the warning score of that level (hysteresis):
    a lasting shift that scores just under the threshold some days is still the same incident."""
    from feature_store_health.checks.baseline import Drift

    carried = ctx.baseline_carried or {}
    by_metric = {drift.metric: drift for drift in judged}
    levels: dict[str, list[Any]] = {}
    release = warning * RELEASE_SHARE
    for metric, (median, spread, since) in carried.items():
        observation = today.get(metric)
        if observation is None or not spread:
            continue
        score = (observation.value - median) / spread
        low, high = median - warning * spread, median + warning * spread
        if observation.kind == "stddev":   # a spread is judged downwards only, as assess does
            score, high = min(score, 0.0), math.inf
        current = by_metric.get(metric)
        if current is None or abs(score) > abs(current.score):
            by_metric[metric] = Drift(metric, observation.value, median, low, high, score,
                                      current.days if current else 0, spread)
        if abs(score) > release:   # not back within its level yet: the incident goes on
            levels[metric] = [median, spread, since]
    day = ctx.check_date.isoformat() if ctx.check_date else ""
    for drift in by_metric.values():
        if abs(drift.score) > warning and drift.metric not in levels:
            levels[drift.metric] = [drift.median, drift.spread, day]
    return list(by_metric.values()), levels


def _left_out(details: Mapping[str, Any]) -> str:
    """"; flagged metrics of 2 days left out": what the baseline does not hold against today."""
    parts = []
    if details.get("metrics_left_out"):
        n = len(details["metrics_left_out"])
        parts.append(f"flagged metrics of {n} day{'s' if n != 1 else ''} left out")
    return "; " + ", ".join(parts) if parts else ""


def _restarted(details: Mapping[str, Any], needed: int) -> str:
    """Declared new levels whose baseline is still filling: "; minutes_avg_last_10: new level
    since 2026-03-05 (reason), 3 of 7 game days"."""
    filling = [level for level in details.get("new_levels", ()) if level["game_days"] < needed]
    return "".join(f"; {level['metric']}: new level since {level['since']} ({level['reason']}), "
                   f"{level['game_days']} of {needed} game days, not judged" for level in filling)


def _night_landing(values: Values, ctx: JudgeContext, details: dict[str, Any]) -> Values:
    """The date's values with its landing judged only when it is the night's first landing: a
    date landed again since its first record (a reprocess, a backfill) or landed a day or more
    after its date is not judged on when it landed (details say why)."""
    from feature_store_health.checks.baseline import NIGHT_HOURS, landing_hours
    from feature_store_health.checks.baseline_days import same_moment

    landed = values.get("max_processed_at")
    if not isinstance(landed, dt.datetime):
        return values
    first = ctx.first_landing
    if first is not None and not same_moment(first, landed):
        details["landing_not_judged"] = (f"landed again at {landed.isoformat()} (first landed at {first.isoformat()}): "
                                         "landing time is judged on a date's first landing only")
        return {**values, "landing_judged": False}
    if landing_hours(values, ctx.check_date, ctx.timezone) is None:
        details["landing_not_judged"] = (f"landed at {landed.isoformat()}, {NIGHT_HOURS:g} h or more after its date "
                                         "began: a reprocess, not the night's run")
    return values


DIMENSION = Dimension(
    "anomalies", "Anomalies", "every tracked metric against its baseline of previous game days",
    ("warning_above", "error_above", "critical_above"), metrics, judge,
    partial=True,
)
