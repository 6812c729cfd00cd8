"""coverage: rows for the date against the teams playing that day in the schedule.

WARNING below ``warning_min_rows_per_team`` rows per team playing; ERROR when a playing team has
no rows at all (no predictions for any of its players), CRITICAL when more than a quarter of the
playing teams have none, or when there are no rows while games are scheduled. A date with no
games: OK without rows (a day off), ERROR with rows (the schedule and the table disagree), and
NOT_EVALUATED when the schedule cannot tell (checks/game_days.py).
"""

from __future__ import annotations

from typing import Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import (
    BASE, TEAMS, Dimension, Judgement, JudgeContext, Values, judged_value, pct, shown,
)
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["DIMENSION", "TEAMS_SCHEDULED", "teams_with_rows"]

# The day's teams as one comma-separated text: STRING_AGG skips NULLs in every dialect we run on
# (an ARRAY_AGG would need IGNORE NULLS, which the BigQuery emulator mistranslates with DISTINCT).
TEAMS_SCHEDULED = Metric(Source.SCHEDULE, "teams_scheduled", "STRING_AGG(DISTINCT team, ',')", empty_value="")


def teams_with_rows(column: str) -> Metric:
    return Metric(Source.FEATURES, "teams_with_rows", f"STRING_AGG(DISTINCT {column}, ',')", empty_value="",
                  columns=(column,))


def _teams(text: str) -> set[str]:
    return {team for team in text.split(",") if team}


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    per_team = (TEAMS_SCHEDULED, teams_with_rows(table.team_column)) if table.team_column else ()
    return (*BASE, TEAMS, *per_team)


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    rows, games, teams = values["row_count"], values["games_scheduled"], values["teams_playing"]
    details: dict = {"games_scheduled": games, "teams_playing": teams}
    if not games:
        return _no_games(rows, details, ctx)
    if rows == 0 and ctx.expired:
        return Judgement(Severity.SKIPPED, 0, "0 records found: the date is past the partition expiration, "
                         "its rows have expired", details)
    if rows == 0:
        return Judgement(Severity.CRITICAL, 0, f"0 records found while {games} games are scheduled", details)
    if not teams:
        # games with no team named (home and away NULL): the schedule itself is broken, and rows per
        # team cannot be judged. Its own finding, never a division by zero.
        return Judgement(
            Severity.ERROR, rows,
            f"{rows} records found, but the schedule names no team for its {games} games "
            "(home and away team NULL): rows per team cannot be judged", details,
        )
    per_team = rows / teams
    minimum = limits["warning_min_rows_per_team"]
    details["rows_per_team"] = judged_value(per_team, limits)
    per_team_text = f"{shown(per_team, [minimum])} per team"
    if "teams_scheduled" in values:
        without = sorted(_teams(values["teams_scheduled"]) - _teams(values["teams_with_rows"]))
        details["teams_without_rows"] = without
        if without:
            share = pct(len(without), teams)
            critical = share > limits["critical_teams_without_rows_pct_above"]
            if critical or len(without) > limits["error_teams_without_rows_above"]:
                return Judgement(
                    Severity.CRITICAL if critical else Severity.ERROR, rows,
                    f"{rows} records found, but {len(without)} of {teams} playing teams have no rows "
                    f"({shown(share, [limits['critical_teams_without_rows_pct_above']])}%): {', '.join(without)}",
                    details,
                )
    if per_team < minimum:
        return Judgement(
            Severity.WARNING, rows,
            f"{rows} records found: {per_team_text} playing ({teams} teams), below {minimum:g}", details,
        )
    return Judgement(Severity.OK, rows, f"{rows} records found ({teams} teams playing, {per_team_text})", details)


def _no_games(rows: int, details: dict, ctx: JudgeContext) -> Judgement:
    """A date the schedule has no games on: a day off only when the schedule is known to cover it,
    and then without rows. Rows on it contradict the schedule (the other checks judge them)."""
    if ctx.schedule_gap is not None:
        return Judgement(Severity.NOT_EVALUATED, None, f"not evaluated: {ctx.schedule_gap}; {rows} records found",
                         details)
    if rows:
        day = ctx.check_date.isoformat() if ctx.check_date else "the date"
        return Judgement(Severity.ERROR, rows, f"{rows} records found but {ctx.schedule_table} has no games on {day}: "
                         "the schedule or the table is wrong", details)
    return Judgement(Severity.OK, rows, "no games scheduled (0 records found)", details)


DIMENSION = Dimension(
    "coverage", "Date Coverage", "rows for the date against the teams playing; playing teams with no rows",
    ("warning_min_rows_per_team", "error_teams_without_rows_above", "critical_teams_without_rows_pct_above"),
    metrics, judge,
)
