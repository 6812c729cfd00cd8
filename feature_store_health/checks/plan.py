"""The run's plan: one aggregate query per monitored table, holding every dimension's metrics.

With the table's live columns known (one metadata lookup), a metric that reads a missing or
retyped column is left out, so the query still runs and only the checks that need that column
are NOT_EVALUATED.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, NamedTuple

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.guard import guard_metrics
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.profile import profile_metrics
from feature_store_health.checks.query import AggregateQuery, build_aggregate_query

if TYPE_CHECKING:
    from feature_store_health.checks.contract import SchemaReport
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["CheckSpec", "FINGERPRINTS", "ISSUE_METRICS", "parse_fingerprints", "applicable_dimensions", "columns_read_by_checks",
           "fingerprint_metrics", "report_metrics", "table_query"]


class CheckSpec(NamedTuple):
    """One parametrized test: a dimension of a table on a date."""

    table: str
    check_date: dt.date
    dimension: str

    @property
    def id(self) -> str:
        return f"{self.table}-{self.check_date.isoformat()}"


ISSUE_METRICS = {  # issue field -> metric holding that day's values (counted in Python over the window)
    "insufficient_data_reason_column": "insufficient_data_reasons",
    "data_quality_issues_column": "data_quality_issue_values",
}


def applicable_dimensions(table: "TableConfig") -> list[str]:
    """The dimensions whose columns the table's configuration names, in registry order."""
    return [dimension.id for dimension in DIMENSIONS.values() if dimension.applies(table)]


def columns_read_by_checks(table: "TableConfig", config: "HealthConfig") -> dict[str, tuple[str, ...]]:
    """Column -> the checks that cannot judge without it (the date column: every check of the
    table). A dimension that judges the columns it has (value_ranges) does not count."""
    read: dict[str, list[str]] = {table.date_column: ["every check"]}
    for dimension_id in applicable_dimensions(table):
        if DIMENSIONS[dimension_id].partial:
            continue
        for column in DIMENSIONS[dimension_id].columns(table, config):
            read.setdefault(column, []).append(dimension_id)
    return {column: tuple(dict.fromkeys(checks)) for column, checks in read.items()}


def report_metrics(table: "TableConfig") -> tuple[Metric, ...]:
    """What the reports show beyond the dimensions' own metrics: players, processing window, and
    the day's insufficient_data_reason / data_quality_issues values (a few hundred strings a day),
    so the weekly report's most common values need no second query."""
    metrics = [
        Metric(Source.FEATURES, "player_count", f"COUNT(DISTINCT {table.player_column})", columns=(table.player_column,)),
    ]
    if table.processed_at_column:
        metrics.append(Metric(Source.FEATURES, "min_processed_at", f"MIN({table.processed_at_column})",
                              empty_value=None, columns=(table.processed_at_column,)))
    if table.insufficient_data_reason_column:
        column = table.insufficient_data_reason_column
        metrics.append(Metric(Source.FEATURES, ISSUE_METRICS["insufficient_data_reason_column"],
                              f"ARRAY_AGG({column} IGNORE NULLS)", empty_value=(), columns=(column,)))
    if table.data_quality_issues_column:
        column = table.data_quality_issues_column
        metrics.append(Metric(Source.FEATURES, ISSUE_METRICS["data_quality_issues_column"],
                              f"ARRAY_CONCAT_AGG({column})", empty_value=(), columns=(column,)))
    return tuple(metrics)


FINGERPRINTS = "baseline_fingerprints"


def fingerprint_metrics(table: "TableConfig") -> tuple[Metric, ...]:
    """The recorded baseline days' fingerprints as one text, "date/rows/latest processed_at in µs"
    per day (comma-separated): a day whose fingerprint changed was rerun or backfilled, and is
    read again. One value on every row of the query, so the query keeps one row per run date."""
    text = ("STRING_AGG(CONCAT(CAST(day AS STRING), '/', CAST(day_rows AS STRING), '/', "
            "IFNULL(CAST(UNIX_MICROS(day_landed) AS STRING), '')), ',')")
    return (Metric(Source.FINGERPRINTS, FINGERPRINTS, text, empty_value="",
                   columns=(table.processed_at_column,) if table.processed_at_column else ()),)


def parse_fingerprints(text: str | None) -> dict[dt.date, tuple[int, dt.datetime | None]]:
    """The fingerprints text back as {day: (rows, latest processed_at in UTC)}."""
    found = {}
    for item in (text or "").split(","):
        if not item:
            continue
        day, rows, micros = item.split("/")
        landed = (dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=int(micros))
                  if micros else None)
        found[dt.date.fromisoformat(day)] = (int(rows), landed)
    return found


def table_query(table: "TableConfig", config: "HealthConfig", schema: "SchemaReport | None" = None,
                fingerprints: bool = False, learned: str | None = None) -> AggregateQuery:
    """Every metric of every applicable dimension, and the reports' metrics, for ``table``: one
    query; with ``fingerprints``, each earlier date's row count and landing from @baseline_start
    too. Metrics over columns the live schema cannot serve are left out."""
    metrics = [metric for dimension_id in applicable_dimensions(table)
               for metric in DIMENSIONS[dimension_id].metrics(table, config)]
    metrics += report_metrics(table)
    metrics += profile_metrics(table, schema)
    if fingerprints:
        metrics += fingerprint_metrics(table)
    # the reprocess guard's counts ([remediation] configured): in this query, never one of their own
    metrics += guard_metrics(table, getattr(config, "remediation", None))
    if schema is not None:
        metrics = [metric for metric in metrics if all(schema.usable(column) for column in metric.columns)]
    if learned is None:  # no learned values given: drift's and continuity's counts wait for them
        metrics = [metric for metric in metrics if "learned." not in metric.sql]
    rows = distribution_rows(table, schema)
    metrics = [metric for metric in metrics if metric.source not in (Source.PAIRS, Source.TEAM_VALUES) or metric.source in rows]
    return build_aggregate_query(table, config, metrics, learned, rows)


def distribution_rows(table: "TableConfig", schema: "SchemaReport | None" = None) -> dict[Source, str]:
    """The row-level subqueries continuity's metrics aggregate (its columns the live table has)."""
    from feature_store_health.checks.dimensions.continuity import (
        pair_columns, pairs_rows_sql, team_columns, team_rows_sql,
    )

    usable = (lambda column: True) if schema is None else schema.usable
    rows = {}
    # each column the live table lacks is left out alone: the others are still paired and judged
    if pair_columns(table, usable) and usable(table.player_column):
        rows[Source.PAIRS] = pairs_rows_sql(table, usable)
    if team_columns(table, usable) and usable(table.team_column):
        rows[Source.TEAM_VALUES] = team_rows_sql(table, usable)
    return rows
