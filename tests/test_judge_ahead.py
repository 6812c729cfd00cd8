"""Checks judged while a check waits for its query (run_judge_ahead.py, issue 20): the table whose
query ended first is judged while the feature cache's first check still waits for its own. What
the run reports, lists and records is the same as when every check is judged in its turn; what
pytest never reaches is neither reported nor recorded."""

from __future__ import annotations

import json
import threading
import time

import duckdb
import pytest

from conftest import CACHE, COMPOSITE, SuiteRun
from feature_store_health.backends.duckdb_backend import DuckDBBackend
from feature_store_health.history.records import VERDICT_PREFIX
from feature_store_health.run import HealthRun
from feature_store_health.run_ahead import NOT_READ, FetchAhead
from feature_store_health.run_judge_ahead import JudgeAhead

DATE = "2026-02-05"
HELD_SECONDS = 1.5


@pytest.fixture
def held_cache(monkeypatch):
    """The feature cache's queries held back in their threads: the composite table's ends first.
    Returns when each table's queries ended and when each check of a table was judged."""
    ended: dict[str, float] = {}
    judged: list[tuple[str, float]] = []
    real = DuckDBBackend.run_query

    def run_query(self, table, sql, parameters):
        if table == CACHE and threading.current_thread().name != "MainThread":
            time.sleep(HELD_SECONDS)
        try:
            return real(self, table, sql, parameters)
        finally:
            ended[table] = max(ended.get(table, 0.0), time.perf_counter())

    real_judge = HealthRun._judge

    def judge(self, spec, baseline_only=False):
        verdict = real_judge(self, spec, baseline_only)
        judged.append((spec.table, time.perf_counter()))
        return verdict

    monkeypatch.setattr(DuckDBBackend, "run_query", run_query)
    monkeypatch.setattr(HealthRun, "_judge", judge)
    return ended, judged


def _checks(run) -> list[tuple]:
    return [(check["table"], check["date"], check["dimension"], check["severity"], check["value"], check["message"],
             check.get("details")) for check in run.results["checks"]]


def _queries(run) -> list[tuple]:
    return [(query["table"], query["purpose"], query["sql_hash"], query["rows"], query["parameters"])
            for query in run.results["queries"]]


def _recorded(path) -> list[tuple]:
    """The history's rows, without what names the run (its id, its start)."""
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute("SELECT table_name, check_date, name, kind, value, text FROM metric_history "
                                  "ORDER BY ALL").fetchall()
    return [row for row in rows if row[2] != "gate"]   # the gate's record names its run


def test_a_table_whose_query_ended_is_judged_while_another_waits(warehouse, run_suite, held_cache, monkeypatch,
                                                                 tmp_path):
    ended, judged = held_cache
    run = run_suite(f"--database={warehouse.path}", f"--date={DATE}", "--days=3",
                    f"--history={tmp_path / 'ahead.duckdb'}")
    assert run.ret == 0, run.stdout
    cache_ended = ended[CACHE]
    ahead = [at for table, at in judged if table == COMPOSITE and at < cache_ended]
    # every composite check of the 3 dates (10 each) judged before the cache's queries ended, and
    # the days before the window its anomalies and drift judged for their baselines (a fresh history)
    assert len(ahead) >= 30, (len(ahead), len(judged))
    assert not [at for table, at in judged if table == COMPOSITE and at >= cache_ended]
    assert [check["table"] for check in run.results["checks"]] == [CACHE] * 45 + [COMPOSITE] * 30   # pytest's order

    ended.clear()
    judged.clear()
    monkeypatch.setattr(JudgeAhead, "judge_while_waiting", FetchAhead.judge_while_waiting)   # each in its turn
    in_turn = run_suite(f"--database={warehouse.path}", f"--date={DATE}", "--days=3",
                        f"--history={tmp_path / 'in-turn.duckdb'}")
    assert in_turn.ret == 0, in_turn.stdout
    assert not [at for table, at in judged if table == COMPOSITE and at < ended[CACHE]]
    assert _checks(run) == _checks(in_turn) and len(_checks(run)) == 75
    assert _queries(run) == _queries(in_turn)   # the same queries, read in the same order
    assert [query["purpose"] for query in run.results["queries"]] == ["metrics", "source_consistency", "metrics"]
    recorded = _recorded(tmp_path / "ahead.duckdb")
    assert recorded == _recorded(tmp_path / "in-turn.duckdb")
    assert len([row for row in recorded if row[0] == COMPOSITE and row[2].startswith(VERDICT_PREFIX)]) > 30


