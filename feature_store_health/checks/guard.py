"""The reprocess guard's counts, in the table's one aggregate query (SPEC §13).

A reprocess request is held when the table's own reprocess machinery already gave up on most of
the date's rows (circuit_breaker_active) or asks for a person (manual_override_required). The
counts, and the first players by name, come from the metrics query the run makes anyway: the guard
never costs a query of its own. Only with ``[remediation]`` configured, and only for the columns
the table's contract has as BOOL.
"""

from __future__ import annotations

from typing import Any, Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import ROWS
from feature_store_health.checks.metrics import Metric, Source

if TYPE_CHECKING:
    from feature_store_health.config_types import TableConfig

__all__ = ["GUARD_PLAYERS", "guard_columns", "guard_metrics", "guard_values", "players_metric", "rows_metric"]

GUARD_PLAYERS = 10   # players named per guard column: enough to start by hand, short enough for Slack


def rows_metric(column: str) -> str:
    return f"guard_rows__{column}"


def players_metric(column: str) -> str:
    return f"guard_players__{column}"


def guard_columns(table: "TableConfig", remediation: Any) -> tuple[str, ...]:
    """The guard columns (circuit breaker, manual override) the table's contract has as BOOL."""
    if remediation is None or not table.contract:
        return ()
    wanted = (remediation.circuit_breaker_column, remediation.manual_override_column)
    return tuple(column for column in wanted if table.contract.get(column) in ("BOOL", "BOOLEAN"))


def guard_metrics(table: "TableConfig", remediation: Any) -> tuple[Metric, ...]:
    """Per guard column: its TRUE rows, and the players with it TRUE on the run's last date (the
    checked date, ``@end_date``): at most one date's players, cut to GUARD_PLAYERS in Python. Not
    ``ARRAY_AGG(… LIMIT n)``: DuckDB has no LIMIT in an aggregate and the BigQuery emulator
    rejects it; not other dates' players, which nothing reads."""
    metrics: list[Metric] = []
    player, date = table.player_column, table.date_column
    for column in guard_columns(table, remediation):
        metrics += [
            Metric(Source.FEATURES, rows_metric(column), f"COUNTIF({column})", columns=(column,)),
            Metric(Source.FEATURES, players_metric(column),
                   f"ARRAY_AGG(IF({column} AND {date} = @end_date, {player}, NULL) IGNORE NULLS)",
                   empty_value=(), columns=(column, player)),
        ]
    return (ROWS, *metrics) if metrics else ()


def guard_values(values: Mapping[str, Any], columns: tuple[str, ...]) -> dict[str, tuple[int, tuple[str, ...]]] | None:
    """{column: (TRUE rows, players)} from a date's metric values; None when one is missing (the
    column is missing or retyped in the warehouse: its metrics were left out of the query)."""
    found = {}
    for column in columns:
        if rows_metric(column) not in values or players_metric(column) not in values:
            return None
        players = sorted(str(player) for player in values[players_metric(column)] or ())
        found[column] = (int(values[rows_metric(column)] or 0), tuple(players[:GUARD_PLAYERS]))
    return found
