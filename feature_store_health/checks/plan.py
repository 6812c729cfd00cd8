"""The run's plan: one aggregate query per monitored table, holding every dimension's metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.query import AggregateQuery, build_aggregate_query

if TYPE_CHECKING:
    from feature_store_health.config import HealthConfig, TableConfig

__all__ = ["profile_metrics", "table_query"]


def profile_metrics(table: "TableConfig") -> tuple[Metric, ...]:
    """What the reports show beyond the dimensions' own metrics (players, processing window)."""
    return (
        Metric(Source.FEATURES, "player_count", f"COUNT(DISTINCT {table.player_column})"),
        Metric(Source.FEATURES, "min_processed_at", f"MIN({table.processed_at_column})", empty_value=None),
    )


def table_query(table: "TableConfig", config: "HealthConfig") -> AggregateQuery:
    """Every metric of every dimension, and the reports' profile, for ``table``: one query."""
    metrics = [metric for dimension in DIMENSIONS.values() for metric in dimension.metrics(table, config)]
    return build_aggregate_query(table, config, [*metrics, *profile_metrics(table)])
