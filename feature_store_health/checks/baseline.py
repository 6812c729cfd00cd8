"""Baselines: which metrics a date is compared on, and how far a value sits from its baseline.

Tracked per table and date (from the one aggregate query's values): rows per team playing; %
production ready, % complete and % POOR; the NULL % of every profiled column; the mean, median
and standard deviation of every numeric column; and the time of day the table landed
(MAX(processed_at), hours after midnight of the date in the deadline time zone).

The score of a value is its distance from the baseline median in units of the spread expected
*for that day*: the day-to-day variation the baseline shows beyond sampling noise, plus the
sampling noise of the day's own number of rows (a mean over 60 rows moves more than one over
400), never below the metric's floor. The expected range is the median plus or minus
``warning`` spreads.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Iterable, Mapping, NamedTuple, Sequence, TYPE_CHECKING
from zoneinfo import ZoneInfo

from feature_store_health.checks.dimensions.quality_tiers import tier_metric_name
from feature_store_health.checks.profile import profile_columns

if TYPE_CHECKING:
    from feature_store_health.checks.contract import SchemaReport
    from feature_store_health.config_types import BaselineConfig, TableConfig

__all__ = ["Drift", "NIGHT_HOURS", "Observation", "assess", "label", "landing_hours", "observations", "one_row_worth"]

def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


MAD_TO_SD = 1.4826          # a normal distribution's standard deviation per median absolute deviation
MEDIAN_EFFICIENCY = 1.2533  # the sampling error of a median over that of a mean (normal data)
SEEN_RANGE_SPREADS = 4.0    # the baseline's (trimmed) range spans at most this many spreads


class Observation(NamedTuple):
    """One tracked metric on one date."""

    value: float
    rows: int                   # the rows standing behind it
    kind: str                   # count_pct | mean | median | stddev | rows_per_team | landing
    integer: bool = False       # an INTEGER column: its median moves in whole units
    unit_sd: float | None = None  # a numeric column's standard deviation that day (its sampling noise)
    unit_range: float | None = None  # a numeric column's max - min that day


class Drift(NamedTuple):
    metric: str
    value: float
    median: float
    low: float
    high: float
    score: float
    days: int
    spread: float = 0.0   # the spread the score is in units of

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "value": _round(self.value), "baseline_median": _round(self.median),
                "spread": _round(self.spread),
                "expected_low": _round(self.low),
                "expected_high": _round(self.high) if math.isfinite(self.high) else None,
                "score": round(self.score, 2), "baseline_days": self.days}


def _round(value: float) -> float:
    return float(f"{value:.6g}")


def label(metric: str) -> str:
    """A metric's name as a person reads it: "minutes_avg_last_10 mean", "team_abbr NULL %"."""
    fixed = {"rows_per_team": "rows per team playing", "pct_production_ready": "% production ready",
             "pct_complete": "% complete", "pct_poor": "% POOR", "landing_time": "landing time"}
    if metric in fixed:
        return fixed[metric]
    statistic, _, column = metric.partition(":")
    return f"{column} {'NULL %' if statistic == 'null_pct' else statistic}"


def observations(table: "TableConfig", schema: "SchemaReport | None", values: Mapping[str, Any],
                 check_date: dt.date, timezone: str, columns: Mapping[str, Any] | None = None) -> dict[str, Observation]:
    """The tracked metrics of one date, from its query values (metrics the query lacks are left out).
    ``columns``: the table's profile_columns, when the caller has them already."""
    rows = values.get("row_count") or 0
    if not rows:
        return {}
    tracked: dict[str, Observation] = {}
    teams = values.get("teams_playing")
    if teams:
        tracked["rows_per_team"] = Observation(rows / teams, teams, "rows_per_team")  # teams behind it
    shares = (("pct_production_ready", "production_ready_count"), ("pct_complete", "complete_count"),
              ("pct_poor", tier_metric_name(table.poor_tier) if table.poor_tier else None))
    for name, metric in shares:
        if metric and values.get(metric) is not None:
            tracked[name] = Observation(100.0 * values[metric] / rows, rows, "count_pct")
    hours = landing_hours(values, check_date, timezone)
    if hours is not None:
        tracked["landing_time"] = Observation(hours, 1, "landing")
    types = table.contract if table.contract is not None else (schema.live if schema is not None else {})
    level_exempt = set(table.schedule_driven_columns)
    for column, stats in (columns if columns is not None else profile_columns(table, schema)).items():
        nulls = values.get(stats["nulls"].name)
        if nulls is None:
            continue
        tracked[f"null_pct:{column}"] = Observation(100.0 * nulls / rows, rows, "count_pct")
        if "mean" not in stats or column in level_exempt:
            continue
        present = rows - nulls
        sd = values.get(stats["stddev"].name)
        low, high = values.get(stats["min"].name), values.get(stats["max"].name)
        value_range = float(high) - float(low) if isinstance(low, (int, float)) and isinstance(high, (int, float)) else None
        integer = (types.get(column) or "").upper() in ("INTEGER", "INT64")
        for statistic in ("mean", "median", "stddev"):
            number = values.get(stats[statistic].name)
            if number is not None and present >= 2 and math.isfinite(float(number)):
                tracked[f"{statistic}:{column}"] = Observation(float(number), present, statistic, integer,
                                                               None if sd is None else float(sd), value_range)
    return tracked


