"""staleness: hours from MAX(processed_at) to the as-of time."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import (
    BASE, Dimension, Judgement, JudgeContext, Values, band, judged_value, nothing_to_judge, shown,
)
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["DIMENSION", "max_processed_at"]


def max_processed_at(column: str) -> Metric:
    return Metric(Source.FEATURES, "max_processed_at", f"MAX({column})", empty_value=None, columns=(column,))


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    return (*BASE, max_processed_at(table.processed_at_column))


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    if (skip := nothing_to_judge(values, ctx)) is not None:
        return skip
    latest: dt.datetime | None = values["max_processed_at"]
    as_of = ctx.as_of.astimezone(dt.timezone.utc)
    details: dict[str, Any] = {"as_of": as_of.isoformat(), "max_processed_at": None}
    if latest is None:
        return Judgement(
            Severity.ERROR, None,
            f"{table.processed_at_column} is NULL on all {values['row_count']} rows: freshness unknown", details,
        )
    # Hours are computed here, not in SQL: dialects disagree on TIMESTAMP_DIFF at boundaries.
    hours = (as_of - latest).total_seconds() / 3600
    details["max_processed_at"] = latest.isoformat()
    when = "after" if hours < 0 else "before"
    shown_hours = shown(abs(hours), [abs(limit) for limit in limits.values()])
    message = f"last processed {shown_hours} h {when} the as-of time {as_of:%Y-%m-%d %H:%M} UTC"
    return Judgement(band(hours, limits, "above"), judged_value(hours, limits), message, details)


DIMENSION = Dimension(
    "staleness", "Staleness", "hours from MAX(processed_at) to the as-of time",
    ("warning_above", "error_above", "critical_above"), metrics, judge,
    applies=lambda table: bool(table.processed_at_column),
)
