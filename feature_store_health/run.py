"""The run state: settings, the query plan, fetched metrics, verdicts and query statistics.

Built once in ``pytest_configure``; tests only ask it for verdicts. Metrics of a table are
fetched on first need with one aggregate query for every date of the run, then judged in Python.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Callable, NamedTuple

from feature_store_health.backends.base import Backend, BackendError, QueryStats
from feature_store_health.checks.dimensions import DIMENSIONS, JudgeContext
from feature_store_health.checks.plan import ISSUE_METRICS, table_query
from feature_store_health.checks.query import build_sample_query
from feature_store_health.checks.trend import TrendRow, trend_row
from feature_store_health.checks.verdict import Severity, Verdict, overall_status
from feature_store_health.clock import as_of_for, today_in
from feature_store_health.config import HealthConfig, TableConfig
from feature_store_health.options import RunSettings

__all__ = ["CheckSpec", "HealthRun"]

MetricsByDate = dict[dt.date, dict[str, Any]]


class CheckSpec(NamedTuple):
    """One parametrized test: a dimension of a table on a date."""

    table: str
    check_date: dt.date
    dimension: str

    @property
    def id(self) -> str:
        return f"{self.table}-{self.check_date.isoformat()}"


class HealthRun:
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
        self._backend_factory = backend_factory
        self._backend: Backend | None = None
        self._fetched: dict[str, MetricsByDate | BackendError] = {}
        self._samples: dict[tuple[str, str], list[dict[str, Any]] | str] = {}
        self._verdicts: dict[CheckSpec, Verdict] = {}  # in the order the checks ran
        self._tables = {table.name: table for table in config.tables}

    # -- plan --------------------------------------------------------------------------------
    def specs(self, dimension: str) -> list[CheckSpec]:
        return [
            CheckSpec(table.name, check_date, dimension)
            for table in self.config.tables
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

    def _window(self) -> dict[str, dt.date]:
        """The query parameters of every query of the run: its first and last date."""
        dates = self.settings.dates
        return {"start_date": dates[0], "end_date": dates[-1]}

    def _run(self, table: TableConfig, sql: str, purpose: str) -> list[dict[str, Any]]:
        """Run one query over the run's date window and record what it cost."""
        result = self.backend.run_query(table.name, sql, self._window())
        self.queries.append(result.stats._replace(purpose=purpose))
        return result.rows

    def _fetch(self, table: TableConfig) -> MetricsByDate | BackendError:
        query = table_query(table, self.config)
        dates = self.settings.dates
        try:
            rows = self._run(table, query.sql, "metrics")
        except BackendError as exc:
            return exc
        values = query.values_by_date(rows)
        missing = [d.isoformat() for d in dates if d not in values]
        if missing:
            return BackendError(f"{table.name}: the query returned no row for {', '.join(missing)}")
        return values

    def dry_run(self) -> list[tuple[str, str, int | None, str | None]]:
        """Validate each table's query without running it: (table, sql, estimated bytes, error)."""
        planned = []
        for table in self.config.tables:
            query = table_query(table, self.config)
            try:
                estimate = self.backend.dry_run(table.name, query.sql, self._window())
            except BackendError as exc:
                planned.append((table.name, query.sql, None, str(exc)))
            else:
                planned.append((table.name, query.sql, estimate, None))
        return planned

    def samples(self, table_name: str, dimension_id: str) -> list[dict[str, Any]] | str:
        """Offending rows of a failing dimension (at most SAMPLE_ROWS per date): one query per
        dimension, on first need. A failure to fetch them is returned as text, never raised."""
        key = (table_name, dimension_id)
        if key not in self._samples:
            table = self._tables[table_name]
            dimension = DIMENSIONS[dimension_id]
            predicate = dimension.offending_rows(table)
            if predicate is None:
                self._samples[key] = []
            else:
                sql = build_sample_query(table, predicate, dimension.sample_columns(table))
                try:
                    self._samples[key] = self._run(table, sql, f"samples:{dimension_id}")
                except BackendError as exc:
                    self._samples[key] = f"samples unavailable: {exc}"
        return self._samples[key]

    def issue_counts(self, table_name: str) -> dict[str, list[tuple[str, int]]]:
        """Occurrences of each insufficient_data_reason / data_quality_issues value in the window,
        most common first, from the values the one aggregate query returned per date."""
        table = self._tables[table_name]
        by_date = self.metrics(table_name)
        counts = {}
        for config_key, metric in ISSUE_METRICS.items():
            column = getattr(table, config_key)
            if column:
                counter = Counter(value for values in by_date.values() for value in values[metric] or ())
                counts[column] = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        return counts

    def trend(self, table_name: str) -> list[TrendRow]:
        """Per-date profile of a table for the reports (from the metrics already fetched)."""
        table = self._tables[table_name]
        by_date = self.metrics(table_name)
        return [trend_row(table, check_date, by_date[check_date]) for check_date in self.settings.dates]

    # -- judge -------------------------------------------------------------------------------
    def judge(self, spec: CheckSpec) -> Verdict:
        """Judge one check and record it; a query that failed gives NOT_EVALUATED, never a pass."""
        table = self._tables[spec.table]
        dimension = DIMENSIONS[spec.dimension]
        limits = table.thresholds[spec.dimension]
        try:
            values = self.metrics(spec.table)[spec.check_date]
        except BackendError as exc:
            verdict = Verdict(spec.table, spec.check_date, spec.dimension, Severity.NOT_EVALUATED, None,
                              dict(limits), f"not evaluated: {exc}")
        else:
            context = JudgeContext(as_of=self.as_of(spec.check_date), expired=self.expired(table, spec.check_date))
            judgement = dimension.judge(values, table, limits, context)
            verdict = Verdict(spec.table, spec.check_date, spec.dimension, judgement.severity, judgement.value,
                              dict(limits), judgement.message, judgement.details)
        self._verdicts[spec] = verdict
        return verdict

    def verdict_for(self, spec: CheckSpec) -> Verdict | None:
        return self._verdicts.get(spec)

    @property
    def verdicts(self) -> list[Verdict]:
        return list(self._verdicts.values())

    # -- outcome -----------------------------------------------------------------------------
    @property
    def status(self) -> str:
        return overall_status([verdict.severity for verdict in self.verdicts])

    def source_description(self) -> str:
        try:
            return self.backend.describe()
        except BackendError as exc:
            return f"unavailable ({exc})"

    def close(self) -> None:
        if self._backend is not None:
            self._backend.close()

    def rerun_command(self) -> str:
        parts = ["pytest", "data_tests", f"--date={self.settings.check_date.isoformat()}"]
        if self.settings.days > 1:
            parts.append(f"--days={self.settings.days}")
        if self.settings.backend != "duckdb":
            parts.append(f"--backend={self.settings.backend}")
        if self.settings.project:
            parts.append(f"--project={self.settings.project}")
        if self.settings.location:
            parts.append(f"--location={self.settings.location}")
        if self.settings.database is not None:
            parts.append(f"--database={self.settings.database}")
        if self.settings.as_of is not None:
            parts.append(f"--as-of={self.settings.as_of.isoformat()}")
        if self.settings.config_path is not None:
            parts.append(f"--health-config={self.settings.config_path}")
        return " ".join(parts)
