"""The ops dashboard's numbers, from the history alone (never the warehouse): pure, no I/O but the
one read.

Everything is keyed by check date: the calendar's last 90 dates up to the run's last date, the
30-day (and the weekly review's 7-day) summary over the incidents of those dates. A daily run
opens a date's incident the morning of that date, so the check date stands for when it opened,
and a backfill of last quarter is counted on the dates it found, not all on the day it ran.

The history keeps each incident's newest state only (``incident:<dimension>`` records,
alerting/incidents.py): "alerts sent" counts the incidents a message went out about (the
webhook's ``alerted_at``, each other channel's recorded state), not every repeat.
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import TYPE_CHECKING, Any, Iterable, Mapping, NamedTuple, Sequence

from feature_store_health.alerting.incidents import INCIDENT_PREFIX, Incident, IncidentState
from feature_store_health.checks.baseline_days import FIRST_LANDED, LANDING_PENDING, first_landing
from feature_store_health.checks.dimensions.arrival import wall_hours
from feature_store_health.history.records import VERDICT_PREFIX, Names

if TYPE_CHECKING:
    from feature_store_health.config import TableConfig
    from feature_store_health.run import HealthRun

__all__ = ["CALENDAR_DAYS", "DASHBOARD_NAMES", "EXPIRED", "NEVER_JUDGED", "NOT_LANDED", "SUMMARY_DAYS", "Cell",
           "LandingDay", "Summary", "age_text", "cell_of", "incident_states", "landing_of", "read_dashboard_history", "summarize",
           "window"]

CALENDAR_DAYS = 90
SUMMARY_DAYS = 30
# the cell states beside the severities
NOT_LANDED = "NOT_LANDED"       # skipped: the date's rows had not landed (none, or short) when it was judged
EXPIRED = "EXPIRED"             # past the table's partition expiration: nothing left to judge
NEVER_JUDGED = "NEVER_JUDGED"   # no verdict recorded for the date and dimension

# what the dashboard reads of each (table, date): the verdicts, the incidents and the landing, not
# the ~500 metrics of a day (one narrow read: ~20 rows per table and date)
DASHBOARD_NAMES = Names(("row_count", "games_scheduled", "max_processed_at", FIRST_LANDED, LANDING_PENDING),
                        (VERDICT_PREFIX, INCIDENT_PREFIX))


def window(last: dt.date, days: int) -> list[dt.date]:
    """The ``days`` dates ending with ``last``, oldest first."""
    return [last - dt.timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def read_dashboard_history(run: "HealthRun") -> tuple[dict[tuple[str, dt.date], dict[str, Any]], dt.date]:
    """The one extra read of an archived run, the dashboard's names only, and the calendar's last
    date: the newest check date the history holds up to today (New York), at least the run's last
    date. A rerun of a past date (a backfill) so leaves the calendar, and the open incidents, where
    the daily runs have them, rather than turning the page back to that date. Raises HistoryError;
    ({}, the run's last date) with the history off."""
    from feature_store_health.clock import today_in

    last = run.settings.dates[-1]
    store = run.history_store
    if store is None:
        return {}, last
    end = max(last, today_in(run.config.timezone, run.started_at))
    history = store.read([table.name for table in run.config.tables], window(last, CALENDAR_DAYS)[0], end,
                         run.source_description(), DASHBOARD_NAMES)
    newest = max((day for (_, day), values in history.items()
                  if any(name.startswith((VERDICT_PREFIX, INCIDENT_PREFIX)) for name in values)), default=last)
    return history, max(last, newest)


class Cell(NamedTuple):
    state: str      # a severity (OK … SKIPPED), NOT_LANDED, EXPIRED or NEVER_JUDGED
    message: str


def _expired(table: "TableConfig", day: dt.date, today: dt.date) -> bool:
    days = table.partition_expiration_days
    return days is not None and day < today - dt.timedelta(days=days)


def cell_of(values: Mapping[str, Any] | None, dimension: str, table: "TableConfig", day: dt.date,
            today: dt.date) -> Cell:
    """One calendar cell: the newest recorded verdict of the date's dimension, a skip for want of
    rows told apart (not landed, expired), or none."""
    values = values or {}
    verdict = values.get(VERDICT_PREFIX + dimension)
    if not isinstance(verdict, Mapping) or not verdict.get("severity"):
        if _expired(table, day, today):
            return Cell(EXPIRED, "past the partition expiration; not judged before its rows expired")
        return Cell(NEVER_JUDGED, "never judged")
    severity, message = str(verdict["severity"]), str(verdict.get("message") or "")
    if severity == "SKIPPED":
        if "partition expiration" in message:
            return Cell(EXPIRED, message)
        if values.get("games_scheduled") and (not values.get("row_count") or values.get(LANDING_PENDING)):
            return Cell(NOT_LANDED, message)
    return Cell(severity, message)


class LandingDay(NamedTuple):
    """A date's landing as recorded: due (games scheduled), and when it first landed (None: not)."""

    due: bool
    at: dt.datetime | None

    def hours(self, day: dt.date, timezone: str) -> float | None:
        """Wall-clock hours after the date's midnight (New York): 6.67 is 06:40."""
        return None if self.at is None else wall_hours(self.at, day, timezone)

    def late(self, day: dt.date, table: "TableConfig", timezone: str) -> bool:
        hours = self.hours(day, timezone)
        ready = table.ready_by
        return hours is not None and hours > ready.hour + ready.minute / 60 + ready.second / 3600


def landing_of(values: Mapping[str, Any] | None) -> LandingDay | None:
    """The recorded landing of a date; None when the history holds no metrics of it."""
    if not values or "row_count" not in values:
        return None
    return LandingDay(bool(values.get("games_scheduled")), first_landing(values))


def incident_states(history: Mapping[tuple[str, dt.date], Mapping[str, Any]]) -> dict[Incident, IncidentState]:
    """Every incident the history holds (open and closed), its newest state."""
    from feature_store_health.alerting.incidents import all_states

    return all_states(history)


class Summary(NamedTuple):
    """A table's incidents and landings over some check dates."""

    opened: int                            # incidents of those dates
    resolved: int                          # of them, OK again
    still_open: int
    resolve_median: dt.timedelta | None    # opened -> resolved, over those resolved
    resolve_worst: dt.timedelta | None
    alerted: int                           # incidents the Slack webhook delivered a message about
    channels: dict[str, int]               # incidents each other channel recorded a state for
    due: int                               # game days
    late: int                              # of them, landed after ready_by
    never_landed: int                      # recorded with no landing (none since)

    @property
    def alerts(self) -> int:
        return self.alerted + sum(self.channels.values())


def summarize(table: "TableConfig", dates: Sequence[dt.date], states: Mapping[Incident, IncidentState],
              landings: Mapping[dt.date, LandingDay | None], timezone: str) -> Summary:
    """The table's summary over ``dates`` from its incidents' states and the recorded landings."""
    wanted = set(dates)
    mine = [state for incident, state in states.items()
            if incident.table == table.name and incident.check_date in wanted]
    durations = sorted(state.closed_at - state.opened_at for state in mine if state.closed_at is not None)
    channels: dict[str, int] = {}
    for state in mine:
        for name, recorded in (state.channels or {}).items():
            if recorded:
                channels[name] = channels.get(name, 0) + 1
    due = [(day, landing) for day, landing in landings.items() if day in wanted and landing is not None and landing.due]
    return Summary(
        opened=len(mine), resolved=len(durations), still_open=len(mine) - len(durations),
        resolve_median=_median(durations), resolve_worst=durations[-1] if durations else None,
        alerted=sum(state.alerted_at is not None for state in mine), channels=dict(sorted(channels.items())),
        due=len(due), late=sum(landing.late(day, table, timezone) for day, landing in due),
        never_landed=sum(landing.at is None for _, landing in due),
    )


def _median(durations: Iterable[dt.timedelta]) -> dt.timedelta | None:
    seconds = [duration.total_seconds() for duration in durations]
    return dt.timedelta(seconds=statistics.median(seconds)) if seconds else None


def age_text(delta: dt.timedelta) -> str:
    """``2 d 3 h`` from a day on, else ``3 h 10 m`` / ``45 m`` (as the Slack messages say it)."""
    from feature_store_health.alerting.incidents import duration_text

    if delta >= dt.timedelta(days=1):
        hours = int(delta.total_seconds() // 3600)
        return f"{hours // 24} d {hours % 24} h"
    return duration_text(delta)
