"""Which earlier days a date's baseline may draw on, and what of them: pure rules, no database.

- **A day judged non-OK is no baseline day for what it was flagged on.** anomalies' flagged
  metrics (WARNING or worse) are left out of that day; a fixed check that failed (ERROR or
  CRITICAL) leaves the whole day out. A verdict counts when it was judged on the rows the day
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

__all__ = ["BaselineDay", "FIRST_LANDED", "DayFlags", "changed_days", "day_flags", "first_landing",
           "recorded_verdicts", "same_moment", "view"]

FIRST_LANDED = "first_landed_at"   # a recorded metric: the date's first landing, kept across reprocesses
FAILING = frozenset({"ERROR", "CRITICAL"})
FLAGGING = frozenset({"WARNING", "ERROR", "CRITICAL"})


class DayFlags(NamedTuple):
    """What a day's verdicts hold against it as a baseline day."""

    failed: str | None = None             # why the whole day is out ("value_ranges CRITICAL"), else None
    flagged: frozenset[str] = frozenset()  # tracked metrics anomalies flagged on it


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
            if list(recorded.get("fingerprint") or ()) == fingerprint:
                found[name[len(VERDICT_PREFIX):]] = recorded
    return found


def day_flags(verdicts: Mapping[str, tuple[str, Iterable[str]]]) -> DayFlags:
    """``verdicts``: dimension -> (severity, flagged metrics) of one table's day."""
    failed = sorted(f"{dimension} {severity}" for dimension, (severity, _) in verdicts.items()
                    if dimension != "anomalies" and severity in FAILING)
    severity, flagged = verdicts.get("anomalies", ("OK", ()))
    return DayFlags("; ".join(failed) or None, frozenset(flagged) if severity in FLAGGING else frozenset())


def view(days: Sequence[BaselineDay], check_date: dt.date,
         levels: Sequence[NewLevel]) -> tuple[list[tuple[dt.date, dict[str, Any]]], dict[str, Any]]:
    """The baseline as anomalies judges it, newest first: (date, {metric: Observation}) of the days
    not failed, each less the metrics flagged on it and the metrics a new level declared since
    restarts; and what was left out, for the details ({"days_left_out": {date: why},
    "metrics_left_out": {date: [metric]}, "new_levels": [...]})."""
    active = [level for level in levels if level.since <= check_date]
    kept: list[tuple[dt.date, dict[str, Any]]] = []
    days_out: dict[str, str] = {}
    metrics_out: dict[str, list[str]] = {}
    for day in days:
        if day.flags.failed is not None:
            days_out[day.day.isoformat()] = f"judged {day.flags.failed}"
            continue
        observed = dict(day.observed)
        for metric in list(observed):
            restarted = [level for level in active if level.covers(metric)]
            if any(day.day < level.since for level in restarted):
                del observed[metric]         # the old level: no baseline of the new one
            elif metric in day.flags.flagged and not restarted:
                del observed[metric]
                metrics_out.setdefault(day.day.isoformat(), []).append(metric)
        kept.append((day.day, observed))
    notes: dict[str, Any] = {}
    if days_out:
        notes["days_left_out"] = days_out
    if metrics_out:
        notes["metrics_left_out"] = {day: sorted(metrics) for day, metrics in metrics_out.items()}
    if active:
        notes["new_levels"] = [{"metric": level.metric, "since": level.since.isoformat(), "reason": level.reason,
                                "game_days": sum(1 for day in days if day.day >= level.since
                                                 and day.flags.failed is None)}
                               for level in active]
    return kept, notes


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


def first_landing(recorded: Mapping[str, Any] | None) -> dt.datetime | None:
    """A recorded date's first landing: kept from its first record, else its recorded landing."""
    if not recorded or not recorded.get("row_count"):
        return None
    return utc(recorded.get(FIRST_LANDED)) or utc(recorded.get("max_processed_at"))
