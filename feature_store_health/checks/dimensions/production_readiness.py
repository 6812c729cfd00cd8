"""production_readiness: % rows with is_production_ready = TRUE (NULL counts as not ready)."""

from __future__ import annotations

from typing import Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import (
    BASE, Dimension, Judgement, JudgeContext, SampleRule, Values, band, count_true, judged_value, nothing_to_judge,
    optional, pct, shown,
)
from feature_store_health.checks.metrics import Metric, Source

if TYPE_CHECKING:
    from feature_store_health.config import HealthConfig, TableConfig

__all__ = ["DIMENSION", "share_of_rows"]


def share_of_rows(values: Values, limits: Mapping[str, float], metric: str, what: str) -> Judgement:
    """% rows counted by ``metric`` (TRUE rows), judged against ``*_below`` limits."""
    if (skip := nothing_to_judge(values)) is not None:
        return skip
    part, rows = values[metric], values["row_count"]
    share = pct(part, rows)
    return Judgement(band(share, limits, "below"), judged_value(share, limits),
                     f"{shown(share, limits)}% {what} ({part}/{rows})", {metric: part, "rows": rows})


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    column = table.production_ready_column
    return (*BASE, Metric(Source.FEATURES, "production_ready_count", count_true(column), columns=(column,)))


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    return share_of_rows(values, limits, "production_ready_count", "production ready")


DIMENSION = Dimension(
    "production_readiness", "Production Readiness", "% rows production ready",
    ("warning_below", "error_below", "critical_below"), metrics, judge,
    lambda table: (SampleRule("not_ready", f"{table.production_ready_column} IS NOT TRUE"),),
    lambda table: (table.production_ready_column, *optional(table.insufficient_data_reason_column)),
    applies=lambda table: bool(table.production_ready_column),
)
