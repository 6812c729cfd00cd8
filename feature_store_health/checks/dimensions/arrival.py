"""arrival: whether the date's rows landed in time for the prediction job (SPEC §13).

The table's ``ready_by`` (06:00 New York) is when Phase 5 reads it; ``ready_margin_minutes``
before it, the go/no-go. The usual landing comes from the history: the time of day of each of
the last game days' first landing (MAX(processed_at)), wall clock in the deadline time zone, a
day the suite judged late or re-landed left out. Before landing:

- as of earlier than the usual landing (p95, then up to p99): OK "not due yet", and every other
  dimension of the date is SKIPPED "not landed yet" (run.py), never CRITICAL;
- after the p99: WARNING; within the margin of ready_by: ERROR; past ready_by: CRITICAL.

After landing it judges when it landed: within the margin WARNING, after ready_by ERROR. "Landed"
is as of the as-of time: rows whose MAX(processed_at) is later (a replay of a past morning) had
not landed then. Rows on fewer than three quarters of the playing teams (coverage's CRITICAL
share of teams without rows) are short: still landing. With fewer than ``minimum_landings``
recorded landings, it is judged against ready_by alone, and says so.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Mapping, NamedTuple, Sequence, TYPE_CHECKING
from zoneinfo import ZoneInfo

from feature_store_health.checks.dimensions.base import (
    BASE, TEAMS, Dimension, Judgement, JudgeContext, Values, pct,
)
from feature_store_health.checks.dimensions.anomalies import clock_time as clock_hours
from feature_store_health.checks.dimensions.coverage import TEAMS_SCHEDULED, teams_with_rows
from feature_store_health.checks.dimensions.staleness import max_processed_at
from feature_store_health.checks.metrics import Metric
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["ArrivalContext", "DIMENSION", "Landing", "at_wall_hours", "clock_hours", "landing_state", "quantile",
           "usual_hours", "wall_hours"]


# rows stamped this little after the as-of time are there (the writer's clock runs ahead, or it
# stamps at commit): only a replay of an earlier moment has rows from further in its future
CLOCK_SKEW = dt.timedelta(minutes=10)


class ArrivalContext(NamedTuple):
    """What arrival needs besides the date's metric values (built by the run from the history)."""

    landings: tuple[float, ...] = ()     # the last game days' first landings: wall-clock hours after midnight
    first_landing: dt.datetime | None = None   # the date's own first recorded landing (a rerun keeps it)
    history_error: str | None = None     # why there are no landings: the history could not be read
    # a run recorded the date before (with no landing then: it had not landed): a landing a day or
    # more later is then its first, judged as late as it is, not "not known"
    recorded: bool = False
    # the as-of time is a past date's check deadline (a backfill check), not a moment the run
    # replays: rows processed after it are a reprocess, not rows that were not there yet
    deadline: bool = False


class Landing(NamedTuple):
    """The date's table as of the as-of time."""

    landed: bool
    at: dt.datetime | None      # when it landed (its first landing), None when no rows
    future: bool                # rows processed after the as-of time: not there yet as of then
    short: str | None           # rows on too few of the playing teams: still landing (what is there)
    ready: dt.datetime          # ready_by on the date (UTC)
    cutoff: dt.datetime         # ready_by minus the margin (UTC)

    def now_text(self, values: Values, check_date: dt.date, timezone: str) -> str:
        """What is there as of the as-of time."""
        rows = values.get("row_count") or 0
        if self.future:
            landed = clock_hours(wall_hours(self.at, check_date, timezone))
            return f"0 rows then (its {rows} rows were processed at {landed}, after the as-of time)"
        if self.short:
            return self.short
        return "0 rows"


def _local(moment: dt.datetime, timezone: str) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(ZoneInfo(timezone))


def wall_hours(moment: dt.datetime, check_date: dt.date, timezone: str) -> float:
    """Wall-clock hours after the date's midnight in ``timezone`` (02:07 -> 2.117; 23:50 the day
    before -> -0.167). Phase 4 is scheduled by the wall clock, so a DST change moves nothing."""
    local = _local(moment, timezone).replace(tzinfo=None)
    return (local - dt.datetime.combine(check_date, dt.time(0))).total_seconds() / 3600


