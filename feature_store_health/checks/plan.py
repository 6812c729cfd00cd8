"""The run's plan: one aggregate query per monitored table, holding every dimension's metrics.

With the table's live columns known (one metadata lookup), a metric that reads a missing or
retyped column is left out, so the query still runs and only the checks that need that column
are NOT_EVALUATED.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.profile import profile_metrics
from feature_store_health.checks.query import AggregateQuery, build_aggregate_query

if TYPE_CHECKING:
    from feature_store_health.checks.contract import SchemaReport
    from feature_store_health.config import HealthConfig, TableConfig

__all__ = ["ISSUE_METRICS", "applicable_dimensions", "columns_read_by_checks", "report_metrics", "table_query"]


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


def table_query(table: "TableConfig", config: "HealthConfig", schema: "SchemaReport | None" = None) -> AggregateQuery:
    """Every metric of every applicable dimension, and the reports' metrics, for ``table``: one
    query. Metrics over columns the live schema cannot serve are left out."""
    metrics = [metric for dimension_id in applicable_dimensions(table)
               for metric in DIMENSIONS[dimension_id].metrics(table, config)]
    metrics += report_metrics(table)
    metrics += profile_metrics(table, schema)
    if schema is not None:
        metrics = [metric for metric in metrics if all(schema.usable(column) for column in metric.columns)]
    return build_aggregate_query(table, config, metrics)
