"""completeness: % rows with every rolling window (l5, l10, l7d, l14d) complete."""

from __future__ import annotations

from typing import Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import (
    BASE, Dimension, Judgement, JudgeContext, SampleRule, Values, count_true, optional,
)
from feature_store_health.checks.dimensions.production_readiness import share_of_rows
from feature_store_health.checks.metrics import Metric, Source

if TYPE_CHECKING:
    from feature_store_health.config import HealthConfig, TableConfig

__all__ = ["DIMENSION"]


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    column = table.completeness_column
    return (*BASE, Metric(Source.FEATURES, "complete_count", count_true(column), columns=(column,)))


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    return share_of_rows(values, limits, "complete_count", "rows with all windows complete")


DIMENSION = Dimension(
    "completeness", "Completeness", "% rows with all rolling windows complete",
    ("warning_below", "error_below", "critical_below"), metrics, judge,
    lambda table: (SampleRule("incomplete", f"{table.completeness_column} IS NOT TRUE"),),
    lambda table: (table.completeness_column, *optional(table.insufficient_data_reason_column)),
    applies=lambda table: bool(table.completeness_column),
)
