"""Which earlier days a date's baseline may draw on, and what of them: pure rules, no database.

- **A day judged non-OK is no baseline day for what it was flagged on.** anomalies' flagged
  metrics (WARNING or worse) are left out of that day, and so are the metrics a fixed check
  that failed (ERROR or CRITICAL) reads (``verdict_metrics``: null_rates its features' NULL %,
  source_consistency its stat features, coverage rows per team...). A verdict counts when it was judged on the rows the day
  holds now (its fingerprint: row count and latest processed_at); after a rerun or backfill the
  old verdict no longer speaks for the day.
- **Declared new levels** ([[baseline.new_levels]]): from ``since`` on, the metric's baseline
  is drawn from days at the new level only, and their flags on it are not held against them.
- **The warehouse beats a stale history.** A recorded day whose fingerprint in the warehouse
  differs from the recorded one was rerun or backfilled: it is read again.
- **Landing time is the night's run.** A date's first recorded landing is kept
  (``first_landed_at``); a later landing is a reprocess, not judged as the night's.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from feature_store_health.checks.levels import NewLevel
from feature_store_health.history.records import VERDICT_PREFIX, day_fingerprint

__all__ = ["BaselineDay", "BaselineView", "FIRST_LANDED", "LANDING_PENDING", "DayFlags", "verdict_metrics", "changed_days", "day_flags", "first_landing",
           "recorded_verdicts", "same_moment", "view"]

FIRST_LANDED = "first_landed_at"   # a recorded metric: the date's first landing, kept across reprocesses
FAILING = frozenset({"ERROR", "CRITICAL"})
FLAGGING = frozenset({"WARNING", "ERROR", "CRITICAL"})


class DayFlags(NamedTuple):
    """What a day's verdicts hold against it as a baseline day."""

    flagged: frozenset[str] = frozenset()  # tracked metrics its verdicts flagged
    severity: str = "OK"                  # anomalies' severity that day
    # anomalies' flagged metrics -> the level they were judged against: [median, spread, since]
    levels: Mapping[str, Any] = {}


LEVELS = ("mean", "median", "stddev")


def _column_metrics(columns: Iterable[str], statistics: Iterable[str] = ("null_pct", *LEVELS)) -> list[str]:
    return [f"{statistic}:{column}" for column in columns for statistic in statistics]


# which of a column's statistics a failing check speaks for: value_ranges its values, not its NULLs
_COLUMN_STATISTICS = {"null_rates": ("null_pct",), "value_ranges": LEVELS}


# the tracked metrics a failed fixed check speaks for, beside the columns it names as failing
_DIMENSION_METRICS = {
    "coverage": lambda table: ["rows_per_team"],
    "uniqueness": lambda table: ["rows_per_team"],
    "production_readiness": lambda table: ["pct_production_ready"],
    "completeness": lambda table: ["pct_complete"],
    "quality_tiers": lambda table: ["pct_poor", *_column_metrics(filter(None, [table.quality_tier_column]), ("null_pct",))],
    "staleness": lambda table: ["landing_time"],
    "arrival": lambda table: ["landing_time"],   # landed after ready_by: no usual landing of later days
    "source_consistency": lambda table: ["rows_per_team", *_column_metrics(table.source.features if table.source else ())],
}


def verdict_metrics(dimension_id: str, severity: str, details: Mapping[str, Any] | None,
                    threshold: Mapping[str, float], table: Any) -> list[str]:
    """The tracked metrics a verdict holds against its day as a baseline day: anomalies' flagged
    ones (WARNING or worse); for a fixed check that failed (ERROR or CRITICAL), the metrics it
    reads (null_rates and value_ranges: the columns they name as failing)."""
    from feature_store_health.checks.dimensions import DIMENSIONS
    from feature_store_health.history.records import flagged_metrics

    if dimension_id == "anomalies":
        return flagged_metrics(details) if severity in FLAGGING else []
    if dimension_id in ("drift", "continuity"):   # the columns they flagged, "drift:<column>"
        return list((details or {}).get("flagged") or ()) if severity in FLAGGING else []
    if severity not in FAILING:
        return []
    metrics = list(_DIMENSION_METRICS.get(dimension_id, lambda table: [])(table))
    dimension = DIMENSIONS[dimension_id]
    if dimension.reasons_are_columns:
        metrics += _column_metrics(dimension.reasons_failing(details or {}, threshold, table),
                                   _COLUMN_STATISTICS.get(dimension_id, ("null_pct", *LEVELS)))
    return metrics


class BaselineDay(NamedTuple):
    day: dt.date
    observed: Mapping[str, Any]   # metric -> Observation
    flags: DayFlags


def utc(moment: Any) -> dt.datetime | None:
    if not isinstance(moment, dt.datetime):
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def same_moment(one: Any, other: Any) -> bool:
    return utc(one) == utc(other)


def recorded_verdicts(values: Mapping[str, Any] | None) -> dict[str, Mapping[str, Any]]:
    """A recorded day's verdicts (dimension -> {"severity", "flagged"?}) that were judged on the
    rows its values describe: a verdict of rows since rerun says nothing of the rows there now."""
    if not values:
        return {}
    fingerprint = day_fingerprint(values)
    found = {}
    for name, recorded in values.items():
        if name.startswith(VERDICT_PREFIX) and isinstance(recorded, Mapping):
            # a verdict recorded before fingerprints were: judged with the values of its own run
            if "fingerprint" not in recorded or list(recorded["fingerprint"] or ()) == fingerprint:
                found[name[len(VERDICT_PREFIX):]] = recorded
    return found


