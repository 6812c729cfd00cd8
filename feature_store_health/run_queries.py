"""The run's queries: the backend, each table's one aggregate query (planned from its live
columns and the selected checks), a dimension's own query, and the dry run's plan.

A part of the run state (``HealthRun`` mixes it in). Metrics of a table are fetched on first need
with one aggregate query for every date of the run.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TYPE_CHECKING

from feature_store_health.backends.base import Backend, BackendError
from feature_store_health.checks.contract import SchemaReport, compare
from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.plan import (
    FINGERPRINTS, FULL, QueryScope, applicable_dimensions, columns_read_by_checks, parse_fingerprints, query_dimensions,
    table_query,
)

if TYPE_CHECKING:
    from feature_store_health.config_types import TableConfig

__all__ = ["MetricsByDate", "Queries"]

MetricsByDate = dict[dt.date, dict[str, Any]]


class Queries:
    """The queries of a HealthRun (its settings, config, tables, backend factory and statistics)."""

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

    def _metrics_window(self, table: TableConfig, query) -> dict[str, dt.date]:
        """The metrics query's parameters: from the earliest baseline day the history lacks
        (``_query_start``); with fingerprints, also the first baseline day."""
        window = self._window(self._query_start(table, query))
        if any(metric.name == FINGERPRINTS for metric in query.metrics):
            window["baseline_start"] = min(self._lookback_start(table, self.settings.dates[0]), window["start_date"])
        if "@learn_start" in query.sql:   # drift and continuity learn from the lookback's days now
            window.update(self.learn_window(table))
        return window

    def _run(self, table: TableConfig, sql: str, purpose: str, start: dt.date | None = None,
             window: dict[str, dt.date] | None = None) -> list[dict[str, Any]]:
        """Run one query over the run's date window (or ``window``) and record what it cost."""
        parameters = window or self._window(start)
        found = self._sent_ahead(table.name, sql, parameters)   # run_ahead.py: sent when pytest collected
        result, entry = found if found is not None else (self.backend.run_query(table.name, sql, parameters), None)
        self._record_query(result.stats, purpose, parameters, entry)
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
                           learned=self.learned_cte(table), scope=self.query_scope(table))

    def query_scope(self, table: TableConfig) -> QueryScope:
        """What the table's query computes: the metrics of the checks pytest selected (-m, -k,
        --model), the column profile when anomalies is judged or an output shows it, the trend's
        metrics when an output shows the trend. Every metric before collection (nothing selected yet)."""
        in_query = set(query_dimensions(table, self.config))
        selected = frozenset(spec.dimension for spec in self.selected if spec.table == table.name) & in_query
        if not self.selected or selected == in_query:
            return FULL   # every metric (the profile and the trend's with them)
        return QueryScope(selected, profile=self.profile_shown or "anomalies" in selected,
                          trend=self.profile_shown or self.settings.days > 1)

    def _fetch(self, table: TableConfig) -> MetricsByDate | BackendError:
        dates = self.settings.dates
        try:
            query = self._planned_query(table)
            rows = self._run(table, query.sql, "metrics", window=self._metrics_window(table, query))
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
            queries = [(table.name, query.sql, self._metrics_window(table, query))] \
                if self._fetches_metrics(table) else []   # only what the selected checks read (-m, -k)
            queries += [(f"{table.name} ({dimension_id})", DIMENSIONS[dimension_id].own_query(table, self.config).sql,
                         self._window()) for dimension_id in self._own_query_dimensions(table)]
            for name, sql, window in queries:
                try:
                    estimate = self.backend.dry_run(table.name, sql, window)
                except BackendError as exc:
                    planned.append((name, sql, window, None, str(exc)))
                else:
                    planned.append((name, sql, window, estimate, None))
        return planned

    def _own_query_dimensions(self, table: TableConfig) -> list[str]:
        """The table's dimensions this run judges from a query of their own (source_consistency)."""
        return [dimension_id for dimension_id in applicable_dimensions(table)
                if DIMENSIONS[dimension_id].own_query is not None and self._judges(table, dimension_id)]

    def _column_problems(self, table: TableConfig, dimension) -> list[str]:
        """What is wrong with the live columns a dimension reads (missing, retyped); a table whose
        columns cannot be looked up at all is one problem, the lookup's error."""
        try:
            schema = self.schema(table.name)
        except BackendError as exc:
            return [str(exc)]
        return [problem for column in dimension.columns(table, self.config)
                if (problem := schema.problem(column)) is not None]

    def _fetches_metrics(self, table: TableConfig) -> bool:
        """Whether a selected check of the table is judged from its aggregate query."""
        in_query = query_dimensions(table, self.config)
        if not self.selected:
            return bool(in_query)
        return any(spec.table == table.name and spec.dimension in in_query for spec in self.selected)

