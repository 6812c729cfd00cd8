"""The run's queries are sent ahead of its checks, all at once (run_ahead.py, issue 20): each from
a thread of its own as soon as pytest has collected, read by the checks as before. The verdicts,
the queries and what they cost read exactly as when each check sent its own; a query no check read
(the run stopped early) is still recorded; a query that fails in its thread is NOT_EVALUATED."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest

from conftest import CACHE, COMPOSITE
from feature_store_health.backends.base import BackendError
from feature_store_health.backends.duckdb_backend import DuckDBBackend
from feature_store_health.run import HealthRun
from feature_store_health.run_ahead import INTERRUPTED, MAX_AT_ONCE, NOT_READ, STOPPED_SECONDS, FetchAhead, Sender

DATE = "2026-02-05"


@pytest.fixture
def sent(monkeypatch):
    """Every warehouse query as the DuckDB backend ran it: (thread name, table, start, end)."""
    log: list[tuple[str, str, float, float]] = []
    real = DuckDBBackend.run_query

    def timed(self, table, sql, parameters):
        started = time.perf_counter()
        try:
            return real(self, table, sql, parameters)
        finally:
            log.append((threading.current_thread().name, table, started, time.perf_counter()))

    monkeypatch.setattr(DuckDBBackend, "run_query", timed)
    return log


@pytest.fixture
def first_verdict(monkeypatch):
    """When the run's first verdict was ready (perf_counter)."""
    times: list[float] = []
    real = HealthRun.judge

    def judge(self, spec):
        verdict = real(self, spec)
        times.append(time.perf_counter())
        return verdict

    monkeypatch.setattr(HealthRun, "judge", judge)
    return times


def _judged(run) -> list[tuple]:
    return [(check["table"], check["date"], check["dimension"], check["severity"], check["value"], check["message"])
            for check in run.results["checks"]]


def _queries(run) -> list[tuple]:
    return [(query["table"], query["purpose"], query["sql_hash"], query["rows"], query["parameters"])
            for query in run.results["queries"]]


def test_every_query_is_sent_before_the_first_check_and_read_as_before(warehouse, run_suite, sent, first_verdict,
                                                                       monkeypatch):
    sending: list[float] = []
    real_send = FetchAhead._send

    def send(self, *args):
        sending.append(time.perf_counter())
        return real_send(self, *args)

    monkeypatch.setattr(FetchAhead, "_send", send)
    run = run_suite(f"--database={warehouse.path}", f"--date={DATE}", "--days=3")
    assert run.ret == 0, run.stdout
    assert len(sent) == 3 and all(name.startswith("feature-store-health") for name, *_ in sent), sent
    assert len(sending) == 3 and max(sending) < first_verdict[0]   # all three sent before any verdict
    cache_end = max(end for _name, table, _start, end in sent if table == CACHE)
    composite_start = next(start for _name, table, start, _end in sent if table == COMPOSITE)
    assert composite_start < cache_end   # side by side, not one after the other

    sent.clear()
    monkeypatch.setattr(FetchAhead, "fetch_ahead", lambda self: None)   # each check sends its own, as before
    alone = run_suite(f"--database={warehouse.path}", f"--date={DATE}", "--days=3")
    assert alone.ret == 0, alone.stdout
    assert len(sent) == 3 and all(name == "MainThread" for name, *_ in sent), sent
    assert _judged(run) == _judged(alone) and len(_judged(run)) == 75
    assert _queries(run) == _queries(alone)   # the same queries, parameters and rows, in the order read
    assert [query["purpose"] for query in run.results["queries"]] == ["metrics", "source_consistency", "metrics"]


def test_a_run_stopped_early_records_the_query_no_check_read(warehouse, run_suite, sent):
    """-x stops at the feature cache's failing null_rates: source_consistency's query, sent ahead, is
    never read, and the results JSON still lists it (its rows, its cost), marked as not read. The
    composite table's, which no check read either, is read by the results JSON's column profile:
    from the answer sent ahead, never a second time."""
    warehouse.affect_rows(dt.date.fromisoformat(DATE), 40, "points_avg_last_10 = NULL")
    run = run_suite(f"--database={warehouse.path}", f"--date={DATE}", "-x")
    assert run.ret == 1, run.stdout
    assert run.results["status"] == "INCOMPLETE"
    assert {check["table"] for check in run.results["checks"]} == {CACHE}
    assert run.verdict("null_rates", DATE)["severity"] == "CRITICAL"
    purposes = [(query["table"], query["purpose"]) for query in run.results["queries"]]
    assert purposes == [(CACHE, "metrics"), (CACHE, f"source_consistency ({NOT_READ})"), (COMPOSITE, "metrics")]
    assert len(sent) == 3, sent   # each query once
    assert run.results["profile"][COMPOSITE]["columns"][DATE]["fatigue_score"]["nulls"] == 0
    whole = run_suite(f"--database={warehouse.path}", f"--date={DATE}", "--no-history")
    read = next(query for query in whole.results["queries"] if query["purpose"] == "source_consistency")
    unread = run.results["queries"][1]
    assert (unread["sql_hash"], unread["rows"], unread["parameters"]) == (read["sql_hash"], read["rows"],
                                                                          read["parameters"])