def day_flags(verdicts: Mapping[str, tuple[str, Iterable[str]]], levels: Mapping[str, Any] | None = None) -> DayFlags:
    """``verdicts``: dimension -> (severity, the metrics it holds against the day) of one table's
    day; ``levels``: anomalies' flagged metrics' levels (their incident's level from before it)."""
    flagged = frozenset(metric for _, metrics in verdicts.values() for metric in metrics)
    return DayFlags(flagged, verdicts.get("anomalies", ("OK", ()))[0], dict(levels or {}))


class BaselineView(NamedTuple):
    """The baseline as anomalies judges it (newest first)."""

    days: list[tuple[dt.date, dict[str, Any]]]  # the game_days days listed: (date, {metric: Observation})
    fill: list[dict[str, Any]]     # older days' observations of metrics short of game_days clean values
    carried: dict[str, list[Any]]  # metric -> [median, spread, since]: an incident flagged on the last
    #                                 game day, judged against its level from before it began
    notes: dict[str, Any]          # what was left out and why, for the details


def view(days: Sequence[BaselineDay], check_date: dt.date, levels: Sequence[NewLevel],
         game_days: int, minimum_game_days: int) -> BaselineView:
    """The baseline of ``check_date`` from its candidate days (newest first, every day within the
    lookback):

    - the first ``game_days`` are the baseline's days;
    - a metric flagged on a day is left out of that day, and older days within the lookback fill in
      for it, so it keeps ``game_days`` clean values as long as there are any;
    - a metric flagged on the newest day carries that incident's level from before it began
      (``carried``): today is judged against it too, so an incident stays flagged, near the
      threshold or past the lookback, until it is back within that level;
    - a declared new level drops its metric's values before ``since``; the flags on it of its first
      ``minimum_game_days`` game days at the new level are forgiven (runs before the declaration
      judged them against the old level), later ones count as any other.
    """
    active = [level for level in levels if level.since <= check_date]
    forgiven: dict[NewLevel, set[dt.date]] = {}
    for level in active:
        at_level = sorted(day.day for day in days if day.day >= level.since)
        forgiven[level] = set(at_level[:minimum_game_days])
    listed: list[tuple[dt.date, dict[str, Any]]] = []
    fill: list[dict[str, Any]] = []
    clean: dict[str, int] = {}
    metrics_out: dict[str, list[str]] = {}
    for day in days:
        observed: dict[str, Any] = {}
        flagged = day.flags.flagged
        for metric, observation in day.observed.items():
            forgiven_here = False
            if active:   # (a few hundred metrics a day: the usual case, no declared level, kept cheap)
                restarted = [level for level in active if level.covers(metric)]
                if any(day.day < level.since for level in restarted):
                    continue                      # the old level: no baseline of the new one
                forgiven_here = any(day.day in forgiven[level] for level in restarted)
            if metric in flagged and not forgiven_here:
                metrics_out.setdefault(day.day.isoformat(), []).append(metric)
                continue
            count = clean.get(metric, 0)
            if count >= game_days:
                continue
            clean[metric] = count + 1
            observed[metric] = observation
        if len(listed) < game_days:
            listed.append((day.day, observed))
        elif observed:
            fill.append(observed)
    notes: dict[str, Any] = {}
    if metrics_out:
        notes["metrics_left_out"] = {day: sorted(metrics) for day, metrics in metrics_out.items()}
    carried = {metric: list(level) for metric, level in (days[0].flags.levels if days else {}).items()
               if not any(level_.covers(metric) and days[0].day >= level_.since for level_ in active)}
    if active:
        notes["new_levels"] = [{"metric": level.metric, "since": level.since.isoformat(), "reason": level.reason,
                                "game_days": sum(1 for day in days if day.day >= level.since)}
                               for level in active]
    return BaselineView(listed, fill, carried, notes)


def changed_days(fingerprints: Mapping[dt.date, tuple[int, Any]],
                 recorded: Mapping[dt.date, Mapping[str, Any]]) -> list[dt.date]:
    """Recorded days whose rows in the warehouse are not the ones recorded (another count, another
    latest processed_at): rerun or backfilled since. A day the warehouse holds no rows of (expired,
    deleted) keeps its record."""
    changed = []
    for day, (rows, landed) in sorted(fingerprints.items()):
        values = recorded.get(day)
        if not rows or values is None:
            continue
        if values.get("row_count") != rows or (landed is not None and not same_moment(values.get("max_processed_at"), landed)):
            changed.append(day)
    return changed


LANDING_PENDING = "landing_pending"   # recorded while the date had not landed (short, or rows after the as-of)


def first_landing(recorded: Mapping[str, Any] | None) -> dt.datetime | None:
    """A recorded date's first landing: kept from its first record, else its recorded landing;
    None when it was recorded before it had landed (a short landing is no night's landing)."""
    if recorded and recorded.get(LANDING_PENDING):
        return None
    if not recorded or not recorded.get("row_count"):
        return None
    return utc(recorded.get(FIRST_LANDED)) or utc(recorded.get("max_processed_at"))
