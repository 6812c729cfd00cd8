"""Game days: whether the schedule can tell that a date has no games (SPEC §3 "Game days").

A date with no games in the schedule is a day off only when the schedule is known to cover it:
it has a game after the date (a rest day, the All-Star break), or the date is outside the season
(``[schedule] season_start`` to ``season_end``, month-days: the off-season). A date in the season
with no game on or after it is unknown: the schedule stopped loading, it is never "no games".
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from feature_store_health.checks.metrics import Metric, Source

if TYPE_CHECKING:
    from feature_store_health.config_types import ScheduleConfig

__all__ = ["LAST_GAME", "in_season", "schedule_gap"]

# the schedule's last game date, whatever the run's window: NULL when the schedule is empty
LAST_GAME = Metric(Source.SCHEDULE_SPAN, "schedule_last_game", "MAX(game_date)", empty_value=None)


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


def in_season(day: dt.date, schedule: "ScheduleConfig") -> bool:
    """Whether ``day`` falls in the season, from ``season_start`` to ``season_end`` inclusive (a
    season may span the new year, as the NBA's does)."""
    start, end, today = _month_day(schedule.season_start), _month_day(schedule.season_end), (day.month, day.day)
    return start <= today <= end if start <= end else today >= start or today <= end


def schedule_gap(day: dt.date, last_game: dt.date | dt.datetime | None, schedule: "ScheduleConfig") -> str | None:
    """Why the schedule cannot tell whether ``day`` is a game day; None when it can (it has a game
    on or after the day, or the day is off-season)."""
    if isinstance(last_game, dt.datetime):  # a backend may return a DATE as a datetime
        last_game = last_game.date()
    if (last_game is not None and last_game >= day) or not in_season(day, schedule):
        return None
    after = f"no games after {last_game.isoformat()}" if last_game is not None else "no games at all"
    return (f"schedule has {after}: cannot tell whether {day.isoformat()} is a game day "
            f"({schedule.table} stopped loading? season {schedule.season_start} to {schedule.season_end})")