NIGHT_HOURS = 24.0   # a landing this long after the date's midnight is no night's run: a reprocess


def landing_hours(values: Mapping[str, Any], check_date: dt.date, timezone: str) -> float | None:
    """The night's landing of a date, in hours after its midnight (deadline time zone): its first
    recorded landing (``first_landed_at``) or MAX(processed_at); None when there is none, when the
    caller marked the date re-landed (``landing_judged`` False), or when it landed a day or more
    after its date (a reprocess, not the night's run)."""
    if values.get("landing_judged") is False:
        return None
    landed = values.get("first_landed_at") or values.get("max_processed_at")
    if not isinstance(landed, dt.datetime):
        return None
    if landed.tzinfo is None:
        landed = landed.replace(tzinfo=dt.timezone.utc)
    midnight = dt.datetime.combine(check_date, dt.time(0), tzinfo=ZoneInfo(timezone))
    hours = (landed - midnight).total_seconds() / 3600
    return hours if hours < NIGHT_HOURS else None


def _sampling_variance(kind: str, rows: int, center: float, unit_sd: float) -> float:
    """The variance a day's value has from sampling its rows alone."""
    if rows <= 1:
        return 0.0
    if kind == "count_pct":
        share = min(max(center / 100.0, 0.0), 1.0)
        return 100.0 ** 2 * share * (1 - share) / rows
    if kind == "mean":
        return unit_sd ** 2 / rows
    if kind == "median":
        return (MEDIAN_EFFICIENCY * unit_sd) ** 2 / rows
    if kind == "stddev":
        return unit_sd ** 2 / (2 * (rows - 1))
    return 0.0


def _reference_range(observation: Observation, baseline: Sequence[Observation]) -> float:
    """How far apart one row's value can stand: the column's max - min on its second widest
    baseline day (one odd day does not set it); for a column constant in its baseline, today's;
    at least one unit for an INTEGER column (a count moves in whole units)."""
    ranges = sorted(b.unit_range for b in baseline if b.unit_range is not None)
    reference = (ranges[-2] if len(ranges) >= 2 else ranges[-1]) if ranges else 0.0
    if reference == 0.0 and observation.unit_range is not None:
        reference = observation.unit_range
    if observation.integer:
        reference = max(reference, 1.0)
    return reference


def one_row_worth(observation: Observation, center: float, floors: "BaselineConfig",
                  baseline: Sequence[Observation]) -> float:
    """What ``floor_rows`` of the day's rows can do to the metric on their own: the least spread
    a metric is judged with, so a handful of rows never pages anyone.

    - a share (NULL %, % ready, ...): that many rows of the day's rows, in percentage points;
    - a mean or median: that many rows moving across the column's reference range;
    - a standard deviation: that many rows moving from the middle to the range's edge, which
      widens it from ``center`` to sqrt(center² + k·range²/rows). A spread made by a couple of
      odd rows (every row at a bound but two) may vanish on a light slate without meaning anything.
    A column constant everywhere (its range 0) that moved as a whole: every row moved, so one
    row's worth is the move itself over the rows (the score is the number of rows behind it).
    """
    rows = max(observation.rows, 1)
    kind = observation.kind
    if kind == "count_pct":
        return 100.0 * floors.floor_rows / rows
    if kind in ("mean", "median", "stddev"):
        reference = _reference_range(observation, baseline)
        if kind == "stddev":
            base = max(center, 0.0)
            return math.sqrt(base ** 2 + floors.floor_rows * reference ** 2 / rows) - base
        if reference == 0.0:
            reference = abs(observation.value - center)
        return floors.floor_rows * reference / rows
    return 0.0


