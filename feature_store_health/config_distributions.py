"""The table keys of drift and continuity (SPEC §14): which columns each judges.

- ``drift_columns``: the numeric columns whose distribution is tracked. Default: every numeric
  column of the contract, less the unique key, the ``schedule_driven_columns`` (a break moves
  them by design) and ``drift_exclude`` (names or patterns, e.g. ``"*_rows_found"``).
- category columns: every STRING column with a declared domain (``{ values = [...] }`` in
  ``[tables.value_ranges]``); not a key of its own.
- ``continuity_columns``: the columns that move slowly per player by construction (season
  averages, rolling means, age). Unset: continuity is not collected for the table.
- ``continuity_counters``: columns that never decrease within a season and rise by at most one
  a day (games_played_season).
- ``team_columns``: numeric columns equal for every player of a team on a date (needs ``team_column``).
"""

from __future__ import annotations

import fnmatch
from typing import Any, Mapping, NamedTuple

__all__ = ["DISTRIBUTION_KEYS", "Distributions", "parse_distributions"]

DISTRIBUTION_KEYS = {"drift_columns", "drift_exclude", "continuity_columns", "continuity_counters", "team_columns"}


class Distributions(NamedTuple):
    drift_columns: tuple[str, ...] = ()
    category_columns: tuple[str, ...] = ()
    continuity_columns: tuple[str, ...] = ()
    continuity_counters: tuple[str, ...] = ()
    team_columns: tuple[str, ...] = ()


def _names(entry: Mapping[str, Any], key: str, prefix: str, string_list, pattern) -> tuple[str, ...] | None:
    if key not in entry:
        return None
    return string_list(entry[key], f"{prefix}.{key}", pattern)


def parse_distributions(entry: Mapping[str, Any], prefix: str, contract: Mapping[str, str] | None,
                        value_ranges: tuple[Any, ...], unique_key: tuple[str, ...], schedule_driven: tuple[str, ...],
                        team_column: str | None, string_list, column_pattern, error) -> Distributions:
    """The table's distribution columns, validated against its contract (``error``: ConfigError)."""
    from feature_store_health.checks.contract import kind

    def known(columns: tuple[str, ...], key: str, wanted: str | None = None) -> tuple[str, ...]:
        for column in columns:
            if contract is not None and column not in contract:
                raise error(f"{prefix}.{key}: {column} is not a column of the table's contract")
            if wanted and contract is not None and kind(contract[column]) != wanted:
                raise error(f"{prefix}.{key}: {column} is {contract[column]}, not a number: list numeric columns")
        if len(set(columns)) != len(columns):
            raise error(f"{prefix}.{key} lists a column twice")
        return columns

    exclude = _names(entry, "drift_exclude", prefix, string_list, None) or ()
    for pattern in exclude:
        if contract is not None and not any(fnmatch.fnmatchcase(column, pattern) for column in contract):
            raise error(f"{prefix}.drift_exclude: {pattern!r} matches no column of the contract")
    explicit = _names(entry, "drift_columns", prefix, string_list, column_pattern)
    if explicit is not None:
        drift = known(explicit, "drift_columns", "number")
    elif contract is not None:
        left_out = set(unique_key) | set(schedule_driven)
        drift = tuple(column for column, column_type in contract.items()
                      if kind(column_type) == "number" and column not in left_out
                      and not any(fnmatch.fnmatchcase(column, pattern) for pattern in exclude))
    else:
        drift = ()
    categories = tuple(rule.column for rule in value_ranges
                       if rule.values is not None and (contract is None or kind(contract.get(rule.column, "")) == "text"))
    continuity = known(_names(entry, "continuity_columns", prefix, string_list, column_pattern) or (),
                       "continuity_columns", "number")
    counters = known(_names(entry, "continuity_counters", prefix, string_list, column_pattern) or (),
                     "continuity_counters", "number")
    # numbers: the rule is MAX - MIN over the team's players
    teams = known(_names(entry, "team_columns", prefix, string_list, column_pattern) or (), "team_columns", "number")
    if teams and not team_column:
        raise error(f"{prefix}.team_columns needs team_column (the team a row belongs to)")
    if (counters or teams) and not continuity:
        raise error(f"{prefix}: continuity_counters and team_columns need continuity_columns (the slow columns)")
    return Distributions(drift, categories, continuity, counters, teams)
