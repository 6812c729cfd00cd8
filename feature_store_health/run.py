"""The run state: settings, the query plan, fetched metrics, verdicts and query statistics.

Built once in ``pytest_configure``; tests only ask it for verdicts. Metrics of a table are
fetched on first need with one aggregate query for every date of the run, then judged in Python.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import uuid
from collections import Counter
from typing import Any, Callable, TYPE_CHECKING

from feature_store_health.backends.base import Backend, BackendError, QueryStats
from feature_store_health.checks.dimensions import DIMENSIONS, JudgeContext
from feature_store_health.checks.contract import SchemaReport, compare
from feature_store_health.checks.game_days import LAST_GAME, schedule_gap
from feature_store_health.checks.plan import (
    CheckSpec, FINGERPRINTS, ISSUE_METRICS, applicable_dimensions, columns_read_by_checks, parse_fingerprints, table_query,
)
from feature_store_health.checks.query import build_sample_query
from feature_store_health.checks.trend import TrendRow, trend_row
from feature_store_health.checks.verdict import Severity, Verdict, overall_status
from feature_store_health.clock import as_of_for, today_in
from feature_store_health.config import HealthConfig, TableConfig
from feature_store_health.history import HistoryError, HistoryStore
from feature_store_health.run_arrival import Arrivals, skipped_waiting
from feature_store_health.run_distributions import LEARNING, Distributions
from feature_store_health.run_history import HistoryAndBaselines
from feature_store_health.options import DEFAULT_MAX_BYTES_BILLED, DEFAULT_QUERY_TIMEOUT
from feature_store_health.settings import RunSettings

if TYPE_CHECKING:
    from feature_store_health.alerting.mutes import RunMutes

__all__ = ["CheckSpec", "HealthRun"]

MetricsByDate = dict[dt.date, dict[str, Any]]


class HealthRun(Distributions, HistoryAndBaselines, Arrivals):
    def __init__(
        self,
        settings: RunSettings,
        config: HealthConfig,
        backend_factory: Callable[[], Backend],
        started_at: dt.datetime,
    ) -> None:
        self.settings = settings
        self.config = config
        self.started_at = started_at
        self.queries: list[QueryStats] = []
        self.metadata_lookups: list[dict[str, Any]] = []   # one per table: its live columns
        self._backend_factory = backend_factory
        self._backend: Backend | None = None
        self._fetched: dict[str, MetricsByDate | BackendError] = {}
        self._own: dict[tuple[str, str], MetricsByDate | BackendError] = {}  # (table, dimension): own query
        self._schemas: dict[str, SchemaReport | BackendError] = {}
        self._profiles: dict[str, dict[dt.date, dict[str, dict[str, Any]]]] = {}
        self._samples: dict[tuple[str, str], list[dict[str, Any]] | str] = {}
        self._verdicts: dict[CheckSpec, Verdict] = {}  # in the order the checks ran
        self._tables = {table.name: table for table in config.tables}
        # Completeness of the run: the checks pytest selected, and those whose test ran to its end
        # (call phase reported, or setup failed or skipped). A selected check that never finished
        # makes the run INCOMPLETE; one that finished without a verdict is NOT_EVALUATED.
        self.collected: tuple[CheckSpec, ...] = ()
        self.finished: set[CheckSpec] = set()
        self.stop_reason: str | None = None   # why pytest stopped early (interrupted, -x, --setup-only)
        # The metric history: read once (baselines, expired dates), written once at the end
        self.run_id = f"{started_at.astimezone(dt.timezone.utc):%Y%m%dT%H%M%S%fZ}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._history_store: HistoryStore | None | HistoryError = None
        self._history: dict[tuple[str, dt.date], dict[str, Any]] | HistoryError | None = None
        self.history_read: dict[str, Any] | None = None     # what the read cost, for reports
        self.history_write: dict[str, Any] | None = None
        self._before_window: dict[str, MetricsByDate] = {}  # fetched dates before the run's: baselines only
        self._profile_plans: dict[str, Any] = {}
        self._observations: dict[tuple[str, dt.date], Any] = {}
        self.reread: dict[str, list[dt.date]] = {}          # recorded baseline days read again (changed)
        self._judged_early: dict[CheckSpec, Verdict] = {}   # anomalies of earlier dates, judged ahead of pytest
        self._reread_error: dict[str, str] = {}
        self._arrivals: dict[tuple[str, dt.date], Any] = {}  # (table, date) -> ArrivalContext
        # drift and continuity (run_distributions.py): per table, the learned values the query counted
        # with, the history's newest usable record (None: none), and the tables this run learned anew
        self._learned: dict[str, Any] = {}
        self._recorded_learned: dict[str, Any] = {}
        self._learned_now: set[str] = set()
        self.gate_decision = None   # the checked date's go/no-go (checks/gate.py), once the checks ran
        # JSON objects recorded with the run's history write: (table name, date, name, payload)
        self.records: list[tuple[str, dt.date, str, dict[str, Any]]] = []
        self.reprocess_outcomes: list[Any] = []   # alerting/remediation_run.py: this run's reprocess decisions
        self._mutes: Any = None   # alerting/mutes.py RunMutes, made on first use
        # (table, day, row_count, processed_at) -> the day's recorded verdicts judged on those rows
        self._on_record: dict[tuple[Any, ...], dict[str, Any]] = {}

    @property
    def mutes(self) -> "RunMutes":
        """The [[mutes]] holding on the run's day (New York), the expired ones, and which verdict
        each silences (alerting/mutes.py): a muted check is judged and shown, and sends nothing."""
        if self._mutes is None:
            from feature_store_health.alerting.mutes import RunMutes

            self._mutes = RunMutes(self.config.mutes, today_in(self.config.timezone, self.started_at),
                                   self.config.tables)
        return self._mutes

    # -- plan --------------------------------------------------------------------------------
    def specs(self, dimension: str) -> list[CheckSpec]:
        """A check per table and date, for the tables whose configuration the dimension applies to."""
        return [
            CheckSpec(table.name, check_date, dimension)
            for table in self.config.tables if dimension in applicable_dimensions(table)
            for check_date in self.settings.dates
        ]

    def as_of(self, check_date: dt.date) -> dt.datetime:
        return as_of_for(
            check_date,
            explicit=self.settings.as_of,
            deadline=self.config.deadline_time,
            timezone=self.config.timezone,
            now=self.started_at,
        )

    def expired(self, table: TableConfig, check_date: dt.date) -> bool:
        """Whether the date is older than the table's partition expiration (counted from today)."""
        if table.partition_expiration_days is None:
            return False
        today = today_in(self.config.timezone, self.started_at)
        return check_date < today - dt.timedelta(days=table.partition_expiration_days)

    # -- fetch -------------------------------------------------------------------------------
    @property
    def backend(self) -> Backend:
        if self._backend is None:
            self._backend = self._backend_factory()
        return self._backend

    def metrics(self, table_name: str) -> MetricsByDate:
        """Metric values per date for a table; one query, the first time it is asked for."""
        if table_name not in self._fetched:
            self._fetched[table_name] = self._fetch(self._tables[table_name])
        fetched = self._fetched[table_name]
        if isinstance(fetched, BackendError):
            raise fetched
        return fetched

    def fetched_metrics(self, table_name: str) -> MetricsByDate | BackendError | None:
        """The table's metric values (or why its query failed) if this run fetched them; None: it
        did not, and asking here never runs the query (the reprocess guard reads what is there)."""
        return self._fetched.get(table_name)

    def _window(self, start: dt.date | None = None) -> dict[str, dt.date]:
        """The query parameters of a query of the run: its first and last date. The metrics query
        may start earlier, at the baseline days the history lacks."""
        dates = self.settings.dates
        return {"start_date": start or dates[0], "end_date": dates[-1]}

    def _metrics_window(self, table: TableConfig, query, start: dt.date | None = None) -> dict[str, dt.date]:
        """The metrics query's parameters; with fingerprints, also the first baseline day."""
        window = self._window(start)
        if any(metric.name == FINGERPRINTS for metric in query.metrics):
            window["baseline_start"] = min(self._lookback_start(table, self.settings.dates[0]), window["start_date"])
        if "@learn_start" in query.sql:   # drift and continuity learn from the lookback's days now
            window.update(self.learn_window(table))
        return window

    def _run(self, table: TableConfig, sql: str, purpose: str, start: dt.date | None = None,
             window: dict[str, dt.date] | None = None) -> list[dict[str, Any]]:
        """Run one query over the run's date window (or ``window``) and record what it cost."""
        parameters = window or self._window(start)
        result = self.backend.run_query(table.name, sql, parameters)
        self.queries.append(result.stats._replace(purpose=purpose, parameters={
            name: value.isoformat() for name, value in parameters.items()}))
        return result.rows

    def schema(self, table_name: str) -> SchemaReport:
        """The table's live columns against its contract: one metadata lookup, the first time."""
        if table_name not in self._schemas:
            table = self._tables[table_name]
            try:
                description = self.backend.describe_table(table.table)
            except BackendError as exc:
                self._schemas[table_name] = exc
            else:
                self.metadata_lookups.append({"table": table_name, "columns": len(description.columns),
                                              "seconds": round(description.seconds, 4)})
                self._schemas[table_name] = compare(table.table, description.columns, table.contract,
                                                    columns_read_by_checks(table, self.config), description.equivalent)
        report = self._schemas[table_name]
        if isinstance(report, BackendError):
            raise report
        return report

    def date_column_refusal(self, table_name: str) -> str | None:
        """Why the table's date column cannot serve as the date of its rows, as a one-line usage
        error: every query compares it with DATE parameters, and a TIMESTAMP compared with a date
        matches its midnight rows only (0 records found on a full table). None when it is a DATE,
        when it is missing, or when the contract says DATE: a column retyped in the warehouse is
        the schema check's finding (and NOT_EVALUATED checks), never a usage error. Reads the
        table's one metadata lookup; a lookup that fails leaves its checks to say so."""
        table = self._tables[table_name]
        try:
            schema = self.schema(table_name)
        except BackendError:
            return None
        live = schema.live_type(table.date_column)
        if live in (None, "DATE") or (schema.contract or {}).get(table.date_column) == "DATE":
            return None
        return (f"{table.name}: date_column {table.date_column} is {live} in the warehouse; the suite needs a "
                f"DATE column: point date_column at one, or at a view with DATE({table.date_column}, "
                f"'{self.config.timezone}') AS {table.date_column}")

    def _planned_query(self, table: TableConfig):
        """The table's one query, built from the columns it has; raises BackendError when even the
        date column is unusable (no check of the table can run)."""
        schema = self.schema(table.name)
        problem = schema.problem(table.date_column)
        if problem is not None:
            raise BackendError(f"{problem}: no check of {table.name} can run")
        refusal = self.date_column_refusal(table.name)
        if refusal is not None:  # reached by --dry-run; a run that judges stops before its first check
            raise BackendError(refusal)
        return table_query(table, self.config, schema, fingerprints=self._uses_fingerprints(table),
                           learned=self.learned_cte(table))

    def _fetch(self, table: TableConfig) -> MetricsByDate | BackendError:
        dates = self.settings.dates
        try:
            query = self._planned_query(table)
            start = self._query_start(table)
            rows = self._run(table, query.sql, "metrics", window=self._metrics_window(table, query, start))
        except BackendError as exc:
            return exc
        values = query.values_by_date(rows)
        if self._learns(table):
            self.take_learned(table, values, computed="@learn_start" in query.sql)
        # the same text on every row (the recorded days before `start`): read once, dropped from all
        texts = [found.pop(FINGERPRINTS, None) for found in values.values()]
        fingerprints = parse_fingerprints(texts[0]) if texts else {}
        missing = [d.isoformat() for d in dates if d not in values]
        if missing:
            return BackendError(f"{table.name}: the query returned no row for {', '.join(missing)}")
        self._before_window[table.name] = {day: found for day, found in values.items() if day < dates[0]}
        self._reread_changed(table, fingerprints)
        return {day: values[day] for day in dates}

    def own_values(self, table_name: str, dimension_id: str) -> MetricsByDate:
        """The values of a dimension judged from a query of its own (source_consistency): one query
        for every date of the run, the first time it is asked for."""
        key = (table_name, dimension_id)
        if key not in self._own:
            table = self._tables[table_name]
            try:
                query = DIMENSIONS[dimension_id].own_query(table, self.config)
                values = query.values_by_date(self._run(table, query.sql, dimension_id))
                missing = [d.isoformat() for d in self.settings.dates if d not in values]
                if missing:
                    raise BackendError(f"{table.name}: the {dimension_id} query returned no row for {', '.join(missing)}")
                self._own[key] = values
            except BackendError as exc:
                self._own[key] = exc
        found = self._own[key]
        if isinstance(found, BackendError):
            raise found
        return found

    def dry_run(self) -> list[tuple[str, str, dict[str, dt.date], int | None, str | None]]:
        """Validate each table's queries without running them, with the parameters the run would
        give them: (table, sql, parameters, estimated bytes, error)."""
        planned = []
        for table in self.config.tables:
            try:
                query = self._planned_query(table)
            except BackendError as exc:
                planned.append((table.name, "", self._window(), None, str(exc)))
                continue
            queries = [(table.name, query.sql, self._metrics_window(table, query, self._query_start(table)))]
            queries += [(f"{table.name} ({dimension_id})", DIMENSIONS[dimension_id].own_query(table, self.config).sql,
                         self._window())
                        for dimension_id in applicable_dimensions(table) if DIMENSIONS[dimension_id].own_query]
            for name, sql, window in queries:
                try:
                    estimate = self.backend.dry_run(table.name, sql, window)
                except BackendError as exc:
                    planned.append((name, sql, window, None, str(exc)))
                else:
                    planned.append((name, sql, window, estimate, None))
        return planned

    def samples(self, table_name: str, dimension_id: str) -> list[dict[str, Any]] | str:
        """Offending rows of a failing dimension (at most SAMPLE_ROWS per date and reason), each with
        its ``sample_reason`` key: one query per dimension, on first need. A failure to fetch them
        is returned as text, never raised."""
        key = (table_name, dimension_id)
        if key not in self._samples:
            table = self._tables[table_name]
            dimension = DIMENSIONS[dimension_id]
            rules = dimension.sample_rules(table)
            if dimension.sample_query is not None:
                try:
                    self.metrics(table.name)   # the learned values the query compares with
                    sql = dimension.sample_query(table, self.learned_cte(table), self.schema(table.name).usable)
                    rows = self._run(table, sql, f"samples:{dimension_id}")
                except BackendError as exc:
                    self._samples[key] = f"samples unavailable: {exc}"
                else:
                    self._samples[key] = rows
            elif not rules:
                self._samples[key] = []
            else:
                sql = build_sample_query(table, rules, dimension.sample_columns(table))
                try:
                    rows = self._run(table, sql, f"samples:{dimension_id}")
                except BackendError as exc:
                    self._samples[key] = f"samples unavailable: {exc}"
                else:
                    self._samples[key] = [{**row, "sample_reason": rules[row["sample_reason"]].reason} for row in rows]
        return self._samples[key]

    def failing_samples(self, verdict: Verdict) -> list[dict[str, Any]] | str:
        """The sampled rows that made ``verdict`` fail: its date, the reasons that failed, each row once."""
        table = self._tables[verdict.table]
        dimension = DIMENSIONS[verdict.dimension]
        reasons = dimension.reasons_failing(verdict.details, verdict.threshold, table)
        if dimension.sample_rows is not None:  # its own query returned them with the date's values
            try:
                values = self.own_values(table.name, dimension.id)[verdict.check_date]
            except BackendError as exc:
                return f"samples unavailable: {exc}"
            return dimension.sample_rows(values, table, reasons)
        samples = self.samples(verdict.table, verdict.dimension)
        if isinstance(samples, str):
            return samples
        if dimension.sample_query is not None:   # the player, the previous date, the columns it flagged
            affected = (verdict.details or {}).get("columns_affected") or ()
            keep = {table.player_column, "prev_date", *affected, *(f"prev__{column}" for column in affected)}
            return [{name: value for name, value in row.items() if name in keep}
                    for row in samples if row["check_date"] == verdict.check_date]
        if dimension.reasons_are_columns:  # the player, the failing columns, when it was processed
            keep = {table.player_column, *reasons, *((table.processed_at_column,) if table.processed_at_column else ())}
        shown: list[dict[str, Any]] = []
        times_shown: Counter = Counter()
        for reason in reasons:  # the failing reasons' rows, in the order the dimension lists them
            in_reason: Counter = Counter()
            for row in samples:
                if row["check_date"] == verdict.check_date and row["sample_reason"] == reason:
                    columns = {name: value for name, value in row.items() if name not in ("check_date", "sample_reason")
                               and (not dimension.reasons_are_columns or name in keep)}
                    # a row matching two reasons is shown once; identical copies (duplicates) each
                    key = tuple(map(repr, columns.values()))
                    in_reason[key] += 1
                    if in_reason[key] > times_shown[key]:
                        times_shown[key] += 1
                        shown.append(columns)
        return shown

    def issue_counts(self, table_name: str) -> dict[str, list[tuple[str, int]]]:
        """Occurrences of each insufficient_data_reason / data_quality_issues value in the window,
        most common first, from the values the one aggregate query returned per date."""
        table = self._tables[table_name]
        by_date = self.metrics(table_name)
        counts = {}
        for config_key, metric in ISSUE_METRICS.items():
            column = getattr(table, config_key)
            if column:
                counter = Counter(value for values in by_date.values() for value in values.get(metric) or ())
                counts[column] = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        return counts

    def table(self, table_name: str) -> TableConfig:
        return self._tables[table_name]

    def profile(self, table_name: str) -> dict[dt.date, dict[str, dict[str, Any]]]:
        """The column profile per date (from the metrics already fetched), computed once for the
        results JSON and the HTML report alike."""
        if table_name not in self._profiles:
            from feature_store_health.checks.profile import column_stats

            table = self._tables[table_name]
            schema, by_date = self.schema(table_name), self.metrics(table_name)
            self._profiles[table_name] = {check_date: column_stats(table, schema, by_date[check_date])
                                          for check_date in self.settings.dates}
        return self._profiles[table_name]

    def trend(self, table_name: str) -> list[TrendRow]:
        """Per-date profile of a table for the reports (from the metrics already fetched); a date
        whose partition has expired is taken from the metric history when it holds it."""
        table = self._tables[table_name]
        by_date = self.metrics(table_name)
        rows = []
        for check_date in self.settings.dates:
            values, from_history = by_date[check_date], False
            if not values.get("row_count") and self.expired(table, check_date):
                values, from_history = self.values_on(table_name, check_date)
            rows.append(trend_row(table, check_date, values)._replace(from_history=from_history))
        return rows

    # -- judge -------------------------------------------------------------------------------
    def judge(self, spec: CheckSpec) -> Verdict:
        """Judge one check and record it; a query that failed gives NOT_EVALUATED, never a pass."""
        verdict = self._judged_early.pop(spec, None) or self._judge(spec)
        self._verdicts[spec] = verdict
        return verdict

    def _judge(self, spec: CheckSpec, baseline_only: bool = False) -> Verdict:
        """``baseline_only``: a day judged for what later baselines may hold of it (the values of a
        day before the run's window come from the same query)."""
        table = self._tables[spec.table]
        dimension = DIMENSIONS[spec.dimension]
        limits = table.thresholds[spec.dimension]
        try:
            if baseline_only and spec.check_date not in self.settings.dates:
                # fetched by the one query, or only recorded (a day no run judged this dimension of)
                values = self._before_window.get(table.name, {}).get(spec.check_date) \
                    or self.values_on(table.name, spec.check_date)[0]
            else:
                values = self._values_for(table, dimension, spec.check_date)
        except BackendError as exc:
            verdict = self._unjudged(spec, str(exc))
        else:
            try:
                context = JudgeContext(as_of=self.as_of(spec.check_date), expired=self.expired(table, spec.check_date),
                                       schema=self.schema(table.name), check_date=spec.check_date,
                                       timezone=self.config.timezone, baseline_config=self.config.baseline,
                                       schedule_table=self.config.schedule.table,
                                       schedule_gap=self._schedule_gap(table, dimension, spec.check_date, values))
                waiting = self.waiting_for_landing(spec) if spec.check_date in self.settings.dates else None
                if waiting is not None:  # until the rows land (or as of before they did), arrival's to judge
                    return skipped_waiting(spec, limits, waiting)
                if spec.dimension == "anomalies":
                    context = self._anomalies_context(table, spec.check_date, values, context)
                elif spec.dimension == "arrival":
                    context = context._replace(arrival=self._arrival_context(table, spec.check_date))
                elif spec.dimension in LEARNING:
                    context = context._replace(distributions=self._distribution_context(table, spec.check_date,
                                                                                        spec.dimension))
                judgement = dimension.judge(values, table, limits, context)
            except Exception as exc:  # a rule that raises is a check that could not run, never a pass
                verdict = self._unjudged(spec, f"judging raised {type(exc).__name__}: {exc}")
            else:
                verdict = Verdict(spec.table, spec.check_date, spec.dimension, judgement.severity, judgement.value,
                                  dict(limits), judgement.message, judgement.details)
        return verdict

    def _schedule_gap(self, table: TableConfig, dimension, check_date: dt.date, values: dict[str, Any]) -> str | None:
        """Why the schedule cannot tell whether the date is a game day (None: it can), from the
        schedule's last game in the table's aggregate query. A dimension judged from a query of its
        own reads it there only when this run fetches that query anyway: never one more query."""
        if LAST_GAME.name not in values:
            if dimension.own_query is None or not self._fetches_metrics(table):
                return None  # schema: judged from metadata alone
            try:
                values = self.metrics(table.name)[check_date]
            except BackendError:
                return None
        return schedule_gap(check_date, values.get(LAST_GAME.name), self.config.schedule)

    def _fetches_metrics(self, table: TableConfig) -> bool:
        """Whether a selected check of the table is judged from its aggregate query."""
        def reads(dimension_id: str) -> bool:
            dimension = DIMENSIONS[dimension_id]
            return dimension.own_query is None and bool(dimension.metrics(table, self.config))

        return any(spec.table == table.name and reads(spec.dimension) for spec in self.collected) \
            or (not self.collected and any(map(reads, applicable_dimensions(table))))

    def _values_for(self, table: TableConfig, dimension, check_date: dt.date) -> dict[str, Any]:
        """The metric values a dimension judges; BackendError when they cannot be had: the query
        failed, or a column the dimension reads is missing or retyped (named, the others judge)."""
        schema = self.schema(table.name)
        problems = [problem for column in dimension.columns(table, self.config)
                    if (problem := schema.problem(column)) is not None]
        if problems and not dimension.partial:
            raise BackendError("; ".join(problems))
        if dimension.own_query is not None:
            return self.own_values(table.name, dimension.id)[check_date]
        if not dimension.metrics(table, self.config):
            return {}  # judged from metadata alone (schema): it stands even when the query cannot run
        return self.metrics(table.name)[check_date]

    def record_unjudged(self, spec: CheckSpec, reason: str, severity: Severity = Severity.NOT_EVALUATED) -> None:
        """A check whose test failed without a failing verdict (an error in its setup or body, or a
        verdict never reached) is NOT_EVALUATED with the reason: it never reads as a pass. One
        skipped before it was judged (a skip marker) is SKIPPED with the reason, never dropped."""
        self._verdicts[spec] = self._unjudged(spec, reason, severity)

    def _unjudged(self, spec: CheckSpec, reason: str, severity: Severity = Severity.NOT_EVALUATED) -> Verdict:
        """The verdict of a check with no judgement: NOT_EVALUATED (or SKIPPED) and why."""
        limits = self._tables[spec.table].thresholds[spec.dimension]
        prefix = "not evaluated" if severity is Severity.NOT_EVALUATED else "not judged"
        return Verdict(spec.table, spec.check_date, spec.dimension, severity, None, dict(limits), f"{prefix}: {reason}")

    def verdict_for(self, spec: CheckSpec) -> Verdict | None:
        return self._verdicts.get(spec)

    @property
    def verdicts(self) -> list[Verdict]:
        """The verdicts of the checks that ran to their end, in the order they ran."""
        return [verdict for spec, verdict in self._verdicts.items() if spec in self.finished]

    # -- outcome -----------------------------------------------------------------------------
    @property
    def not_run(self) -> list[CheckSpec]:
        """Selected checks whose test never ran to its end (interrupted, -x, --setup-only)."""
        return [spec for spec in self.collected if spec not in self.finished]

    @property
    def judged(self) -> int:
        """How many selected checks ran to their end: 0 means the run judged nothing."""
        return sum(spec in self.finished for spec in self.collected)

    @property
    def complete(self) -> bool:
        return bool(self.collected) and not self.not_run

    @property
    def judged_status(self) -> str:
        """The status of the checks that were judged, whether or not the run completed."""
        return overall_status([verdict.severity for verdict in self.verdicts])

    @property
    def status(self) -> str:
        """HEALTHY / DEGRADED / UNHEALTHY / CRITICAL; INCOMPLETE when a selected check never ran."""
        return self.judged_status if self.complete else "INCOMPLETE"

    def table_status(self, table_name: str) -> str:
        """One table's status: INCOMPLETE when a selected check of it never ran (-x, interrupted),
        NOT_SELECTED when no check of it was selected (-m, -k) and none judged, else what its
        judged checks say. A table none of whose checks ran never reads HEALTHY."""
        selected = [spec for spec in self.collected if spec.table == table_name]
        severities = [verdict.severity for verdict in self.verdicts if verdict.table == table_name]
        if any(spec not in self.finished for spec in selected):
            return "INCOMPLETE"
        if not selected and not severities:
            return "NOT_SELECTED"
        return overall_status(severities)

    def incomplete_reason(self) -> str:
        if not self.collected:
            return "no check was selected"
        why = f" ({self.stop_reason})" if self.stop_reason else ""
        return f"{len(self.not_run)} of {len(self.collected)} selected checks never ran{why}"

    def source_description(self) -> str:
        try:
            return self.backend.describe()
        except BackendError as exc:
            return f"unavailable ({exc})"

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()

    def runbook_link(self, dimension: str) -> str:
        """The runbook section of a dimension: the configured URL, else the checkout's file."""
        base = self.config.runbook_url or self.settings.runbook_default
        return f"{base}#{dimension}"

    def rerun_command(self) -> str:
        """The same run, as a shell command: every option that changes what is checked or how it is
        judged (the history and the archive folder it defaults to included), quoted for the shell.
        Never a secret: the Slack webhook is not part of it."""
        settings = self.settings
        parts = ["pytest", "data_tests", f"--date={settings.check_date.isoformat()}"]
        if settings.days > 1:
            parts.append(f"--days={settings.days}")
        if settings.backend != "duckdb":
            parts.append(f"--backend={settings.backend}")
        optional = (
            ("--project", settings.project),
            ("--location", settings.location),
            ("--bigquery-endpoint", settings.bigquery_endpoint),
            ("--database", settings.database),
            ("--as-of", settings.as_of.isoformat() if settings.as_of is not None else None),
            ("--health-config", settings.config_path),
        )
        parts.extend(f"{flag}={value}" for flag, value in optional if value is not None)
        # the baselines come from the history: where it is (an explicit flag even when the run
        # read it from $FEATURE_STORE_HEALTH_HISTORY), or that it was off, changes the verdict
        if settings.history_off:
            parts.append("--no-history")
        elif settings.history is not None:
            parts.append(f"--history={settings.history}")
        if settings.reports_dir_option is not None:  # the default history lives in the archive folder
            parts.append(f"--reports-dir={settings.reports_dir_option}")
        if settings.backend == "bigquery" and settings.max_bytes_billed != DEFAULT_MAX_BYTES_BILLED:
            parts.append(f"--max-bytes-billed={settings.max_bytes_billed}")
        if settings.backend == "bigquery" and settings.query_timeout != DEFAULT_QUERY_TIMEOUT:
            parts.append(f"--query-timeout={settings.query_timeout:g}")
        if settings.fail_on != "error":
            parts.append(f"--fail-on={settings.fail_on}")
        if settings.model is not None:
            parts.append(f"--model={settings.model}")
        parts.extend(settings.selection)
        return shlex.join(parts)
