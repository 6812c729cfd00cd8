"""The run's plan: one aggregate query per monitored table, holding every dimension's metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.query import AggregateQuery, build_aggregate_query

if TYPE_CHECKING:
    from feature_store_health.config import HealthConfig, TableConfig

__all__ = ["table_query"]


def table_query(table: "TableConfig", config: "HealthConfig") -> AggregateQuery:
    """Every metric of every dimension for ``table``, in one query (shared metrics once)."""
    metrics = [metric for dimension in DIMENSIONS.values() for metric in dimension.metrics(table, config)]
    return build_aggregate_query(table, config, metrics)
