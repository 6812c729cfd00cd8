"""The run state: settings, verdicts and the run's outcome; its other jobs are mixed in.

Built once in ``pytest_configure``; tests only ask it for verdicts. Metrics of a table are
fetched on first need with one aggregate query for every date of the run, then judged in Python.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from typing import Any, Callable, TYPE_CHECKING

from feature_store_health.backends.base import Backend, BackendError, QueryStats
from feature_store_health.checks.dimensions import DIMENSIONS, JudgeContext
from feature_store_health.checks.contract import SchemaReport
from feature_store_health.checks.game_days import LAST_GAME, schedule_gap
from feature_store_health.checks.plan import CheckSpec, applicable_dimensions
from feature_store_health.checks.verdict import Severity, Verdict, overall_status
from feature_store_health.clock import as_of_for, today_in
from feature_store_health.config_types import HealthConfig, TableConfig
from feature_store_health.history import HistoryError, HistoryStore
from feature_store_health.run_ahead import FetchAhead
from feature_store_health.run_arrival import Arrivals, skipped_waiting
from feature_store_health.run_distributions import LEARNING, Distributions
from feature_store_health.run_history import HistoryAndBaselines
from feature_store_health.run_queries import MetricsByDate, Queries
from feature_store_health.run_record import Recording
from feature_store_health.run_rerun import rerun_command
from feature_store_health.run_shown import Shown
from feature_store_health.settings import RunSettings

if TYPE_CHECKING:
    from feature_store_health.alerting.mutes import RunMutes

__all__ = ["CheckSpec", "HealthRun"]


class HealthRun(Queries, FetchAhead, Shown, Distributions, HistoryAndBaselines, Recording, Arrivals):
    """One run of the suite: its settings and state, and the verdicts pytest asks it for. Its
    parts by job: the queries (run_queries.py), sent ahead of the checks (run_ahead.py), what reports show beside the verdicts
    (run_shown.py), drift's and continuity's learned values (run_distributions.py), history and
    baselines (run_history.py), its history write (run_record.py), landings (run_arrival.py), the rerun command (run_rerun.py)."""

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
        self._ahead = {}        # run_ahead.py: the queries sent ahead of the checks, not read yet
        self._sender = None
        self._settled = {}
        self._verdicts: dict[CheckSpec, Verdict] = {}  # in the order the checks ran
        self._tables = {table.name: table for table in config.tables}
        # Completeness of the run: the checks pytest selected, and those whose test ran to its end
        # (call phase reported, or setup failed or skipped). A selected check that never finished
        # makes the run INCOMPLETE; one that finished without a verdict is NOT_EVALUATED.
        self.collected: tuple[CheckSpec, ...] = ()
        self.selected: tuple[CheckSpec, ...] = ()   # the same, also in a --dry-run: what the queries compute
        self.finished: set[CheckSpec] = set()
        self.stop_reason: str | None = None   # why pytest stopped early (interrupted, -x, --setup-only)
        # The metric history: read once (baselines, expired dates), written once at the end
        self.run_id = f"{started_at.astimezone(dt.timezone.utc):%Y%m%dT%H%M%S%fZ}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._history_store: HistoryStore | None | HistoryError = None
        self._history: dict[tuple[str, dt.date], dict[str, Any]] | HistoryError | None = None
        self._run_dates_read: dict[tuple[str, dt.date], dict[str, Any]] | HistoryError | None = None
        self.history_read: dict[str, Any] | None = None     # what the read cost, for reports
        self.history_write: dict[str, Any] | None = None
        self._before_window: dict[str, MetricsByDate] = {}  # fetched dates before the run's: baselines only
        self._profile_plans: dict[str, Any] = {}
        self._observations: dict[tuple[str, dt.date], Any] = {}
        self._drift_observations: dict[tuple[str, dt.date], Any] = {}   # run_distributions._drift_observed
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
        # whether an output shows the column profile and the trend (the HTML report, the results
        # JSON): set by reporting/outputs.py once it knows; a run made elsewhere computes them
        self.profile_shown = True

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

    def _values_for(self, table: TableConfig, dimension, check_date: dt.date) -> dict[str, Any]:
        """The metric values a dimension judges; BackendError when they cannot be had: the query
        failed, or a column the dimension reads is missing or retyped (named, the others judge)."""
        self.schema(table.name)   # raises: the table's columns cannot be looked up
        problems = self._column_problems(table, dimension)
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
        self._stop_sending()
        if self._backend is not None:
            self._backend.close()

    def runbook_link(self, dimension: str) -> str:
        """The runbook section of a dimension: the configured URL, else the checkout's file."""
        base = self.config.runbook_url or self.settings.runbook_default
        return f"{base}#{dimension}"

    def rerun_command(self) -> str:
        """The same run, as a shell command (run_rerun.py)."""
        return rerun_command(self.settings)
