"""The per-date profile behind the weekly report, computed from metrics already fetched."""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, NamedTuple, TYPE_CHECKING

from feature_store_health.checks.dimensions import null_metric_name, tier_metric_name

if TYPE_CHECKING:
    from feature_store_health.config_types import TableConfig

__all__ = ["TrendRow", "configured_fields", "trend_metric_names", "trend_row"]


class TrendRow(NamedTuple):
    check_date: dt.date
    rows: int
    players: int
    games: int
    ready_pct: float | None
    complete_pct: float | None
    tiers: Mapping[str, int]          # tier -> rows, plus "NULL" ({}: no tier column configured)
    null_pct: Mapping[str, float | None]  # critical feature -> % NULL; None on a date with no rows
    processing_minutes: float | None  # MAX - MIN processed_at
    active_predictions: int
    conversion: float | None          # active predictions per feature row
    from_history: bool = False        # the warehouse no longer holds the date: recorded numbers


def trend_row(table: "TableConfig", check_date: dt.date, values: Mapping[str, Any]) -> TrendRow:
    """A metric the query left out (its column missing or retyped) shows as n/a (None)."""
    rows = values["row_count"]

    def pct(metric: str) -> float | None:
        count = values.get(metric)
        return round(100.0 * count / rows, 2) if rows and count is not None else None

    first, last = values.get("min_processed_at"), values.get("max_processed_at")
    active = values.get("active_predictions", 0)
    return TrendRow(
        check_date=check_date,
        rows=rows,
        players=values.get("player_count", 0),
        games=values.get("games_scheduled", 0),
        ready_pct=pct("production_ready_count"),
        complete_pct=pct("complete_count"),
        tiers=({**{tier: values.get(tier_metric_name(tier), 0) for tier in table.quality_tiers},
                "NULL": values.get("tier_null_count", 0)} if table.quality_tier_column else {}),
        null_pct={feature: pct(null_metric_name(feature)) for feature in table.critical_features},
        processing_minutes=round((last - first).total_seconds() / 60, 1) if first and last else None,
        active_predictions=active,
        conversion=round(active / rows, 2) if rows else None,
    )


def configured_fields(table: "TableConfig") -> frozenset[str]:
    """The TrendRow fields whose dimension the table's configuration names: the reports show only
    these (a table without a readiness column has no "% ready" column, line or panel)."""
    return frozenset(field for field, configured in (
        ("ready_pct", table.production_ready_column),
        ("complete_pct", table.completeness_column),
        ("tiers", table.quality_tier_column),
        ("processing_minutes", table.processed_at_column),
        ("active_predictions", table.downstream_usage),
        ("conversion", table.downstream_usage),
    ) if configured)


def trend_metric_names(table: "TableConfig") -> frozenset[str]:
    """The metrics ``trend_row`` reads: a query narrowed to some dimensions (-m, -k) still holds
    these when a report shows the trend, so no column of it reads 0 for "not computed"."""
    return frozenset({
        "row_count", "player_count", "games_scheduled", "production_ready_count", "complete_count",
        "tier_null_count", "min_processed_at", "max_processed_at", "active_predictions",
        *(tier_metric_name(tier) for tier in table.quality_tiers),
        *(null_metric_name(feature) for feature in table.critical_features),
    })
