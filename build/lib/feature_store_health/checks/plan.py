"""The run's plan: one aggregate query per monitored table, holding every dimension's metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.query import AggregateQuery, build_aggregate_query

if TYPE_CHECKING:
    from feature_store_health.config import HealthConfig, TableConfig

__all__ = ["ISSUE_METRICS", "profile_metrics", "table_query"]


ISSUE_METRICS = {  # issue field -> metric holding that day's values (counted in Python over the window)
    "insufficient_data_reason_column": "insufficient_data_reasons",
    "data_quality_issues_column": "data_quality_issue_values",
}


def profile_metrics(table: "TableConfig") -> tuple[Metric, ...]:
    """What the reports show beyond the dimensions' own metrics: players, processing window, and
    the day's insufficient_data_reason / data_quality_issues values (a few hundred strings a day),
    so the weekly report's most common values need no second query."""
    metrics = [
        Metric(Source.FEATURES, "player_count", f"COUNT(DISTINCT {table.player_column})"),
        Metric(Source.FEATURES, "min_processed_at", f"MIN({table.processed_at_column})", empty_value=None),
    ]
    if table.insufficient_data_reason_column:
        metrics.append(Metric(Source.FEATURES, ISSUE_METRICS["insufficient_data_reason_column"],
                              f"ARRAY_AGG({table.insufficient_data_reason_column} IGNORE NULLS)", empty_value=()))
    if table.data_quality_issues_column:
        metrics.append(Metric(Source.FEATURES, ISSUE_METRICS["data_quality_issues_column"],
                              f"ARRAY_CONCAT_AGG({table.data_quality_issues_column})", empty_value=()))
    return tuple(metrics)


def table_query(table: "TableConfig", config: "HealthConfig") -> AggregateQuery:
    """Every metric of every dimension, and the reports' profile, for ``table``: one query."""
    metrics = [metric for dimension in DIMENSIONS.values() for metric in dimension.metrics(table, config)]
    return build_aggregate_query(table, config, [*metrics, *profile_metrics(table)])