def test_checks_judged_ahead_that_pytest_never_reaches_are_neither_reported_nor_recorded(
        warehouse, run_suite, pytester, held_cache, monkeypatch, tmp_path):
    """Ctrl-C at the cache's source_consistency check, after the composite table's checks were
    judged ahead: none of them is reported or recorded (nor the days judged for their baselines);
    their query is listed as not read, as one no check read."""
    ended, judged = held_cache
    real = JudgeAhead.judge_while_waiting
    waits: list[str] = []

    def interrupted(self, table_name, future):
        real(self, table_name, future)
        waits.append(table_name)
        if len(waits) == 2:   # the cache's second query: its source_consistency
            raise KeyboardInterrupt

    monkeypatch.setattr(JudgeAhead, "judge_while_waiting", interrupted)
    history, results = tmp_path / "history.duckdb", tmp_path / "results.json"
    outcome = pytester.runpytest("-p", "feature_store_health.plugin", "-p", "no:cacheprovider", f"--results-json={results}",
                                 f"--database={warehouse.path}", f"--date={DATE}", f"--history={history}",
                                 no_reraise_ctrlc=True)   # the run's Ctrl-C, not this test's
    assert outcome.ret == pytest.ExitCode.INTERRUPTED, outcome.stdout.str()
    run = SuiteRun(int(outcome.ret), outcome.stdout.str(), outcome.stderr.str(), json.loads(results.read_text()))
    assert len([table for table, at in judged if table == COMPOSITE]) >= 10   # judged ahead, all of them
    assert run.results["status"] == "INCOMPLETE"
    reported = {(check["table"], check["dimension"]) for check in run.results["checks"]}
    assert reported and {table for table, _ in reported} == {CACHE}
    assert (CACHE, "source_consistency") not in reported
    purposes = [(query["table"], query["purpose"]) for query in run.results["queries"]]
    assert purposes == [(CACHE, "metrics"), (COMPOSITE, f"metrics ({NOT_READ})")]
    recorded = _recorded(history)
    assert [row for row in recorded if row[0] == CACHE and row[2] == VERDICT_PREFIX + "null_rates"]
    assert not [row for row in recorded if row[0] == COMPOSITE and row[2].startswith(VERDICT_PREFIX)]


def test_no_check_is_judged_ahead_where_pytest_may_stop_at_a_failure(warehouse, run_suite, held_cache):
    """-x stops at the first failure: a table's checks judged ahead would be judged and never shown."""
    ended, judged = held_cache
    run = run_suite(f"--database={warehouse.path}", f"--date={DATE}", "-x")
    assert run.ret == 0, run.stdout
    assert [table for table, at in judged if table == COMPOSITE]
    assert not [at for table, at in judged if table == COMPOSITE and at < ended[CACHE]]


SKIP_ONE = '''
import pytest

def pytest_runtest_setup(item):
    if item.name == "test_arrival[player_composite_factors-2026-02-03]":   # the table's first: it read the query
        pytest.skip("held by the test's conftest")
'''


def test_a_check_judged_ahead_that_pytest_skips_leaves_its_table_judged_in_turn(
        warehouse, run_suite, pytester, held_cache, monkeypatch):
    """Skipped in its setup after it was judged ahead: it is SKIPPED, and the later checks of its
    table read as when each check is judged in its turn (they saw the skip, not the verdict)."""
    pytester.makeconftest(SKIP_ONE)
    ended, judged = held_cache
    run = run_suite(f"--database={warehouse.path}", f"--date={DATE}", "--days=3", "--no-history")
    assert run.ret == 0, run.stdout
    assert [at for table, at in judged if table == COMPOSITE and at < ended[CACHE]]
    skipped = run.verdict("arrival", "2026-02-03", table=COMPOSITE)
    assert skipped["severity"] == "SKIPPED" and "held by the test's conftest" in skipped["message"]
    monkeypatch.setattr(JudgeAhead, "judge_while_waiting", FetchAhead.judge_while_waiting)
    in_turn = run_suite(f"--database={warehouse.path}", f"--date={DATE}", "--days=3", "--no-history")
    assert _checks(run) == _checks(in_turn) and _queries(run) == _queries(in_turn)
