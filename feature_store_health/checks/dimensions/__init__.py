"""The health dimensions, one module each (its metrics, its judge, its samples side by side).

``DIMENSIONS`` is the one place that lists them, in the order the suite runs and reports them.
"""

from __future__ import annotations

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

DIMENSIONS: dict[str, Dimension] = {
    module.DIMENSION.id: module.DIMENSION
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
