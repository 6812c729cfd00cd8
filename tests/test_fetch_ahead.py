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
from feature_store_health.run_ahead import NOT_READ, FetchAhead

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
    run = run_suite(f"--database={warehouse.path}", f"--date={DATE}", "--days=3")
    assert run.ret == 0, run.stdout
    assert len(sent) == 3 and all(name.startswith("feature-store-health") for name, *_ in sent), sent
    assert max(start for *_, start, _end in sent) < first_verdict[0]   # all three under way before any verdict
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
    assert any(name.startswith("feature-store-health") for name, *_ in sent)
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
