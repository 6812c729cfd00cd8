"""quality_tiers: % rows in the POOR tier; and the tier itself populated.

The POOR share is banded by ``*_above``; a tier NULL on every row ("not populated") or on more
than ``null_warning_above`` % of the rows is a WARNING; the worst of the two decides.
"""

from __future__ import annotations

from typing import Any, Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import (
    BASE, Dimension, Judgement, JudgeContext, SampleRule, Values, band, judged_value, nothing_to_judge, optional,
    pct, shown, slug, sql_string,
)
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.verdict import Severity, worst

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["DIMENSION", "tier_metric_name", "tier_slug"]


def tier_slug(tier: str) -> str:
    """A tier value's safe form for SQL aliases. The value itself reaches SQL only as a string
    literal; the configuration rejects tiers whose slugs collide ("POOR" and "poor") or are empty."""
    return slug(tier)


def tier_metric_name(tier: str) -> str:
    return f"tier_count__{tier_slug(tier)}"


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    column = table.quality_tier_column
    return (
        *BASE,
        Metric(Source.FEATURES, "tier_null_count", f"COUNTIF({column} IS NULL)", columns=(column,)),
        *(Metric(Source.FEATURES, tier_metric_name(tier), f"COUNTIF({column} = {sql_string(tier)})", columns=(column,))
          for tier in table.quality_tiers),
    )


def _null_limit(limits: Mapping[str, float]) -> dict[str, float]:
    """The NULL-tier limit, as a band() warning limit."""
    return {"warning_above": limits["null_warning_above"]} if "null_warning_above" in limits else {}


def _poor_limits(limits: Mapping[str, float]) -> dict[str, float]:
    """The POOR-share limits (every limit but the NULL-tier one)."""
    return {key: value for key, value in limits.items() if key != "null_warning_above"}


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    if (skip := nothing_to_judge(values, ctx)) is not None:
        return skip
    rows, unset = values["row_count"], values["tier_null_count"]
    distribution = {tier: values[tier_metric_name(tier)] for tier in table.quality_tiers}
    null_share = pct(unset, rows)
    details = {"tiers": distribution, "tier_null": unset, "tier_null_pct": judged_value(null_share, _null_limit(limits)),
               "rows": rows}
    column = table.quality_tier_column
    if unset == rows:
        return Judgement(Severity.WARNING, None, f"{column} not populated (NULL on all {rows} rows)", details)
    poor = distribution[table.poor_tier]
    poor_share = pct(poor, rows)
    poor_limits = _poor_limits(limits)
    message = f"{shown(poor_share, poor_limits)}% {table.poor_tier} ({poor}/{rows})"
    null_severity = band(null_share, _null_limit(limits), "above")
    if null_severity is not Severity.OK:
        message += f"; {column} NULL on {shown(null_share, _null_limit(limits))}% of rows ({unset}/{rows})"
    return Judgement(worst(band(poor_share, poor_limits, "above"), null_severity),
                     judged_value(poor_share, poor_limits), message, details)


def rules(table: "TableConfig") -> tuple[SampleRule, ...]:
    column = table.quality_tier_column
    return (SampleRule("poor", f"{column} = {sql_string(table.poor_tier)}"), SampleRule("null", f"{column} IS NULL"))


def failing(details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> tuple[str, ...]:
    """POOR rows when the POOR share failed; NULL-tier rows when the tier is not (fully) populated."""
    rows, unset = details.get("rows"), details.get("tier_null")
    if not rows:
        return ()
    poor_limits = _poor_limits(limits)
    reasons = []
    if band(pct(details["tiers"][table.poor_tier], rows), poor_limits, "above") is not Severity.OK:
        reasons.append("poor")
    if unset == rows or band(pct(unset, rows), _null_limit(limits), "above") is not Severity.OK:
        reasons.append("null")
    return tuple(reasons)


DIMENSION = Dimension(
    "quality_tiers", "Quality Tiers", "% rows in the POOR tier; tier NULL (not populated)",
    ("warning_above", "error_above", "critical_above", "null_warning_above"), metrics, judge,
    rules,
    lambda table: (table.quality_tier_column, *optional(table.insufficient_data_reason_column)),
    failing,
    applies=lambda table: bool(table.quality_tier_column and table.poor_tier),
)
