"""The run's side of drift and continuity (SPEC §14): what they learned, and their baselines.

A part of the run state (``HealthRun`` mixes it in):

- **learned values** (checks/learned.py): a table's bin edges and |Δ| limits come from the
  history's newest ``learned`` record of the last ``learned_refresh_days`` days (literal in the
  one query: no earlier day is read), else the one query computes them from the lookback's days
  and reaches back to count those days too; the run records them.
- **baselines**: a date's drift baseline of a column is the last ``game_days`` game days counted
  under the same learned values, leaving out a day whose verdicts flagged that column (drift,
  continuity, anomalies' levels of it, a failed value_ranges) or the day's rows (coverage,
  uniqueness: ``rows_per_team``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TYPE_CHECKING

from feature_store_health.checks.baseline_days import LEVELS, BaselineDay, DayFlags, view
from feature_store_health.checks.dimensions.continuity import pairs_rows_sql
from feature_store_health.checks.dimensions.drift import DistributionContext
from feature_store_health.checks.learned import (
    LEARNED_ID, LEARNED_RECORD, Learned, computed_cte, from_record, from_values, literal_cte, output_names,
)
from feature_store_health.checks.metrics import Source
from feature_store_health.checks.plan import CheckSpec, distribution_rows
from feature_store_health.history import HistoryError
from feature_store_health.history.records import flagged_levels

if TYPE_CHECKING:
    from feature_store_health.config_types import TableConfig

__all__ = ["Distributions", "LEARNING"]

LEARNING = ("drift", "continuity")


class Distributions:
    """Learned values and baselines of drift and continuity, for a HealthRun."""

    def _learns(self, table: "TableConfig") -> bool:
        return any(self._judges(table, dimension) for dimension in LEARNING)

    def _learning_columns(self, table: "TableConfig") -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The columns learned for: every one the table's query counts (applicable, present), so
        a selection never leaves a counted column without its learned values."""
        schema = self.schema(table.name)
        drift = tuple(column for column in table.drift_columns if schema.usable(column))
        rows = distribution_rows(table, schema)
        continuity = tuple(column for column in table.continuity_columns
                           if schema.usable(column)) if Source.PAIRS in rows else ()
        return drift, continuity

    def recorded_learned(self, table: "TableConfig") -> Learned | None:
        """The newest learned values the history holds for the table, if fresh enough and covering
        the columns this run judges."""
        if table.name in self._recorded_learned:
            return self._recorded_learned[table.name]
        found = None
        if not self.settings.history_off:
            try:
                recorded = self.history()
            except HistoryError:
                recorded = {}
            first = self.settings.dates[0]
            oldest = first - dt.timedelta(days=self.config.baseline.refresh_days)
            drift, continuity = self._learning_columns(table)
            # the values the newest recorded day before the run was counted with come first (a rerun
            # of an earlier date learned its own: reusing them spares counting the lookback again),
            # then the newest
            counted = next((values.get(LEARNED_ID) for (name, day), values in sorted(recorded.items(), reverse=True)
                            if name == table.name and day < first and values.get(LEARNED_ID)), None)
            # a drift incident carried into this run was judged in its bins: they are kept past the
            # refresh while it lasts, else a refresh would learn the incident's own days as usual
            carrying = self._carried_learned_id(table, first, recorded)

            def record_id(day: dt.date) -> Any:
                return (recorded[(table.name, day)][LEARNED_RECORD] or {}).get("id")

            candidates = sorted((day for (name, day), values in recorded.items()
                                 if name == table.name and LEARNED_RECORD in values and day <= first
                                 and (oldest < day or (carrying is not None and record_id(day) == carrying))),
                                key=lambda day: (carrying is not None and record_id(day) == carrying,
                                                 record_id(day) == counted, day), reverse=True)
            for day in candidates:
                learned = from_record(recorded[(table.name, day)][LEARNED_RECORD])
                if learned is not None and learned.covers(drift, continuity):
                    found = learned
                    if day <= oldest:   # kept for the incident: recorded again, so it stays within reach
                        self.records.append((table.name, first, LEARNED_RECORD, learned.record()))
                    break
        self._recorded_learned[table.name] = found
        return found

    def _carried_learned_id(self, table: "TableConfig", first: dt.date, recorded: dict) -> Any:
        """The learned id the newest recorded drift verdict before ``first`` judged a flagged
        column in (None: no drift incident open then)."""
        for (name, day), values in sorted(recorded.items(), reverse=True):
            if name != table.name or day >= first:
                continue
            drift = self._verdicts_on_record(table.name, day, values).get("drift")
            if drift is None:
                continue
            levels = (drift or {}).get("levels") or {}
            ids = [level.get("learned_id") for metric, level in levels.items()
                   if metric.startswith("drift:") and isinstance(level, dict) and level.get("learned_id")]
            return ids[0] if ids else None
        return None

    def learned_cte(self, table: "TableConfig") -> str | None:
        """The ``learned`` CTE of the table's query: literal (recorded) or computed (None: not judged)."""
        if not self._learns(table):
            return None
        drift, continuity = self._learning_columns(table)
        known = self._learned.get(table.name) or self.recorded_learned(table)
        if known is not None:
            return literal_cte(known, drift, continuity)
        schema = self.schema(table.name)
        pairs = pairs_rows_sql(table, schema.usable, "@learn_start", "@learn_end") if continuity else None
        return computed_cte(table, drift, continuity, pairs)

    def learn_window(self, table: "TableConfig") -> dict[str, dt.date]:
        """The days the learned values are computed from: the lookback before the run's first date
        and, for a run of many dates (a season's replay from its first day has no earlier days),
        its own dates up to lookback_days after the first, never its last. Edges only set the bins:
        a day's counts are always judged against earlier days."""
        dates = self.settings.dates
        first, lookback = dates[0], self.config.baseline.lookback_days
        # (the last date bounds it first: first + lookback may be past the calendar's end, 9999-12-31)
        end = max(first - dt.timedelta(days=1),
                  min(dates[-1] - dt.timedelta(days=1), first + min(dt.timedelta(days=lookback - 1), dates[-1] - first)))
        return {"learn_start": self._lookback_start(table, first), "learn_end": end}

    def _learning_start(self, table: "TableConfig") -> dt.date | None:
        """How far back the one query must count for drift: the lookback's start when the learned
        values are computed now, else the first lookback day recorded under other ones."""
        if not self._learns(table) or not self._judges(table, "drift"):
            return None
        first = self.settings.dates[0]
        start = self._lookback_start(table, first)
        learned = self.recorded_learned(table)
        if learned is None:
            return start
        try:
            recorded = self.history()
        except HistoryError:
            return start
        day = start
        while day < first:
            values = recorded.get((table.name, day)) or {}
            # a day the history lacks (a run of drift alone does not widen for anomalies), counted in
            # other bins, or recorded by a run narrowed to other checks (-m continuity: no bins)
            if "row_count" not in values or (values["row_count"] and (values.get(LEARNED_ID) != learned.id
                                                                      or not self._holds_bins(table, values))):
                return day
            day += dt.timedelta(days=1)
        return None

    @staticmethod
    def _holds_bins(table: "TableConfig", values: dict[str, Any]) -> bool:
        """Whether a recorded day holds drift's counts (of any of its columns the live table has)."""
        return any(f"bins__{column}" in values for column in table.drift_columns) \
            or any(f"categories__{column}" in values for column in table.category_columns)

    def take_learned(self, table: "TableConfig", values: dict[dt.date, dict[str, Any]], computed: bool,
                     known: Learned | None = None) -> None:
        """After the table's query: the learned values it used (returned on every row when it
        computed them), dropped from the days' values, and each day marked with their id."""
        drift, continuity = self._learning_columns(table)
        names = [output_names(column, "edges") for column in drift] + \
                [output_names(column, "jump") for column in continuity]
        returned = {}
        for day_values in values.values():
            for name in names:
                if name in day_values:
                    returned[name] = day_values.pop(name)
        if known is not None:
            learned = known
        elif computed:
            window = self.learn_window(table)
            learned = from_values(returned, drift, continuity, self.settings.dates[0],
                                  (window["learn_start"].isoformat(), window["learn_end"].isoformat()))
            self.records.append((table.name, self.settings.dates[0], LEARNED_RECORD, learned.record()))
            self._learned_now.add(table.name)
        else:
            learned = self.recorded_learned(table)
        self._learned[table.name] = learned
        if learned is None:
            return
        for day_values in values.values():
            if day_values.get("row_count"):
                day_values[LEARNED_ID] = learned.id

    def learned(self, table_name: str) -> Learned | None:
        return self._learned.get(table_name)

    def learned_json(self) -> dict[str, Any]:
        """The results JSON's ``learned``: per table, the bin edges and |Δ| limits this run used and
        where they came from ("history": recorded by an earlier run; "computed": by this run's query)."""
        found = {}
        for name, learned in self._learned.items():
            if learned is not None:
                found[name] = {**learned.record(), "source": "computed" if name in self._learned_now else "history"}
        return found

    def _distribution_context(self, table: "TableConfig", check_date: dt.date, dimension: str) -> DistributionContext:
        try:
            self.metrics(table.name)
            learned = self.learned(table.name)
            if dimension == "continuity":
                return DistributionContext(learned=learned)
            self._judge_earlier(table.name, check_date, "drift")
            baseline, left_out = self._drift_baseline(table, check_date, learned)
            carried = self._drift_carried(table, check_date) if learned is not None else {}
        except HistoryError as exc:
            return DistributionContext(error=f"the history could not be read: {exc}")
        return DistributionContext(learned=learned, baseline=baseline,
                                   notes={"left_out": left_out} if left_out else {}, carried=carried)

    def _drift_carried(self, table: "TableConfig", check_date: dt.date) -> dict[str, Any]:
        """Column -> the level the last game day's drift verdict judged a flagged column against
        (this run's verdict, else the recorded one of the rows the day holds now): an incident
        goes on being judged against it, so its own days never become its baseline."""
        candidates = self._candidate_days(table.name, check_date)
        if not candidates:
            return {}
        day, values = candidates[0]
        spec = CheckSpec(table.name, day, "drift")
        verdict = self._verdicts.get(spec) or self._judged_early.get(spec)
        if verdict is not None:
            levels = flagged_levels(verdict.details)
        else:
            levels = (self._verdicts_on_record(table.name, day, values).get("drift") or {}).get("levels") or {}
        return {metric.removeprefix("drift:"): level for metric, level in levels.items()
                if metric.startswith("drift:") and isinstance(level, dict)}

    def _drift_observed(self, table: "TableConfig", day: dt.date, values: dict[str, Any],
                        columns: dict[str, str]) -> dict[str, Any]:
        """A baseline day's bin counts (and stddev) per drift column, computed once per run whatever
        dates it serves (as anomalies' observations, run_history._observed)."""
        key = (table.name, day)
        if key not in self._drift_observations:
            self._drift_observations[key] = {
                f"drift:{column}": (day, [int(count or 0) for count in values[name] or ()], values.get(f"stddev__{column}"))
                for column, name in columns.items() if name in values}
        return self._drift_observations[key]

    def _drift_baseline(self, table: "TableConfig", check_date: dt.date, learned: Learned | None):
        """Column -> the baseline days' (date, counts, stddev), newest first; and column -> the days
        left out of it. The baseline's own view (checks/baseline_days.py) picks them, as anomalies':
        ``game_days`` clean values per column, a day flagged on it left out (drift itself, its
        mean/median/stddev, or the day's rows: ``rows_per_team``), older days filling in, and a
        declared ``[[baseline.new_levels]]`` of the column restarting it."""
        if learned is None:
            return {}, {}
        if table.name in self._reread_error:   # changed baseline days could not be read again
            raise HistoryError(self._reread_error[table.name])
        columns = {column: f"bins__{column}" for column in table.drift_columns} | \
                  {column: f"categories__{column}" for column in table.category_columns}
        days = []
        for day, values in self._candidate_days(table.name, check_date):
            if values.get(LEARNED_ID) != learned.id:
                continue   # counted in other bins: no baseline of these
            flagged = self._day_flags(table.name, day, values).flagged
            held = {f"drift:{column}" for column in columns if "rows_per_team" in flagged
                    or any(f"{level}:{column}" in flagged for level in LEVELS)}
            days.append(BaselineDay(day, self._drift_observed(table, day, values, columns), DayFlags(flagged | held)))
        settings = self.config.baseline
        levels = [level for level in settings.new_levels if level.table == table.name]
        seen = view(days, check_date, levels, settings.game_days, settings.minimum_game_days)
        found: dict[str, list[tuple[dt.date, Any, Any]]] = {}
        for observed in [found_ for _, found_ in seen.days] + list(seen.fill):
            for metric, entry in observed.items():
                found.setdefault(metric.removeprefix("drift:"), []).append(entry)
        left_out: dict[str, list[str]] = {}
        for day, metrics in sorted((seen.notes.get("metrics_left_out") or {}).items(), reverse=True):
            for metric in metrics:
                if metric.startswith("drift:"):
                    left_out.setdefault(metric.removeprefix("drift:"), []).append(day)
        return found, left_out
