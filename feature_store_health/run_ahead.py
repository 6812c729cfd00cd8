"""The run's queries sent ahead of its checks: all at once, as soon as pytest has collected.

A part of the run state (``HealthRun`` mixes it in). Once pytest knows the selected checks, and
before the first of them runs, every query they will read is planned here, in the main thread,
exactly as the checks would plan it (each table's aggregate query, each selected dimension's
query of its own) and sent, each from a thread of its own. The warehouse works on them together,
and on a later table's query while an earlier table's checks are judged: a DuckDB file's queries
share its cores, BigQuery's run side by side on Google's.

Nothing else changes. A check that asks for a query takes its answer (or its error) once it is
ready; a query the checks plan otherwise than it was sent runs as before. What each query cost is
recorded when a check reads it, in the order they are read. One that no check read (the run
stopped early, -x or interrupted) is recorded when the run ends (``settle_ahead``), so the results
JSON shows every query the run sent and every byte it was billed.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
from typing import TYPE_CHECKING

from feature_store_health.backends.base import BackendError, QueryResult
from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.plan import applicable_dimensions

if TYPE_CHECKING:
    from feature_store_health.config_types import TableConfig

__all__ = ["FetchAhead", "NOT_READ"]

MAX_AT_ONCE = 8   # queries sent together; more wait for a free thread
NOT_READ = "sent ahead, not read"   # the purpose's suffix of a query no check read (the run stopped)

Key = tuple[str, str, tuple[tuple[str, dt.date], ...]]


def _key(table_name: str, sql: str, parameters: dict[str, dt.date]) -> Key:
    return table_name, sql, tuple(sorted(parameters.items()))


class FetchAhead:
    """The queries sent ahead of a HealthRun's checks (its selection, planning, backend and queries)."""

    _ahead: dict[Key, tuple[str, concurrent.futures.Future]]   # sent, not read yet: (purpose, its answer)
    _settled: dict[Key, tuple[int, QueryResult]]   # ended unread (settle_ahead): (its entry in queries, answer)
    _sender: concurrent.futures.ThreadPoolExecutor | None

    def fetch_ahead(self) -> None:
        """Send every query the selected checks read, at once. Once per run; only after pytest
        collected (a selection). A query that cannot be planned is left to its checks, which
        plan it again and say why."""
        if self._sender is not None or not self.selected:
            return
        try:
            self.backend   # made here, in the main thread, before any query's thread asks for it
        except BackendError:
            return
        self._sender = concurrent.futures.ThreadPoolExecutor(MAX_AT_ONCE, thread_name_prefix="feature-store-health")
        tables = [table for table in self.config.tables if any(spec.table == table.name for spec in self.selected)]
        # a dimension's own query first: it waits on nothing, the aggregate queries on the history's read
        for table in tables:
            for dimension_id in applicable_dimensions(table):
                dimension = DIMENSIONS[dimension_id]
                if dimension.own_query is None or not self._judges(table, dimension_id) \
                        or self._column_problems(table, dimension):
                    continue
                try:
                    sql = dimension.own_query(table, self.config).sql
                except Exception:   # noqa: BLE001 -- raised again, as it is today, when a check plans it
                    continue
                self._send(table, sql, dimension_id, self._window())
        for table in tables:
            if not self._fetches_metrics(table):
                continue
            try:
                query = self._planned_query(table)
                window = self._metrics_window(table, query, self._query_start(table, query))
            except Exception:   # noqa: BLE001 -- raised again, as it is today, when a check plans it
                continue
            self._send(table, query.sql, "metrics", window)

    def _column_problems(self, table: TableConfig, dimension) -> list[str]:
        """What is wrong with the live columns a dimension reads (missing, retyped); a table whose
        columns cannot be looked up at all is one problem, the lookup's error."""
        try:
            schema = self.schema(table.name)
        except BackendError as exc:
            return [str(exc)]
        return [problem for column in dimension.columns(table, self.config)
                if (problem := schema.problem(column)) is not None]

    def _send(self, table: TableConfig, sql: str, purpose: str, parameters: dict[str, dt.date]) -> None:
        key = _key(table.name, sql, parameters)
        if key not in self._ahead:
            self._ahead[key] = purpose, self._sender.submit(self.backend.run_query, table.name, sql, dict(parameters))

    def _sent_ahead(self, table_name: str, sql: str,
                    parameters: dict[str, dt.date]) -> tuple[QueryResult, int | None] | None:
        """The answer of the query if it was sent ahead (waiting for it), and the index of its
        entry in ``queries`` when it was recorded as not read (an output reads it after the
        checks stopped); raises its BackendError. None: it was not sent, and the caller runs it."""
        key = _key(table_name, sql, parameters)
        found = self._ahead.pop(key, None)
        if found is not None:
            return found[1].result(), None
        settled = self._settled.pop(key, None)
        return None if settled is None else (settled[1], settled[0])

    def _record_query(self, stats, purpose: str, parameters: dict[str, dt.date], entry: int | None = None) -> None:
        """What a query the run read cost: appended, or put in place of its entry as a query not read."""
        stats = stats._replace(purpose=purpose, parameters={name: value.isoformat() for name, value in parameters.items()})
        if entry is None:
            self.queries.append(stats)
        else:
            self.queries[entry] = stats

    def settle_ahead(self, interrupted: bool = False) -> None:
        """Record the queries sent ahead that no check read (the run stopped first), once they end:
        ``interrupted`` stops them first where the backend can. Before the outputs are written; an
        output that reads one of them after all (the results JSON's profile) takes its answer."""
        if not self._ahead:
            return
        if interrupted:
            getattr(self.backend, "interrupt", lambda: None)()
        for key, (purpose, future) in list(self._ahead.items()):
            try:
                result = future.result()
            except Exception:   # noqa: BLE001 -- no check read it: there is nothing to judge or report
                continue
            self._settled[key] = len(self.queries), result
            self.queries.append(result.stats._replace(purpose=f"{purpose} ({NOT_READ})", parameters={
                name: value.isoformat() for name, value in key[2]}))
        self._ahead.clear()

    def _stop_sending(self) -> None:
        """Wait for the queries still running (never left behind a closed connection)."""
        if self._sender is not None:
            if self._ahead:
                getattr(self._backend, "interrupt", lambda: None)()
            self._sender.shutdown(wait=True, cancel_futures=True)
            self._ahead.clear()