def usual_hours(moment: dt.datetime, check_date: dt.date, timezone: str) -> float:
    """A landing as a usual landing: its wall-clock hours, or on a DST change day the hours elapsed
    since midnight when fewer. Phase 4 starts by the wall clock, and on the spring-forward Sunday
    a 02:00 start that does not exist runs at 03:00: a landing an hour later on the wall clock, on
    time by the clock since midnight. The earlier reading keeps one such night from widening the
    usual landing for the next 30 game days."""
    local_midnight = dt.datetime.combine(check_date, dt.time(0), tzinfo=ZoneInfo(timezone))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)
    elapsed = (moment - local_midnight).total_seconds() / 3600
    return min(wall_hours(moment, check_date, timezone), elapsed)


def at_wall_hours(check_date: dt.date, hours: float, timezone: str) -> dt.datetime:
    """The instant (UTC) of a wall-clock time given as hours after the date's midnight."""
    local = dt.datetime.combine(check_date, dt.time(0)) + dt.timedelta(hours=hours)
    return local.replace(tzinfo=ZoneInfo(timezone)).astimezone(dt.timezone.utc)


def quantile(values: Sequence[float], pct_rank: float) -> float:
    """Nearest-rank quantile: the smallest value with at least ``pct_rank`` % of values at or
    below it (p95 of 30 landings is the 29th earliest; p99, the latest)."""
    ordered = sorted(values)
    index = max(0, math.ceil(pct_rank / 100 * len(ordered)) - 1)
    return ordered[min(index, len(ordered) - 1)]


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    per_team = (TEAMS_SCHEDULED, teams_with_rows(table.team_column)) if table.team_column else ()
    return (*BASE, TEAMS, *per_team, max_processed_at(table.processed_at_column))


def _teams(text: str | None) -> set[str]:
    return {team for team in (text or "").split(",") if team}


def landing_state(values: Values, table: "TableConfig", ctx: JudgeContext) -> Landing:
    """Whether the date's rows had landed as of the as-of time, and when (pure)."""
    arrival: ArrivalContext = ctx.arrival or ArrivalContext()
    zone = ZoneInfo(ctx.timezone)
    ready = dt.datetime.combine(ctx.check_date, table.ready_by, tzinfo=zone).astimezone(dt.timezone.utc)
    cutoff = ready - dt.timedelta(minutes=table.ready_margin_minutes)
    rows = values.get("row_count") or 0
    latest = values.get("max_processed_at")
    if isinstance(latest, dt.datetime) and latest.tzinfo is None:
        latest = latest.replace(tzinfo=dt.timezone.utc)
    at = arrival.first_landing or latest if rows else None
    as_of = ctx.as_of.astimezone(dt.timezone.utc)
    future = bool(rows) and at is not None and at > as_of + CLOCK_SKEW and not arrival.deadline
    short = None
    if rows and "teams_scheduled" in values and values.get("teams_playing"):
        playing = _teams(values["teams_scheduled"])
        without = playing - _teams(values.get("teams_with_rows"))
        limit = table.thresholds["coverage"]["critical_teams_without_rows_pct_above"]
        if playing and pct(len(without), len(playing)) > limit:
            short = f"{rows} rows, on {len(playing) - len(without)} of {len(playing)} playing teams"
    landed = bool(rows) and not future and short is None
    return Landing(landed, at, future, short, ready, cutoff)


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    rows = values.get("row_count") or 0
    if not values.get("games_scheduled") and not rows:
        if ctx.schedule_gap is not None:
            return Judgement(Severity.NOT_EVALUATED, None, f"not evaluated: {ctx.schedule_gap}; 0 records found", {})
        return Judgement(Severity.OK, None, "no games scheduled: nothing due", {})
    if not rows and ctx.expired:
        return Judgement(Severity.SKIPPED, None, "0 records found: the date is past the partition expiration", {})
    arrival: ArrivalContext = ctx.arrival or ArrivalContext()
    state = landing_state(values, table, ctx)
    as_of_hours = wall_hours(ctx.as_of, ctx.check_date, ctx.timezone)
    # compared with the usual landings in their own frame (on a DST change day, the earlier of
    # wall clock and clock since midnight): the spring-forward Sunday's 03:05 is no late 03:05
    as_of_usual = usual_hours(ctx.as_of, ctx.check_date, ctx.timezone)
    ready_text = table.ready_by.strftime("%H:%M")
    details: dict[str, Any] = {
        "ready_by": state.ready.isoformat(), "cutoff": state.cutoff.isoformat(), "landed": state.landed,
        "landed_at": state.at.isoformat() if state.at else None, "as_of": ctx.as_of.astimezone(dt.timezone.utc).isoformat(),
        "landings": len(arrival.landings),
    }
    floor = ctx.baseline_config.floor_landing_hours if ctx.baseline_config is not None else 0.5
    usual, due, late = _usual(arrival, limits, details, floor)
    if state.landed and wall_hours(state.at, ctx.check_date, ctx.timezone) >= 24 and not arrival.recorded:
        return Judgement(Severity.SKIPPED, None,
                         f"landed {clock_hours(wall_hours(state.at, ctx.check_date, ctx.timezone))} (a backfill or "
                         "reprocess a day or more later, and no earlier landing recorded): the night's landing is "
                         "not known", details)
    if state.landed:
        return _landed(state, ready_text, usual, late, table, details, ctx)
    now = f"as of {clock_hours(as_of_hours)}, {state.now_text(values, ctx.check_date, ctx.timezone)}"
    as_of = ctx.as_of.astimezone(dt.timezone.utc)
    if as_of >= state.ready:
        return Judgement(Severity.CRITICAL, None,
                         f"not landed by ready_by {ready_text}: the prediction job read at {ready_text} without "
                         f"today's features; {usual}; {now}", details)
    if as_of >= state.cutoff:
        minutes = round((state.ready - as_of).total_seconds() / 60)
        return Judgement(Severity.ERROR, None,
                         f"not landed {minutes} min before ready_by {ready_text} (margin "
                         f"{table.ready_margin_minutes:g} min): the go/no-go holds; {usual}; {now}", details)
    if late is not None and as_of_usual > late:
        return Judgement(Severity.WARNING, None, f"late: not landed after {clock_hours(late)} (its latest usual "
                         f"landing); {usual}; {now}", details)
    if due is not None and as_of_usual > due:
        return Judgement(Severity.OK, None, f"due now: {usual}; {now}", details)
    return Judgement(Severity.OK, None, f"not due yet: {usual}; {now}", details)


