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
stopped early, -x) is recorded when the run ends (``settle_ahead``), so the results JSON shows
every query the run sent and every byte it was billed; an output that reads it then takes its
answer or its error, never a second query. An interrupted run (Ctrl-C) waits for none of them:
those still queued are never sent, those running are stopped (DuckDB's cursors interrupted,
BigQuery's jobs cancelled), and the threads are daemons that never hold the process's exit.
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import threading
import time
from typing import TYPE_CHECKING

from feature_store_health.backends.base import BackendError, QueryResult
from feature_store_health.checks.dimensions import DIMENSIONS

if TYPE_CHECKING:
    from feature_store_health.config_types import TableConfig

__all__ = ["FetchAhead", "NOT_READ"]

MAX_AT_ONCE = 8   # queries running together; more wait for one to end
NOT_READ = "sent ahead, not read"   # the purpose's suffix of a query no check read (the run stopped)
INTERRUPTED = "not read: the run was interrupted"
STOPPED_SECONDS = 5.0   # how long a stopped run waits for its stopped queries before it exits


class Sender:
    """A daemon thread per query, at most MAX_AT_ONCE running: an interrupted run exits without
    waiting for them, and one not started when the run stops is never sent."""

    def __init__(self, limit: int = MAX_AT_ONCE) -> None:
        self._slots = threading.Semaphore(limit)
        self._threads: list[threading.Thread] = []
        self.stopped = False

    def submit(self, function, *args) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()

        def work() -> None:
            with self._slots:
                if self.stopped:
                    future.set_exception(BackendError(INTERRUPTED))
                    return
                future.set_running_or_notify_cancel()
                try:
                    future.set_result(function(*args))
                except BaseException as exc:   # noqa: BLE001 -- raised again where the answer is read
                    future.set_exception(exc)

        thread = threading.Thread(target=work, name=f"feature-store-health-{len(self._threads)}", daemon=True)
        self._threads.append(thread)
        thread.start()
        return future

    def stop(self) -> None:
        self.stopped = True

    def join(self, seconds: float | None = None) -> None:
        """Wait for every thread; ``seconds``: at most that long in all (the rest are left, daemons)."""
        ends = None if seconds is None else time.monotonic() + seconds
        for thread in self._threads:
            thread.join(None if ends is None else max(0.0, ends - time.monotonic()))


Key = tuple[str, str, tuple[tuple[str, dt.date], ...]]


def _key(table_name: str, sql: str, parameters: dict[str, dt.date]) -> Key:
    return table_name, sql, tuple(sorted(parameters.items()))


class FetchAhead:
    """The queries sent ahead of a HealthRun's checks (its selection, planning, backend and queries)."""

    _ahead: dict[Key, tuple[str, concurrent.futures.Future]]   # sent, not read yet: (purpose, its answer)
    # ended unread (settle_ahead): (its entry in queries, or None: not listed; its answer or its error)
    _settled: dict[Key, tuple[int | None, QueryResult | BaseException]]
    _sender: Sender | None

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
        self._sender = Sender()
        tables = [table for table in self.config.tables if any(spec.table == table.name for spec in self.selected)]
        # a dimension's own query first: it waits on nothing, the aggregate queries on the history's read
        for table in tables:
            for dimension_id in self._own_query_dimensions(table):
                dimension = DIMENSIONS[dimension_id]
                if self._column_problems(table, dimension):
                    continue   # its checks say what is wrong, and send nothing
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
                window = self._metrics_window(table, query)
            except Exception:   # noqa: BLE001 -- raised again, as it is today, when a check plans it
                continue
            self._send(table, query.sql, "metrics", window)

    def _send(self, table: TableConfig, sql: str, purpose: str, parameters: dict[str, dt.date]) -> None:
        key = _key(table.name, sql, parameters)
        if key in self._ahead:
            return
        self._ahead[key] = purpose, self._sender.submit(self.backend.run_query, table.name, sql, dict(parameters))

    def _sent_ahead(self, table_name: str, sql: str,
                    parameters: dict[str, dt.date]) -> tuple[QueryResult, int | None] | None:
        """The answer of the query if it was sent ahead (waiting for it), and the index of its
        entry in ``queries`` when it was recorded as not read (an output reads it after the
        checks stopped); raises its BackendError. None: it was not sent, and the caller runs it."""
        key = _key(table_name, sql, parameters)
        found = self._ahead.pop(key, None)
        if found is not None:
            try:
                return found[1].result(), None
            except KeyboardInterrupt:   # Ctrl-C while waiting for it: no output sends it again
                self._settled[key] = None, BackendError(INTERRUPTED)
                raise
        settled = self._settled.pop(key, None)
        if settled is None:
            return None
        entry, answer = settled
        if isinstance(answer, BaseException):
            raise answer
        return answer, entry

    def _record_query(self, stats, purpose: str, parameters: dict[str, dt.date], entry: int | None = None) -> None:
        """What a query the run read cost: appended, or put in place of its entry as a query not read."""
        stats = stats._replace(purpose=purpose, parameters={name: value.isoformat() for name, value in parameters.items()})
        if entry is None:
            self.queries.append(stats)
        else:
            self.queries[entry] = stats

    def settle_ahead(self, interrupted: bool = False) -> None:
        """Before the outputs are written: the queries sent ahead that no check read (the run
        stopped first). Each is waited for and recorded as not read; an output that reads one
        after all takes its answer (or its error). ``interrupted`` (Ctrl-C) waits for none: those
        not started are never sent, those running are stopped, and only those already ended are
        recorded. A Ctrl-C while waiting makes it an interrupted settle."""
        if self._sender is None:
            return
        if not interrupted:
            try:
                concurrent.futures.wait([future for _purpose, future in self._ahead.values()])
            except KeyboardInterrupt:
                interrupted = True
                self.stop_reason = self.stop_reason or "interrupted while waiting for the queries sent ahead"
        if interrupted:
            self._sender.stop()
            getattr(self.backend, "interrupt", lambda: None)()
        for key, (purpose, future) in list(self._ahead.items()):
            if not future.done():
                self._settled[key] = None, BackendError(INTERRUPTED)
                continue
            try:
                result = future.result()
            except BaseException as exc:   # noqa: BLE001 -- the error of whoever reads it next
                self._settled[key] = None, exc
                continue
            self._settled[key] = len(self.queries), result
            self._record_query(result.stats, f"{purpose} ({NOT_READ})", dict(key[2]))
        self._ahead.clear()

    def _stop_sending(self) -> None:
        """At the run's end: wait for the queries still running (never left behind a closed
        connection), unless the run was interrupted (they were stopped; daemons, never waited on)."""
        if self._sender is None:
            return
        if self._ahead:   # never settled (the run ended before its outputs): stopped like an interrupt
            self._sender.stop()
            getattr(self._backend, "interrupt", lambda: None)()
        # stopped queries end within moments (DuckDB's at once, BigQuery's jobs once cancelled)
        self._sender.join(STOPPED_SECONDS if self._sender.stopped else None)
        self._ahead.clear()
