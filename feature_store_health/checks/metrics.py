"""Metrics: named aggregates that checks declare and the query builder batches.

A metric is identified by (source, name); two checks needing ``row_count`` share one column of
the one aggregate query. The SQL is BigQuery Standard SQL, evaluated per date of the run.
"""

from __future__ import annotations

import enum
from typing import Any, NamedTuple

__all__ = ["Metric", "Source"]


class Source(enum.Enum):
    """Which table (common table expression) a metric aggregates over."""

    FEATURES = "features"      # the monitored table, filtered to the run's dates
    SCHEDULE = "schedule"      # nba_schedule, one row per team playing per game
    PREDICTIONS = "predictions"  # player_prop_predictions
    DUPLICATES = "duplicates"  # the monitored table's keys written more than once per date
    # one row: the monitored table's row count and latest processed_at per day from the first
    # baseline day (@baseline_start) to the day before the run's window: what tells whether a
    # recorded baseline day was rerun or backfilled since
    FINGERPRINTS = "fingerprints"
    # nba_schedule as a whole, not per date: one row, the same for every date (its last game)
    SCHEDULE_SPAN = "schedule_span"
    # one row: the values drift and continuity learned (bin edges, |Δ| limits), literal or computed
    # from the lookback (checks/learned.py); metrics of other sources read them as ``learned.*``
    LEARNED = "learned"
    # each player's row of a date beside their previous row within 7 days (continuity)
    PAIRS = "pairs"
    # one row per team and date: whether a team column differs between the team's players
    TEAM_VALUES = "team_values"


class Metric(NamedTuple):
    """An aggregate expression over one source, grouped by date. Hashable, so checks share it."""

    source: Source
    name: str
    sql: str
    # value for a date on which the source has no rows at all (counts are 0, MAX is NULL, lists empty)
    empty_value: Any = 0
    # the monitored table's columns the expression reads: a metric whose column is missing or
    # retyped is left out of the query, and the checks that need it are NOT_EVALUATED
    columns: tuple[str, ...] = ()
