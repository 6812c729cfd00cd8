"""Declared new levels: "this metric's new level starts on this date", so its baseline restarts there.

A lasting shift stays flagged every day (a day judged non-OK is never a baseline day for what it
was flagged on) until it is fixed, or until someone declares it intended in the configuration:

    [[baseline.new_levels]]
    table = "player_daily_cache"
    metric = "minutes_avg_last_10"      # a column (each of its tracked statistics) or one metric id
    since = 2026-03-05                  # the first day at the new level
    reason = "minutes window now counts overtime (PR 812)"

From ``since`` on, that metric's baseline is drawn from days on or after ``since`` only, and those
days' flags on it are not held against them; until ``minimum_game_days`` such days exist the
metric is not judged ("new level since …, k of 7 game days").
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, NamedTuple

__all__ = ["NewLevel", "parse_new_levels", "untracked"]

_METRIC = re.compile(r"^((null_pct|mean|median|stddev):)?[A-Za-z_][A-Za-z0-9_]*$")


class NewLevel(NamedTuple):
    table: str
    metric: str          # a column name, or a tracked metric id ("mean:minutes_avg_last_10", "rows_per_team")
    since: dt.date
    reason: str

    def covers(self, metric: str) -> bool:
        """Whether a tracked metric id is this declaration's: itself, or a statistic of its column."""
        named = self.metric.lower()  # column names ignore case, as the contract check does
        return metric.lower() == named or metric.partition(":")[2].lower() == named


def parse_new_levels(raw: Any, key: str = "baseline.new_levels") -> tuple[NewLevel, ...]:
    """Validate ``[[baseline.new_levels]]`` entries; a ValueError says which entry and key is wrong.
    The table names are checked against the monitored tables by the caller."""
    if not isinstance(raw, list):
        raise ValueError(f"{key} must be a list of tables ([[{key}]] entries)")
    levels = []
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(entry, dict):
            raise ValueError(f"{where} must be a table with table, metric, since and reason")
        unknown = sorted(set(entry) - set(NewLevel._fields))
        if unknown:
            raise ValueError(f"{where}: unknown key {unknown[0]!r} (expected table, metric, since, reason)")
        missing = [name for name in NewLevel._fields if name not in entry]
        if missing:
            raise ValueError(f"{where}: missing {', '.join(missing)}")
        table, metric, since, reason = (entry[name] for name in NewLevel._fields)
        if not isinstance(table, str) or not table:
            raise ValueError(f"{where}.table must be a monitored table's name, got {table!r}")
        if not isinstance(metric, str) or not _METRIC.match(metric):
            raise ValueError(f"{where}.metric must be a column name or a metric id such as "
                             f"\"mean:minutes_avg_last_10\", got {metric!r}")
        if isinstance(since, dt.datetime) or not isinstance(since, dt.date):
            raise ValueError(f"{where}.since must be a date (since = 2026-03-05, unquoted), got {since!r}")
        if not isinstance(reason, str) or not reason.strip():
            raise ValueError(f"{where}.reason must say why the new level is intended")
        levels.append(NewLevel(table, metric, since, reason.strip()))
    return tuple(levels)


TABLE_METRICS = ("rows_per_team", "pct_production_ready", "pct_complete", "pct_poor", "landing_time")
NUMERIC = ("INTEGER", "INT64", "FLOAT", "FLOAT64", "NUMERIC", "BIGNUMERIC")


def untracked(level: NewLevel, contract: "dict[str, str] | None", schedule_driven: tuple[str, ...]) -> str | None:
    """Why anomalies tracks nothing a declaration names (a typo, another table's column, a
    statistic a column has none of), or None. Without a contract any column name is taken."""
    if level.metric in TABLE_METRICS:
        return None
    statistic, _, column = level.metric.rpartition(":")
    if contract is None:
        return None
    types = {name.lower(): kind.upper() for name, kind in contract.items()}
    if column.lower() not in types:
        return f"{level.table} has no column {column} in its contract"
    if statistic in ("mean", "median", "stddev"):
        if types[column.lower()] not in NUMERIC:
            return f"{column} is {types[column.lower()]}: only numeric columns have a {statistic}"
        if column in schedule_driven:
            return f"{column} is schedule-driven: only its NULL % is tracked (metric = \"null_pct:{column}\")"
    return None
