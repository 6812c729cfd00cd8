"""The per-date profile behind the weekly report, computed from metrics already fetched."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, NamedTuple, TYPE_CHECKING

from feature_store_health.checks.dimensions import null_metric_name, tier_metric_name

if TYPE_CHECKING:
    from feature_store_health.config import TableConfig

__all__ = ["TrendRow", "trend_row"]


class TrendRow(NamedTuple):
    check_date: dt.date
    rows: int
    players: int
    games: int
    ready_pct: float | None
    complete_pct: float | None
    tiers: Mapping[str, int]          # tier -> rows, plus "NULL"
    null_pct: Mapping[str, float | None]  # critical feature -> % NULL; None on a date with no rows
    processing_minutes: float | None  # MAX - MIN processed_at
    active_predictions: int
    conversion: float | None          # active predictions per feature row


def trend_row(table: "TableConfig", check_date: dt.date, values: Mapping[str, Any]) -> TrendRow:
    rows = values["row_count"]

    def pct(count: int) -> float | None:
        return round(100.0 * count / rows, 2) if rows else None

    first, last = values["min_processed_at"], values["max_processed_at"]
    return TrendRow(
        check_date=check_date,
        rows=rows,
        players=values["player_count"],
        games=values["games_scheduled"],
        ready_pct=pct(values["production_ready_count"]),
        complete_pct=pct(values["complete_count"]),
        tiers={**{tier: values[tier_metric_name(tier)] for tier in table.quality_tiers},
               "NULL": values["tier_null_count"]},
        null_pct={feature: pct(values[null_metric_name(feature)]) for feature in table.critical_features},
        processing_minutes=round((last - first).total_seconds() / 60, 1) if first and last else None,
        active_predictions=values["active_predictions"],
        conversion=round(values["active_predictions"] / rows, 2) if rows else None,
    )
