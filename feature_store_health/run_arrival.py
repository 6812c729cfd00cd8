"""The run's view of arrival (SPEC §13): the usual landing of each table from its history, whether
a date's rows have landed as of the run, the checks that wait for them, and the go/no-go.

A part of the run state (``HealthRun`` mixes it in, beside HistoryAndBaselines). The rules are
pure: checks/dimensions/arrival.py (the landing, its verdict) and checks/gate.py (the decision).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TYPE_CHECKING
from zoneinfo import ZoneInfo

from feature_store_health.backends.base import BackendError
from feature_store_health.checks.baseline_days import first_landing, recorded_verdicts
from feature_store_health.checks.dimensions import JudgeContext
from feature_store_health.checks.dimensions.arrival import (
    ArrivalContext, Landing, clock_hours, landing_state, usual_hours, wall_hours,
)
from feature_store_health.checks.gate import Gate, decide
from feature_store_health.checks.plan import CheckSpec, applicable_dimensions
from feature_store_health.checks.verdict import Severity, Verdict
from feature_store_health.history import HistoryError
from feature_store_health.history.records import VERDICT_PREFIX

if TYPE_CHECKING:
    from feature_store_health.config_types import TableConfig

__all__ = ["Arrivals"]

ARRIVAL = "arrival"


class Arrivals:
    """Arrival and the gate of a HealthRun (its settings, tables, metrics, history and verdicts)."""

    def _arrival_context(self, table: TableConfig, check_date: dt.date) -> ArrivalContext:
        """The last game days' first landings before ``check_date`` and its own first recorded
        landing; or why there are none (the history could not be read). Once per table and date."""
        cache: dict[tuple[str, dt.date], ArrivalContext] = self._arrivals
        key = (table.name, check_date)
        if key not in cache:
            try:
                if self._judges_anomalies(table):  # the earlier days' flags, whichever check reads them first
                    self._judge_earlier(table.name, check_date)
                recorded = self.history().get(key)
                cache[key] = ArrivalContext(tuple(self._landings(table, check_date)),
                                            first_landing(recorded) if recorded and recorded.get("row_count") else None,
                                            deadline=self._at_deadline(check_date), recorded=bool(recorded))
            except HistoryError as exc:
                cache[key] = ArrivalContext(history_error=str(exc), deadline=self._at_deadline(check_date))
        return cache[key]

    def _at_deadline(self, check_date: dt.date) -> bool:
        """Whether the date is judged at its check deadline (a past date, no --as-of): a backfill
        check, not a replay of a moment of that morning."""
        from feature_store_health.clock import today_in

        return self.settings.as_of is None and check_date < today_in(self.config.timezone, self.started_at)

    def _landings(self, table: TableConfig, check_date: dt.date) -> list[float]:
        """Wall-clock landing hours of the last ``[baseline] game_days`` game days within the
        lookback (newest first): each day's first landing, from the history or the one query. A
        day that landed a day or more after its date (a backfill), after ready_by (arrival's
        ERROR), or whose landing a recorded verdict held against it (anomalies: an unusual landing
        time), is no usual landing."""
        settings = self.config.baseline
        ready_hours = table.ready_by.hour + table.ready_by.minute / 60 + table.ready_by.second / 3600
        landings: list[float] = []
        day = check_date - dt.timedelta(days=1)
        earliest = check_date - dt.timedelta(days=settings.lookback_days)
        while day >= earliest and len(landings) < settings.game_days:
            values, _ = self.values_on(table.name, day)
            if values and values.get("games_scheduled") and values.get("row_count"):
                recorded = self.history().get((table.name, day))
                landed = first_landing(recorded) if recorded and recorded.get("row_count") else None
                landed = landed or values.get("max_processed_at")
                if isinstance(landed, dt.datetime):
                    hours = usual_hours(landed, day, self.config.timezone)
                    # after ready_by is an arrival ERROR by its own rule, whether or not a run judged it yet
                    if hours < min(24.0, ready_hours) and not self._landing_held_against(table.name, day, values):
                        landings.append(hours)
            day -= dt.timedelta(days=1)
        return landings

    def _landing_held_against(self, table_name: str, day: dt.date, values: dict[str, Any]) -> bool:
        """Whether a verdict on the day's rows holds its landing time against it: arrival (landed
        after ready_by) or anomalies (an unusual landing time), recorded or this run's. Not
        staleness: its age is measured at an as-of time (a backfill with --as-of days later fails
        it on every date), which says nothing of when the night landed."""
        recorded = self.history().get((table_name, day)) or {}
        # the two verdicts read, beside the fingerprint of the rows: never a copy of the day's ~500 metrics
        judged = {name: values.get(name) for name in ("row_count", "max_processed_at")}
        judged.update({VERDICT_PREFIX + dimension: recorded[VERDICT_PREFIX + dimension]
                       for dimension in ("anomalies", ARRIVAL) if VERDICT_PREFIX + dimension in recorded})
        verdicts = {dimension: found.get("flagged") or () for dimension, found in recorded_verdicts(judged).items()}
        for dimension in ("anomalies", ARRIVAL):
            spec = CheckSpec(table_name, day, dimension)
            verdict = self._verdicts.get(spec) or self._judged_early.get(spec)
            if verdict is not None:
                verdicts[dimension] = self._verdict_metrics(verdict)
        return any("landing_time" in verdicts.get(dimension, ()) for dimension in ("anomalies", ARRIVAL))

    def landing(self, table_name: str, check_date: dt.date) -> Landing | None:
        """The date's rows as of the run's as-of time; None when nothing is due (no arrival for
        the table, no games, an expired date), when this run does not read the table's one query
        (a selection of checks judged without it: never a query for this), or when that query
        failed (its checks say why)."""
        table = self._tables[table_name]
        if ARRIVAL not in applicable_dimensions(table) or not self._fetches_metrics(table) \
                or self.expired(table, check_date):
            return None
        try:
            values = self.metrics(table_name)[check_date]
        except BackendError:
            return None
        if not values.get("games_scheduled"):
            return None
        # the date's first recorded landing (a rerun keeps it) when arrival reads the history anyway
        judged = not self.collected or CheckSpec(table_name, check_date, ARRIVAL) in self.collected
        arrival = self._arrival_context(table, check_date) if judged else \
            ArrivalContext(deadline=self._at_deadline(check_date))
        context = JudgeContext(as_of=self.as_of(check_date), check_date=check_date, timezone=self.config.timezone,
                               arrival=arrival)
        return landing_state(values, table, context)

    def waiting_for_landing(self, spec: CheckSpec) -> str | None:
        """Why a check of a date waits for its rows (SKIPPED "not landed yet"), or None. Until
        ready_by, a table that has not landed is arrival's to judge; rows processed after the
        as-of time (a replay of an earlier morning) were not there to judge at all. Only where the
        table's one query runs anyway: a check judged from metadata alone (schema with -m schema)
        never costs a query for this."""
        table = self._tables[spec.table]
        landing = None if spec.dimension == ARRIVAL else self.landing(spec.table, spec.check_date)
        if landing is None or landing.landed:
            return None
        as_of = self.as_of(spec.check_date)
        ready = table.ready_by.strftime("%H:%M")
        as_of_text = clock_hours(wall_hours(as_of, spec.check_date, self.config.timezone))
        if landing.future:
            landed = clock_hours(wall_hours(landing.at, spec.check_date, self.config.timezone))
            return (f"not landed as of {as_of_text}: its rows were processed at {landed}, after the as-of time; "
                    "see arrival")
        if as_of < landing.ready:
            what = landing.short or "no rows yet"
            return f"not landed yet ({what}): arrival judges it until ready_by {ready}"
        return None

    def gate(self) -> Gate:
        """The go/no-go of the checked date for the prediction job (once the checks ran)."""
        check_date = self.settings.check_date
        verdicts = [verdict for verdict in self.verdicts if verdict.check_date == check_date]
        landings = {table.name: self.landing(table.name, check_date) for table in self.config.tables}
        selected = self._gate_selection_complete()
        zone = ZoneInfo(self.config.timezone)
        cutoffs = [dt.datetime.combine(check_date, table.ready_by, tzinfo=zone) - dt.timedelta(minutes=table.ready_margin_minutes)
                   for table in self.config.tables if ARRIVAL in applicable_dimensions(table)]
        return decide(check_date, self.as_of(check_date), verdicts, landings,
                      {table.name: table for table in self.config.tables}, self.settings.fail_on, self.config.timezone,
                      incomplete=None if self.complete else self.incomplete_reason(), partial=selected, cutoffs=cutoffs)

    def _gate_selection_complete(self) -> str | None:
        """None when the run judged every check of the checked date; else what it left out."""
        check_date = self.settings.check_date
        wanted = {CheckSpec(table.name, check_date, dimension) for table in self.config.tables
                  for dimension in applicable_dimensions(table)}
        collected = {spec for spec in self.collected if spec.check_date == check_date}
        missing = wanted - collected
        model = self.settings.model   # the config is narrowed to it: its gate is that model's only
        if model is not None:
            left_out = (f"; {len(missing)} of its {len(wanted)} checks of {check_date} not selected (-m/-k)"
                        if missing else "")
            return f"--model={model}: the checks of its tables and features only{left_out}"
        if not missing:
            return None
        return f"{len(missing)} of {len(wanted)} checks of {check_date} were not selected (-m/-k)"

    def decide_gate(self) -> Gate:
        """Decide the go/no-go once the checks ran, and record it with the run's history write
        (only when the run judged every check of the date: a selection is no decision), for
        Phase 5 to read with one query."""
        gate = self.gate_decision = self.gate()
        if self._gate_recorded(gate):
            self.records.append(("*", gate.check_date, "gate", gate.to_json() | {"run_id": self.run_id}))
        return gate

    def _gate_recorded(self, gate: Gate) -> bool:
        """A decision Phase 5 may act on: every check of the date judged, the history on, and the
        as-of the run's own (now, or a past date's deadline): a replay with --as-of of an earlier
        moment, run later, would otherwise be the newest decision."""
        return gate.partial is None and not self.settings.history_off and self.settings.as_of is None

    def gate_json(self) -> dict[str, Any] | None:
        gate = self.gate_decision
        if gate is None:
            return None
        return gate.to_json() | {"recorded": self._gate_recorded(gate)}


def skipped_waiting(spec: CheckSpec, limits: dict[str, Any], reason: str) -> Verdict:
    return Verdict(spec.table, spec.check_date, spec.dimension, Severity.SKIPPED, None, dict(limits), reason)
