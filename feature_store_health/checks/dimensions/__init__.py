"""The health dimensions, one module each (its metrics, its judge, its samples side by side).

``DIMENSIONS`` is the one place that lists them, in the order the suite runs and reports them.
"""

from __future__ import annotations

from typing import Any, Callable

from feature_store_health.checks.dimensions import (
    anomalies,
    arrival,
    completeness,
    continuity,
    coverage,
    downstream_usage,
    drift,
    null_rates,
    production_readiness,
    quality_tiers,
    schema,
    source_consistency,
    staleness,
    uniqueness,
    value_ranges,
)
from feature_store_health.checks.dimensions.base import (
    Dimension, JudgeContext, Judgement, SampleRule, band, judged_value, shown, sql_string,
)
from feature_store_health.checks.dimensions.null_rates import null_metric
from feature_store_health.checks.dimensions.quality_tiers import tier_metric_name, tier_slug

__all__ = [
    "DIMENSIONS", "Dimension", "JudgeContext", "Judgement", "SampleRule", "band", "judged_value",
    "null_metric_name", "shown", "sql_string", "tier_metric_name", "tier_slug",
]

MEMO_SIZE = 64  # (table, config) pairs a process keeps each dimension's metrics for


def _memoized(metrics: Callable[[Any, Any], tuple]) -> Callable[[Any, Any], tuple]:
    """A dimension's metrics for a (table, config) pair, computed once: a run asks for them per
    check (the plan, the scope, the waits for landing), and they are a pure function of the two
    immutable configs. Keyed by identity, holding the pair so an id is never reused while kept."""
    memo: dict[tuple[int, int], tuple[Any, Any, tuple]] = {}

    def memoized(table: Any, config: Any) -> tuple:
        kept = memo.get((id(table), id(config)))
        if kept is not None and kept[0] is table and kept[1] is config:
            return kept[2]
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        found = tuple(metrics(table, config))
        memo[(id(table), id(config))] = (table, config, found)
        return found

    memoized.__doc__ = metrics.__doc__
    return memoized


DIMENSIONS: dict[str, Dimension] = {
    module.DIMENSION.id: module.DIMENSION._replace(metrics=_memoized(module.DIMENSION.metrics))
    for module in (
        arrival,
        coverage,
        production_readiness,
        null_rates,
        quality_tiers,
        completeness,
        downstream_usage,
        staleness,
        schema,
        uniqueness,
        value_ranges,
        source_consistency,
        anomalies,
        drift,
        continuity,
    )
}


def null_metric_name(column: str) -> str:
    return null_metric(column).name
