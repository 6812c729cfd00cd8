"""downstream_usage: active predictions for the date while games are scheduled."""

from __future__ import annotations

from typing import Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import (
    BASE, Dimension, Judgement, JudgeContext, Values, nothing_to_judge,
)
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["ACTIVE_PREDICTIONS", "DIMENSION"]

ACTIVE_PREDICTIONS = Metric(Source.PREDICTIONS, "active_predictions", "COUNTIF(is_active)")


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    return (*BASE, ACTIVE_PREDICTIONS)


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    games, rows, active = values["games_scheduled"], values["row_count"], values["active_predictions"]
    if not games and (skip := nothing_to_judge(values, ctx)) is not None:
        return skip  # no games, no feature rows: a day off, or coverage says why not
    conversion = round(active / rows, 2) if rows else None
    details = {"active_predictions": active, "feature_rows": rows, "conversion": conversion}
    if active == 0 and ctx.expired:
        return Judgement(Severity.SKIPPED, 0, "no active predictions: the date is past the partition expiration",
                         details)
    if active < limits["warning_below"]:
        # feature rows on a date the schedule calls empty: the predictions are due for them all the same
        due = f"while {games} games are scheduled" if games else f"for {rows} feature rows"
        return Judgement(Severity.WARNING, active, f"{active} active predictions {due}", details)
    ratio = f"{conversion:.2f} per feature row" if conversion is not None else "no feature rows"
    return Judgement(Severity.OK, active, f"{active} active predictions ({ratio})", details)


DIMENSION = Dimension(
    "downstream_usage", "Downstream Usage", "active predictions for the date",
    ("warning_below",), metrics, judge,
    applies=lambda table: table.downstream_usage,
)
