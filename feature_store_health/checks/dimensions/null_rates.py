"""null_rates: % NULL per critical feature; the worst one decides."""

from __future__ import annotations

from typing import Any, Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import (
    BASE, Dimension, Judgement, JudgeContext, SampleRule, Values, band, judged_value, nothing_to_judge, pct, shown,
)
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["DIMENSION", "null_metric"]


def null_metric(column: str) -> Metric:
    """NULL rows of a column; the column profile shares it."""
    return Metric(Source.FEATURES, f"null_count__{column}", f"COUNTIF({column} IS NULL)", columns=(column,))


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    return (*BASE, *(null_metric(feature) for feature in table.critical_features))


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    if (skip := nothing_to_judge(values, ctx)) is not None:
        return skip
    rows = values["row_count"]
    counts = {feature: values[null_metric(feature).name] for feature in table.critical_features}
    rates = {feature: pct(count, rows) for feature, count in counts.items()}
    worst = max(rates, key=lambda feature: rates[feature])  # first listed wins a tie
    details = {
        "null_pct": {feature: judged_value(rate, limits) for feature, rate in rates.items()},
        "null_count": counts,
        "worst_feature": worst,
        "rows": rows,
    }
    return Judgement(
        band(rates[worst], limits, "above"), judged_value(rates[worst], limits),
        f"worst {worst} {shown(rates[worst], limits)}% NULL ({counts[worst]}/{rows})", details,
    )


def failing(details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> tuple[str, ...]:
    """The features over a limit: their NULL rows made the check fail, not another feature's."""
    rows, counts = details.get("rows"), details.get("null_count", {})
    if not rows:
        return ()
    return tuple(feature for feature, count in counts.items() if band(pct(count, rows), limits, "above") is not Severity.OK)


DIMENSION = Dimension(
    "null_rates", "NULL Rates", "% NULL per critical feature, worst one decides",
    ("warning_above", "error_above", "critical_above"), metrics, judge,
    lambda table: tuple(SampleRule(feature, f"{feature} IS NULL") for feature in table.critical_features),
    lambda table: table.critical_features,
    failing,
    applies=lambda table: bool(table.critical_features),
    reasons_are_columns=True,
)