def test_a_query_that_fails_in_its_thread_is_not_evaluated(warehouse, run_suite, sent):
    warehouse.execute("DROP TABLE nba_analytics.player_game_summary")
    run = run_suite(f"--database={warehouse.path}", f"--date={DATE}")
    verdict = run.verdict("source_consistency", DATE)
    assert verdict["severity"] == "NOT_EVALUATED"
    assert "player_game_summary" in verdict["message"], verdict["message"]
    # all three sent ahead, the failing one too: the error came from its thread, not a query of the check's
    assert len(sent) == 3 and all(name.startswith("feature-store-health") for name, *_ in sent), sent
    assert [query["purpose"] for query in run.results["queries"]] == ["metrics", "metrics"]   # a failed one costs no entry
    assert run.ret == 1
    others = [check for check in run.checks(None) if check["dimension"] != "source_consistency"]
    assert len(others) == 24 and all(check["severity"] == "OK" for check in others)


def test_interrupt_stops_a_query_running_in_another_thread(warehouse):
    """A run interrupted while its queries run ahead stops them (settle_ahead), instead of waiting
    for each to end: the query raises BackendError in its own thread."""
    slow_sql = "SELECT COUNT(*) FROM range(4000000000) a, range(10) b WHERE a.range * b.range = -1"

    class AsWritten:   # the DuckDB text itself, not a translation of BigQuery's
        def get(self, key, default):
            return slow_sql

        def set(self, key, value):
            raise AssertionError("nothing to translate")

    backend = DuckDBBackend(warehouse.path, AsWritten())
    outcome: list[BaseException | None] = []

    def slow() -> None:
        try:
            backend.run_query(CACHE, "SELECT 1", {})
            outcome.append(None)
        except BackendError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=slow)
    started = time.perf_counter()
    worker.start()
    while not backend._running and worker.is_alive():
        time.sleep(0.01)
    time.sleep(0.2)
    backend.interrupt()
    worker.join(30)
    assert not worker.is_alive()
    assert time.perf_counter() - started < 20
    assert isinstance(outcome[0], BackendError) and "nterrupt" in str(outcome[0]), outcome
    backend.close()


def test_nothing_is_sent_when_no_check_will_run(warehouse, run_suite, pytester, sent):
    """A collection error stops pytest before its first test, --setup-plan runs no test body:
    neither sends a query ahead (the hostile review found both sending all three). What the results
    JSON's column profile reads it sends itself, from the main thread, as before."""
    plan = run_suite(f"--database={warehouse.path}", f"--date={DATE}", "--setup-plan")
    assert not [name for name, *_ in sent if name != "MainThread"], sent
    assert plan.results["queries"] == []   # the JSON lists the queries before its profile reads any, as before
    sent.clear()
    pytester.makepyfile(test_broken="import a_module_that_is_not_there")
    broken = run_suite(f"--database={warehouse.path}", f"--date={DATE}")
    assert broken.ret == 2, broken.stdout   # pytest's own: interrupted by the collection error
    assert not [name for name, *_ in sent if name != "MainThread"], sent


class _Stub(FetchAhead):
    """FetchAhead alone, over a real DuckDB backend: what settle_ahead does with queries in flight."""

    def __init__(self, backend) -> None:
        self.backend = self._backend = backend
        self._ahead, self._settled, self._sender = {}, {}, Sender()
        self.queries, self.stop_reason = [], None


def test_an_interrupted_run_waits_for_no_query_and_sends_none_again(warehouse, monkeypatch):
    """Ctrl-C while ten slow queries are sent ahead (eight running, two queued): settle_ahead
    returns at once, the running ones are interrupted, the queued ones are never sent, none is
    listed, and reading any of them afterwards raises the interruption instead of sending it again."""
    slow_sql = "SELECT COUNT(*) FROM range(4000000000) a, range(10) b WHERE a.range * b.range = {}"

    class AsWritten:   # the DuckDB text itself (each query its own), not a translation of BigQuery's
        def get(self, key, default):
            return None

        def set(self, key, value):
            pass

    monkeypatch.setattr("feature_store_health.backends.duckdb_backend.transpile_to_duckdb", lambda sql: sql)
    backend = DuckDBBackend(warehouse.path, AsWritten())
    started: list[str] = []
    real = backend.run_query

    def counted(table, sql, parameters):
        started.append(sql)
        return real(table, sql, parameters)

    backend.run_query = counted
    stub = _Stub(backend)
    table = type("Table", (), {"name": CACHE})()
    for index in range(10):
        stub._send(table, slow_sql.format(-1 - index), "metrics", {})
    deadline = time.monotonic() + 20
    while len(backend._running) < MAX_AT_ONCE and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(backend._running) == MAX_AT_ONCE
    time.sleep(0.2)
    began = time.perf_counter()
    stub.settle_ahead(interrupted=True)
    assert time.perf_counter() - began < 2   # waited for none of them
    assert stub.queries == [] and stub._ahead == {}
    stub._stop_sending()
    assert time.perf_counter() - began < 2 + STOPPED_SECONDS
    assert len(started) == MAX_AT_ONCE   # the two queued were never sent
    for index in range(10):
        with pytest.raises(BackendError, match=INTERRUPTED):
            stub._sent_ahead(CACHE, slow_sql.format(-1 - index), {})
    assert len(started) == MAX_AT_ONCE
    backend.close()
