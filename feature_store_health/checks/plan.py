"""The run's plan: one aggregate query per monitored table, holding the selected dimensions' metrics.

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

__all__ = ["CheckSpec", "FINGERPRINTS", "FULL", "ISSUE_METRICS", "QueryScope", "parse_fingerprints", "applicable_dimensions",
           "columns_read_by_checks", "day_metrics", "query_dimensions", "fingerprint_metrics", "report_metrics", "scoped_dimensions", "table_query"]


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


class QueryScope(NamedTuple):
    """What a table's one query computes beyond the day's identity: the metrics of the dimensions
    the run judges (``dimensions``; None: every applicable one), the column profile (anomalies'
    baseline tracks it; the HTML's Columns section and the results JSON show it), and the trend's
    metrics (a multi-date console, the HTML and the results JSON show the trend)."""

    dimensions: frozenset[str] | None = None
    profile: bool = True
    trend: bool = True

    def complete(self) -> bool:
        """Whether the query computes every metric a baseline of a later run may read: then its
        values are recorded whole (a narrower run's only where they cannot mix with another
        record's: run_record.py)."""
        return self.profile and self.dimensions is None


FULL = QueryScope()


def day_metrics(table: "TableConfig") -> tuple[Metric, ...]:
    """What every query holds, whatever was selected: the date's rows, games and the schedule's
    last game (every dimension's BASE), and the latest processed_at: with the row count, the
    fingerprint of the rows a verdict judged (history/records.py)."""
    from feature_store_health.checks.dimensions.base import BASE
    from feature_store_health.checks.dimensions.staleness import max_processed_at

    return (*BASE, *((max_processed_at(table.processed_at_column),) if table.processed_at_column else ()))


def query_dimensions(table: "TableConfig", config: "HealthConfig") -> list[str]:
    """The applicable dimensions judged from the table's aggregate query (not schema, judged from
    metadata, nor source_consistency, from a query of its own)."""
    return [dimension_id for dimension_id in applicable_dimensions(table)
            if DIMENSIONS[dimension_id].own_query is None and DIMENSIONS[dimension_id].metrics(table, config)]


def scoped_dimensions(table: "TableConfig", scope: QueryScope) -> list[str]:
    """The applicable dimensions whose metrics the query holds: the selected ones, and arrival
    whenever it applies (every check of a date waits for its rows to land: run_arrival.py)."""
    applicable = applicable_dimensions(table)
    if scope.dimensions is None:
        return applicable
    return [dimension_id for dimension_id in applicable if dimension_id in scope.dimensions or dimension_id == "arrival"]


def table_query(table: "TableConfig", config: "HealthConfig", schema: "SchemaReport | None" = None,
                fingerprints: bool = False, learned: str | None = None, scope: QueryScope = FULL) -> AggregateQuery:
    """The metrics of the dimensions in ``scope`` (every applicable one by default), and the
    reports' metrics, for ``table``: one query; with ``fingerprints``, each earlier date's row
    count and landing from @baseline_start too. Metrics over columns the live schema cannot serve
    are left out."""
    metrics = [metric for dimension_id in scoped_dimensions(table, scope)
               for metric in DIMENSIONS[dimension_id].metrics(table, config)]
    if scope.dimensions is not None:
        metrics += day_metrics(table)
    if scope.dimensions is None or scope.trend:   # the reports' players, processing window and issues
        metrics += report_metrics(table)
    if scope.dimensions is not None and scope.trend:   # the trend's columns of dimensions not selected
        from feature_store_health.checks.trend import trend_metric_names

        shown = trend_metric_names(table)
        metrics += [metric for dimension_id in applicable_dimensions(table)
                    for metric in DIMENSIONS[dimension_id].metrics(table, config) if metric.name in shown]
    if scope.dimensions is not None and learned is not None:
        metrics += learned_outputs(table, config, metrics)
    if scope.profile:
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


def learned_outputs(table: "TableConfig", config: "HealthConfig", planned: list[Metric]) -> list[Metric]:
    """The learned values' outputs of drift and continuity not yet ``planned``: the learned CTE
    learns for both whatever was selected (run_distributions._learning_columns), and what it
    learned is recorded and reused by later runs, so a run of one (-m continuity) returns the
    other's too; without them it would record no bin edges (no jump limits) for later runs."""
    names = {metric.name for metric in planned}
    return [metric for dimension_id in ("drift", "continuity") if dimension_id in applicable_dimensions(table)
            for metric in DIMENSIONS[dimension_id].metrics(table, config)
            if metric.source is Source.LEARNED and metric.name not in names]


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