def _usual(arrival: ArrivalContext, limits: Mapping[str, float], details: dict[str, Any],
           floor_hours: float) -> tuple[str, float | None, float | None]:
    """How the table usually lands ("lands 02:05–02:40 on 28 of 30 game days"), when it is due
    (p95) and when it is late (p99, and never sooner than ``floor_hours`` after the median
    landing: [baseline] floor_landing_hours, so a quiet history never makes noise); None with too
    few landings: judged against ready_by alone."""
    landings = arrival.landings
    needed = int(limits["minimum_landings"])
    if arrival.history_error is not None:
        return f"judged against ready_by alone: the history could not be read ({arrival.history_error})", None, None
    if len(landings) < needed:
        return (f"judged against ready_by alone: {len(landings)} recorded landing{'s' * (len(landings) != 1)}, "
                f"fewer than {needed}"), None, None
    due = quantile(landings, limits["due_pct"])
    late = max(quantile(landings, limits["warning_after_pct"]), quantile(landings, 50) + floor_hours)
    early = quantile(landings, 100 - limits["due_pct"])
    within = sum(early <= hours <= due for hours in landings)
    details.update(usual_from=clock_hours(early), due=clock_hours(due), late_after=clock_hours(late))
    return f"lands {clock_hours(early)}–{clock_hours(due)} on {within} of {len(landings)} game days", due, late


def _landed(state: Landing, ready_text: str, usual: str, late: float | None, table: "TableConfig",
            details: dict[str, Any], ctx: JudgeContext) -> Judgement:
    landed_hours = wall_hours(state.at, ctx.check_date, ctx.timezone)
    value = round(landed_hours, 2)
    when = clock_hours(landed_hours)
    if state.at > state.ready:
        late_by = _duration(state.at - state.ready)
        return Judgement(Severity.ERROR, value,
                         f"landed {when}, {late_by} after ready_by {ready_text}: the prediction job read at "
                         f"{ready_text} without today's features; {usual}", details)
    if state.at > state.cutoff:
        return Judgement(Severity.WARNING, value,
                         f"landed {when}, within {table.ready_margin_minutes:g} min of ready_by {ready_text}; {usual}",
                         details)
    later = "; later than usual" if late is not None and usual_hours(state.at, ctx.check_date, ctx.timezone) > late \
        else ""
    return Judgement(Severity.OK, value,
                     f"landed {when}, {_duration(state.ready - state.at)} before ready_by {ready_text} ({usual}){later}",
                     details)


def _duration(delta: dt.timedelta) -> str:
    minutes = max(0, round(delta.total_seconds() / 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} m" if hours else f"{minutes} min"


DIMENSION = Dimension(
    "arrival", "Arrival", "whether the date's rows landed before ready_by, against the usual landing time",
    ("due_pct", "warning_after_pct", "minimum_landings"), metrics, judge,
    applies=lambda table: bool(table.processed_at_column),
)
