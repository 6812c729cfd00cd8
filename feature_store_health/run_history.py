"""The run's history and baselines: where runs are recorded, what a date is compared with, and
what of an earlier day a baseline may hold (SPEC §10).

A part of the run state (``HealthRun`` mixes it in): reading the history once, widening the one
query to the baseline days the history lacks, re-reading the days the warehouse changed since
they were recorded, judging the days nobody judged yet, the baseline's view of each date
(checks/baseline_days.py holds its pure rules). The run's one write is run_record.py's.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any, TYPE_CHECKING

from feature_store_health.backends.base import BackendError
from feature_store_health.checks.baseline_days import (
    FIRST_LANDED, BaselineDay, changed_days, day_flags, first_landing, recorded_verdicts, verdict_metrics, view,
)
from feature_store_health.checks.dimensions import DIMENSIONS, JudgeContext
from feature_store_health.checks.dimensions.base import settling
from feature_store_health.checks.plan import CheckSpec, applicable_dimensions, table_query
from feature_store_health.checks.verdict import Verdict
from feature_store_health.clock import today_in
from feature_store_health.history import HistoryError, HistoryStore
from feature_store_health.history.records import VERDICT_PREFIX, day_fingerprint, flagged_levels

if TYPE_CHECKING:
    from feature_store_health.config_types import TableConfig

__all__ = ["HistoryAndBaselines"]


class HistoryAndBaselines:
    """History and baselines of a HealthRun (its settings, config, tables, verdicts and fetch)."""

    def _uses_fingerprints(self, table: TableConfig) -> bool:
        """Whether the table's query also fingerprints the recorded baseline days (anomalies or
        drift judged against a readable history): how a rerun or backfill since is seen."""
        if self.settings.history_off or not (self._judges_anomalies(table) or self._judges(table, "drift")):
            return False
        try:
            return bool(self.history())
        except HistoryError:
            return False

    def _reread_changed(self, table: TableConfig, fingerprints: dict[dt.date, tuple[int, Any]]) -> None:
        """Read again, in one more query, the recorded baseline days the warehouse now holds other
        rows for (rerun, backfilled): for days it still holds, the warehouse is the truth. Their
        values are recorded at the end of the run, so the history is corrected too."""
        if not fingerprints:
            return
        recorded = {day: values for (name, day), values in self.history().items() if name == table.name}
        changed = changed_days(fingerprints, recorded)
        if not changed:
            return
        try:
            query = table_query(table, self.config, self.schema(table.name), learned=self.learned_cte(table),
                                scope=self.query_scope(table))
            rows = self._run(table, query.sql, "metrics:changed-days",
                             window={"start_date": changed[0], "end_date": changed[-1]})
        except BackendError as exc:
            self._reread_error[table.name] = (f"{len(changed)} baseline days changed in the warehouse since they "
                                              f"were recorded, and reading them again failed: {exc}")
            return
        fresh = query.values_by_date(rows)
        if self._learns(table):
            self.take_learned(table, fresh, computed=False, known=self.learned(table.name))
        for day in changed:
            values = fresh.get(day)
            if values and values.get("row_count"):
                landed = first_landing(recorded.get(day))
                self._before_window[table.name][day] = {**values, FIRST_LANDED: landed} if landed else values
        self.reread[table.name] = changed

    @property
    def history_store(self) -> HistoryStore | None:
        """Where runs are recorded (None: --no-history); a HistoryError when it cannot be set up."""
        if self._history_store is None and not self.settings.history_off:
            try:
                self._history_store = self._make_history_store()
            except HistoryError as exc:
                self._history_store = exc
        store = self._history_store
        if isinstance(store, HistoryError):
            raise store
        return store

    def _make_history_store(self) -> HistoryStore:
        settings, config = self.settings, self.config
        if settings.backend == "bigquery":
            from feature_store_health.history.bigquery_store import BigQueryHistory

            ref = settings.history or config.history.bigquery_table
            return BigQueryHistory(lambda: self.backend.client, ref,
                                   {"app": "feature-store-health", "check-date": settings.check_date.isoformat()},
                                   settings.query_timeout, self.backend.explain)
        from feature_store_health.history.duckdb_store import DuckDBHistory

        if settings.history is not None:
            path = Path(settings.history)
        elif config.history.path is not None:
            path = Path(config.history.path).expanduser()
            if not path.is_absolute():
                path = (settings.rootdir or Path.cwd()) / path
        else:
            path = (settings.history_dir or Path("reports")) / "history.duckdb"
        path = path.resolve()
        warehouse = getattr(self.backend, "path", None)
        if warehouse is not None and Path(warehouse).resolve() == path:
            raise HistoryError(f"history {path} is the warehouse, which stays read-only; give another "
                               "--history file")
        return DuckDBHistory(path)

    def _lookback_start(self, table: TableConfig, first: dt.date) -> dt.date:
        """The earliest date a baseline of ``first`` may draw on from the warehouse."""
        start = first - dt.timedelta(days=self.config.baseline.lookback_days)
        if table.partition_expiration_days is not None:  # older partitions are gone: history only
            today = today_in(self.config.timezone, self.started_at)
            start = max(start, today - dt.timedelta(days=table.partition_expiration_days))
        return start

    def history(self) -> dict[tuple[str, dt.date], dict[str, Any]]:
        """The recorded metrics of every table from the first baseline day to the run's last date:
        one read per run; {} with history off. Raises HistoryError when it cannot be read."""
        if self._history is None:
            dates = self.settings.dates
            self._history = self._read_history(dates[0] - dt.timedelta(days=self.config.baseline.lookback_days))
        if isinstance(self._history, HistoryError):
            raise self._history
        return self._history

    def run_dates_history(self) -> dict[tuple[str, dt.date], dict[str, Any]]:
        """The records of the run's own dates (its incidents): the run's history read if it was
        made, else a read of those dates alone, so a run that judges nothing against a baseline
        (``-m staleness``) still reads no baseline day. Raises HistoryError."""
        if self._history is not None:
            return self.history()
        if self._run_dates_read is None:
            self._run_dates_read = self._read_history(self.settings.dates[0], scope="the run's dates")
        if isinstance(self._run_dates_read, HistoryError):
            raise self._run_dates_read
        return self._run_dates_read

    def _read_history(self, start: dt.date, scope: str | None = None) -> "dict[tuple[str, dt.date], dict[str, Any]] | HistoryError":
        started = time.perf_counter()
        try:
            store = self.history_store
            if store is None:
                return {}
            # the same warehouse's records only: a demo rebuilt by a newer generator, or another
            # DuckDB file, is not compared with what another one recorded
            recorded = store.read([table.name for table in self.config.tables], start, self.settings.dates[-1],
                                  self.source_description())
            self.history_read = {"location": store.location, "dates": len(recorded),
                                 "seconds": round(time.perf_counter() - started, 4)}
            if scope is not None:
                self.history_read["scope"] = scope
            read_from = getattr(store, "read_from", None)
            if read_from is not None:   # the DuckDB file: its digest of the newest values, or its rows
                self.history_read["from"] = read_from
            damaged = getattr(store, "damaged", [])
            if damaged:  # left out, named: a damaged value never switches the baselines off
                self.history_read["damaged"] = damaged
            return recorded
        except HistoryError as exc:
            self.history_read = {"error": str(exc)}
            return exc

    def _query_start(self, table: TableConfig, query=None) -> dt.date:
        """The run's first date, or the earliest baseline day the history lacks while the warehouse
        still holds it: the one query then covers it too, so a first run already has a baseline;
        with drift judged, also the lookback's days not counted under this run's learned bins.
        ``query``: the table's planned query, whose baseline metrics a recorded day must hold."""
        learning = self._learning_start(table)   # drift: the lookback's days counted in its bins
        if learning is not None:
            return min(learning, self._history_start(table, query))
        return self._history_start(table, query)

    def _baseline_names(self, table: TableConfig, query) -> frozenset[str]:
        """The metrics a recorded day must hold to serve this run's baselines: its rows, and with
        anomalies judged every metric it tracks that the query computes (a day recorded by a run
        narrowed to other checks, -m staleness, holds only theirs: it is read from the warehouse)."""
        if query is None or not self._judges_anomalies(table):
            return frozenset({"row_count"})
        from feature_store_health.checks.profile import profile_metrics

        tracked = {metric.name for metric in (*DIMENSIONS["anomalies"].metrics(table, self.config),
                                              *profile_metrics(table, self.schema(table.name)))}
        return frozenset({"row_count", *(metric.name for metric in query.metrics if metric.name in tracked)})

    def _history_start(self, table: TableConfig, query=None) -> dt.date:
        first = self.settings.dates[0]
        if not (self._judges_anomalies(table) or self._judges(table, "arrival")):
            return first  # no baseline to draw on: anomalies' metrics, arrival's landings
        try:
            recorded = self.history()
        except HistoryError:
            return first  # anomalies cannot be judged: no reason to read more
        needed = self._baseline_names(table, query)
        day = self._lookback_start(table, first)
        while day < first:
            if not recorded.get((table.name, day), {}).keys() >= needed:   # a metric it lacks
                return day
            day += dt.timedelta(days=1)
        return first

    def _judges_anomalies(self, table: TableConfig) -> bool:
        """Whether this run judges the table's anomalies: otherwise there is no baseline to fetch."""
        return self._judges(table, "anomalies")

    def _judges(self, table: TableConfig, dimension: str) -> bool:
        """Whether this run judges the table's ``dimension`` (applicable, and selected once pytest
        has collected)."""
        if dimension not in applicable_dimensions(table):
            return False
        return not self.selected or any(spec.table == table.name and spec.dimension == dimension
                                        for spec in self.selected)

    def values_on(self, table_name: str, check_date: dt.date) -> tuple[dict[str, Any] | None, bool]:
        """A date's metric values for baselines and reports: (values, from history). The
        warehouse's own when it holds rows for the date (fresh), else the history's, else None."""
        fresh = self._before_window.get(table_name, {}).get(check_date)
        if fresh is None and check_date in self.settings.dates:
            fresh = self.metrics(table_name)[check_date]
        if fresh is not None and fresh.get("row_count"):
            return fresh, False
        try:
            recorded = self.history().get((table_name, check_date))
        except HistoryError:
            recorded = None
        if recorded and recorded.get("row_count"):
            return recorded, True
        return fresh, False

    def _baseline_days(self, table_name: str, check_date: dt.date) -> list[BaselineDay]:
        """Every candidate baseline day within the lookback (newest first), with its observations
        and what its verdicts hold against it: the baseline's view picks the days and fills in,
        from older days, for the metrics flagged on newer ones. Raises HistoryError."""
        self.history()
        if table_name in self._reread_error:
            raise HistoryError(self._reread_error[table_name])
        return [BaselineDay(day, self._observed(table_name, day, values), self._day_flags(table_name, day, values))
                for day, values in self._candidate_days(table_name, check_date)]

    def _candidate_days(self, table_name: str, check_date: dt.date) -> list[tuple[dt.date, dict[str, Any]]]:
        """The earlier days of the lookback with games scheduled, rows and no early-season rows."""
        days = []
        day = check_date - dt.timedelta(days=1)
        earliest = check_date - dt.timedelta(days=self.config.baseline.lookback_days)
        while day >= earliest:
            values, _ = self.values_on(table_name, day)
            if values and values.get("games_scheduled") and values.get("row_count") \
                    and settling(values, self._tables[table_name]) is None:
                days.append((day, values))
            day -= dt.timedelta(days=1)
        return days

    def _day_flags(self, table_name: str, day: dt.date, values: dict[str, Any]):
        """What a baseline day's verdicts hold against it: this run's, where it judged the day
        (anomalies judged first for earlier dates of the run), else the recorded ones that were
        judged on the rows the day holds now."""
        recorded = self._verdicts_on_record(table_name, day, values)
        verdicts = {dimension: (found.get("severity", "OK"), found.get("flagged") or ())
                    for dimension, found in recorded.items()}
        levels = (recorded.get("anomalies") or {}).get("levels") or {}
        # a day before the run's window: the dimensions judged ahead for later baselines
        for dimension in DIMENSIONS if day in self.settings.dates else ("anomalies", "drift", "continuity"):
            spec = CheckSpec(table_name, day, dimension)
            verdict = self._verdicts.get(spec) or self._judged_early.get(spec)
            if verdict is not None:
                verdicts[dimension] = (verdict.severity.value, self._verdict_metrics(verdict))
                if dimension == "anomalies":
                    levels = flagged_levels(verdict.details)
        return day_flags(verdicts, levels)

    def _profile_plan(self, table_name: str):
        """The table's profiled columns and their metrics, planned once per run."""
        if table_name not in self._profile_plans:
            from feature_store_health.checks.profile import profile_columns

            self._profile_plans[table_name] = profile_columns(self._tables[table_name], self.schema(table_name))
        return self._profile_plans[table_name]

    def _observed(self, table_name: str, check_date: dt.date, values: dict[str, Any]):
        """A baseline day's tracked metrics, computed once per run whatever dates it serves."""
        key = (table_name, check_date)
        if key not in self._observations:
            from feature_store_health.checks.baseline import observations

            self._observations[key] = observations(self._tables[table_name], self.schema(table_name), values,
                                                   check_date, self.config.timezone, self._profile_plan(table_name))
        return self._observations[key]

    def _verdict_metrics(self, verdict: Verdict) -> list[str]:
        return verdict_metrics(verdict.dimension, verdict.severity.value, verdict.details, verdict.threshold,
                               self._tables[verdict.table])

    def _judge_earlier(self, table_name: str, check_date: dt.date, dimension: str = "anomalies") -> None:
        """``dimension`` (anomalies, drift) of every earlier day a baseline of ``check_date`` may
        draw on that nobody has judged yet, oldest first: the run's earlier dates pytest has not
        reached (or deselected), and the days the one query fetched from the warehouse with no
        verdict on their rows (the history lacked them, or they changed since). What they flag is
        no baseline of later dates; they are recorded with the run."""
        for day in self._unjudged_days(table_name, check_date, dimension):
            spec = CheckSpec(table_name, day, dimension)
            if spec not in self._verdicts and spec not in self._judged_early:
                self._judged_early[spec] = self._judge(spec, baseline_only=True)

    def _unjudged_days(self, table_name: str, check_date: dt.date, dimension: str = "anomalies") -> list[dt.date]:
        """The earlier days with rows and no ``dimension`` verdict on their rows, oldest first: those
        the one query fetched, those only the history holds (recorded by a run that did not select
        the dimension, e.g. the runbook's ``-m drift`` Verify step), and the run's own earlier dates."""
        fetched = self._before_window.get(table_name, {})
        days = {day: values for day, values in fetched.items() if day < check_date}
        earliest = check_date - dt.timedelta(days=self.config.baseline.lookback_days)
        try:
            recorded = self.history()
        except HistoryError:   # anomalies says so; the other checks judge from the warehouse alone
            recorded = {}
        for (name, day), values in recorded.items():
            if name == table_name and earliest <= day < check_date and day not in days \
                    and day not in self.settings.dates:
                days[day] = values
        unjudged = [day for day, values in sorted(days.items())
                    if values.get("row_count") and dimension not in self._verdicts_on_record(table_name, day, values)]
        return unjudged + [day for day in self.settings.dates if day < check_date]

    def _verdicts_on_record(self, table_name: str, day: dt.date, values: dict[str, Any]) -> dict[str, Any]:
        """The day's recorded verdicts (dimension -> what was recorded) that judged the rows
        ``values`` describe (their fingerprint), whether those values came from the history or
        fresh from the warehouse (a day the one query covered again)."""
        key = (table_name, day, *day_fingerprint(values))   # the history is read once: fixed for the run
        found = self._on_record.get(key)
        if found is None:
            try:
                recorded = self.history().get((table_name, day)) or {}
            except HistoryError:
                return {}
            found = self._on_record[key] = recorded_verdicts(
                {**values, **{name: verdict for name, verdict in recorded.items() if name.startswith(VERDICT_PREFIX)}})
        return found

    def _anomalies_context(self, table: TableConfig, check_date: dt.date, values: dict[str, Any],
                           context: JudgeContext) -> JudgeContext:
        """The baseline anomalies judges a date against (what was left out, and why, in its notes)
        and the date's first recorded landing; or why it has none (the history unreadable)."""
        try:
            self._judge_earlier(table.name, check_date)
            levels = [level for level in self.config.baseline.new_levels if level.table == table.name]
            settings = self.config.baseline
            seen = view(self._baseline_days(table.name, check_date), check_date, levels, settings.game_days,
                        settings.minimum_game_days)
            recorded = self.history().get((table.name, check_date))
        except HistoryError as exc:
            return context._replace(baseline_error=f"the history could not be read: {exc}")
        return context._replace(baseline=seen.days, baseline_fill=seen.fill, baseline_carried=seen.carried,
                                baseline_notes=seen.notes, profile_plan=self._profile_plan(table.name),
                                first_landing=first_landing(recorded))