def _floor(observation: Observation, center: float, floors: "BaselineConfig",
           baseline: Sequence[Observation]) -> float:
    kind = observation.kind
    if kind == "count_pct":
        return max(floors.floor_pct_points, one_row_worth(observation, center, floors, baseline))
    if kind == "landing":
        return floors.floor_landing_hours
    if kind == "rows_per_team":
        return max(floors.floor_rows_per_team, floors.floor_relative * abs(center))
    floor = max(floors.floor_relative * abs(center), one_row_worth(observation, center, floors, baseline))
    if kind == "median" and observation.integer:
        floor = max(floor, 1.0)  # a small-integer median moves in whole units from one healthy day to the next
    return floor


def _pooled_sd(baseline: Sequence[Observation]) -> float:
    """A column's typical within-day standard deviation: the root mean square over the baseline
    days, leaving out the largest tenth (a bad day in the baseline must not blunt the check)."""
    variances = sorted((b.unit_sd or 0.0) ** 2 for b in baseline)
    keep = variances[: max(1, len(variances) - len(variances) // 10)]
    return math.sqrt(sum(keep) / len(keep))


def assess(metric: str, today: Observation, baseline: Sequence[Observation], floors: "BaselineConfig",
           warning: float) -> Drift:
    """How far ``today`` sits from ``baseline`` (the same metric on earlier game days).

    The spread expected today is the largest of:
    - the baseline's own day-to-day variation, each day's deviation scaled by the square root of
      the rows (or teams) behind it, then scaled back to today's: a light slate may move more;
    - the sampling noise of today's rows alone (binomial for shares, the column's pooled
      within-day deviation for means, medians and deviations);
    - a quarter of the range of deviations the baseline has already seen (less its most extreme
      day at each end; scaled by rows like the first), so a deviation the baseline has seen scores
      at most 4, under the default warning score (4.5);
    - the metric's floor ([baseline] floor_*).
    """
    values = [b.value for b in baseline]
    center = _median(values)
    scaled = [(b.value - center) * math.sqrt(max(b.rows, 1)) for b in baseline]
    per_unit = MAD_TO_SD * _median(abs(value) for value in scaled)
    seen_variation = per_unit / math.sqrt(max(today.rows, 1))
    unit_sd = _pooled_sd(baseline) if today.kind in ("mean", "median", "stddev") else 0.0
    sampling = math.sqrt(_sampling_variance(today.kind, today.rows, center, unit_sd))
    ordered = sorted(scaled)
    seen = (ordered[-2] - ordered[1] if len(ordered) >= 4 else ordered[-1] - ordered[0]) / math.sqrt(max(today.rows, 1))
    spread = max(seen_variation, sampling, seen / SEEN_RANGE_SPREADS, _floor(today, center, floors, baseline))
    # every floor has a meaning (one row's worth): a spread of 0 is left only where nothing moved
    score = (today.value - center) / spread if spread > 0 else 0.0
    low, high = center - warning * spread, center + warning * spread
    if today.kind == "stddev":
        # a spread is judged downwards only: a column collapsing towards one value. A wider one
        # moves the mean or breaks a range, which are judged; rare values (a 0/1 column) widen
        # it by chance far more than any sampling model allows.
        score, high = min(score, 0.0), math.inf
    if today.kind in ("count_pct", "stddev", "rows_per_team"):
        low = max(low, 0.0)                 # shares, spreads and counts are never negative
    if today.kind == "count_pct":
        high = min(high, 100.0)
    if today.kind in ("mean", "median") and all(value >= 0 for value in values):
        low = max(low, 0.0)                 # a column never negative in its baseline: no negative range
    return Drift(metric, today.value, center, low, high, score, len(baseline), spread)


def drifts(today: Mapping[str, Observation],
           baseline_days: Iterable[Mapping[str, Observation]], floors: "BaselineConfig",
           warning: float) -> tuple[list[Drift], int]:
    """Every tracked metric of the day against the baseline days that have it; metrics with fewer
    than ``minimum_game_days`` baseline values are not judged (their count is returned)."""
    days = list(baseline_days)
    judged, too_short = [], 0
    for metric, observation in today.items():
        history = [day[metric] for day in days if metric in day]
        if len(history) < floors.minimum_game_days:
            too_short += 1
            continue
        judged.append(assess(metric, observation, history, floors, warning))
    return judged, too_short
