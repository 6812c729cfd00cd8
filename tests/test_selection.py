"""The work follows the selection (issue 20): -m and -k shrink each table's one query to what the
selected checks need, the column profile joins it only when anomalies is judged or an output shows
it, and a narrowed run records its verdicts, never a partial day of metrics a later baseline would
trust. Every statement is counted at the DuckDB connection."""

from __future__ import annotations

import duckdb
import pytest

from conftest import CACHE, CACHE_DIMENSIONS, COMPOSITE

# the column profile's statistics, as the query names them (checks/profile.py)
PROFILE_NAMES = ("mean__", "median__", "stddev__", "min__", "max__", "distinct__")
LOOKUP = "information_schema.columns"
HISTORY = "metric_history"   # the history file's table (history/duckdb_store.py)


@pytest.fixture
def statements(monkeypatch):
    """The SQL of every statement the run sends to DuckDB, the warehouse's and the history's."""
    log: list[str] = []
    real_connect = duckdb.connect

    class Counting:
        def __init__(self, connection):
            self._connection = connection

        def execute(self, sql, *args, **kwargs):
            log.append(sql)
            return self._connection.execute(sql, *args, **kwargs)

        def cursor(self):   # each query's own cursor (run_ahead.py sends them from threads)
            return Counting(self._connection.cursor())

        def __getattr__(self, name):
            return getattr(self._connection, name)

    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: Counting(real_connect(*a, **k)))
    return log


def data_queries(statements: list[str]) -> list[str]:
    """The warehouse's queries: not the live-column lookups, not the history's statements."""
    return [sql for sql in statements if LOOKUP not in sql and HISTORY not in sql
            and ("nba_precompute" in sql or "nba_analytics" in sql)]


def test_staleness_alone_queries_no_profile_column(warehouse, run_suite, statements):
    """``-m staleness`` with no output that shows the profile (no --results-json, no archive, no
    --html): one query per table, naming no profile column, no other dimension's counts, no drift
    bins, no continuity pairs, no fingerprints; no source_consistency query."""
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-m", "staleness", results=False)
    assert run.ret == 0, run.stdout
    assert "Summary: 2/2 checks passed" in run.stdout
    queries = data_queries(statements)
    assert len(queries) == 2, queries
    assert not any("player_game_summary" in sql for sql in queries)          # source_consistency's own query
    for sql in queries:
        assert not [name for name in PROFILE_NAMES if name in sql], sql
        for other in ("null_count__", "production_ready_count", "tier_", "dup_", "learned", "fingerprints",
                      "pairs", "active_predictions", "out_of_range"):
            assert other not in sql, (other, sql)
        assert "MAX(processed_at) AS max_processed_at" in sql and "COUNT(*) AS row_count" in sql


def test_the_profile_joins_the_query_when_an_output_shows_it(warehouse, run_suite, statements):
    """The same selection with the results JSON: the profile is computed (the JSON shows it), and
    still no other dimension's metrics."""
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-m", "staleness")
    assert run.ret == 0, run.stdout
    queries = data_queries(statements)
    assert len(queries) == 2
    assert all("mean__" in sql and "median__" in sql for sql in queries)
    # and the trend's columns (the JSON's trend), never drift's bins, duplicates or value ranges
    cache_query = next(sql for sql in queries if "player_daily_cache" in sql)   # sent at once: any order
    assert "production_ready_count" in cache_query and "tier_null_count" in cache_query
    assert not any("learned" in sql or "dup_" in sql or "out_of_range" in sql for sql in queries)
    profile = run.results["profile"][CACHE]["columns"]["2026-02-05"]
    assert profile["points_avg_last_10"]["mean"] is not None and profile["points_avg_last_10"]["nulls"] == 0


def test_a_selection_of_one_table_queries_only_that_table(warehouse, run_suite, statements):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-k", COMPOSITE, results=False)
    assert run.ret == 0, run.stdout
    assert "Summary: 10/10 checks passed" in run.stdout
    queries = data_queries(statements)
    assert len(queries) == 1 and "player_composite_factors" in queries[0] and "player_daily_cache" not in queries[0]


def test_a_dry_run_plans_the_selected_queries(warehouse, run_suite):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-m", "staleness", "--dry-run",
                    results=False)
    assert run.ret == 0, run.stdout
    assert "Dry run: 2 planned queries" in run.stdout
    assert "source_consistency" not in run.stdout and "mean__" not in run.stdout


def test_each_dimension_alone_judges_as_the_whole_run(season_file, run_suite):
    """A narrowed query changes what is computed, never a verdict: each dimension selected alone
    gives the very verdicts (severity, value, message) of the whole run, on a date with incidents
    (2026-01-21: drift and continuity's planted subgroup shift). One whole run, then each alone."""
    def verdicts(run):
        return {(check["table"], check["dimension"]): (check["severity"], check["value"], check["message"])
                for check in run.results["checks"]}

    whole = verdicts(run_suite(f"--database={season_file}", "--date=2026-01-21"))
    assert {key: value[0] for key, value in whole.items() if key[1] in ("drift", "continuity")} == {
        (CACHE, "drift"): "ERROR", (CACHE, "continuity"): "CRITICAL", (COMPOSITE, "drift"): "OK"}
    differ = {}
    for dimension in [d for d in CACHE_DIMENSIONS if d not in ("schema", "source_consistency")]:
        alone = verdicts(run_suite(f"--database={season_file}", "--date=2026-01-21", "-m", dimension))
        expected = {key: value for key, value in whole.items() if key[1] == dimension}
        if alone != expected:
            differ[dimension] = (alone, expected)
    assert differ == {}


def recorded_names(history) -> set[str]:
    with duckdb.connect(str(history), read_only=True) as connection:
        return {name for (name,) in connection.execute(f"SELECT DISTINCT name FROM {HISTORY}").fetchall()}


def test_a_narrowed_run_records_what_it_judged_and_baselines_stay_whole(warehouse, run_suite, tmp_path):
    """``-m staleness`` records its verdicts and the few metrics its query computed, on a day
    with no record: a later whole run sees the day lacks the baseline's metrics and reads it from
    the warehouse, and judges exactly as a whole run with no narrowed run before it."""
    history = tmp_path / "history.duckdb"
    narrowed = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-m", "staleness",
                         f"--history={history}", results=False)
    assert narrowed.ret == 0, narrowed.stdout
    names = recorded_names(history)
    assert {"verdict:staleness", "row_count", "max_processed_at"} <= names
    assert not [name for name in names if "__" in name or name.startswith("verdict:") and name != "verdict:staleness"]
    after = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--history={history}")
    fresh = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--history={tmp_path / 'fresh.duckdb'}")

    def verdicts(run):
        return [(c["table"], c["dimension"], c["severity"], c["value"], c["message"]) for c in run.results["checks"]]

    assert verdicts(after) == verdicts(fresh)
    widened = [q for q in after.results["queries"] if q["purpose"] == "metrics" and q["table"] == CACHE]
    assert widened[0]["parameters"]["start_date"] < "2026-02-05"   # the baseline days came from the warehouse


def test_a_narrowed_run_never_records_over_a_day_rerun_since(warehouse, run_suite, tmp_path):
    """A day recorded by a whole run, then rerun in the warehouse (more rows, later processed_at),
    then judged by ``-m staleness``: its narrowed values are not recorded over the older record
    (they would leave the older rows' profile standing as the new rows'); its verdict is, with the
    fingerprint of the rows it judged. The next whole run reads the day again and records it."""
    history = tmp_path / "history.duckdb"
    args = (f"--database={warehouse.path}", "--date=2026-02-05", f"--history={history}")
    assert run_suite(*args).ret == 0
    warehouse.execute("INSERT INTO nba_precompute.player_daily_cache SELECT * REPLACE "
                      "(player_lookup || '_rerun' AS player_lookup, processed_at + INTERVAL 1 HOUR AS processed_at) "
                      "FROM nba_precompute.player_daily_cache WHERE cache_date = DATE '2026-02-05' LIMIT 3")
    rows = warehouse.scalar("SELECT count(*) FROM nba_precompute.player_daily_cache WHERE cache_date = DATE '2026-02-05'")
    run_suite(*args, "-m", "staleness", results=False)
    with duckdb.connect(str(history), read_only=True) as connection:
        counts = connection.execute(
            f"SELECT value FROM {HISTORY} WHERE name = 'row_count' AND table_name = ? AND check_date = DATE '2026-02-05' "
            "ORDER BY run_at", [CACHE]).fetchall()
    assert [value for (value,) in counts] == [rows - 3]   # only the whole run's record
    run_suite(*args)
    with duckdb.connect(str(history), read_only=True) as connection:
        newest = connection.execute(
            f"SELECT value FROM {HISTORY} WHERE name = 'row_count' AND table_name = ? AND check_date = DATE '2026-02-05' "
            "ORDER BY run_at DESC LIMIT 1", [CACHE]).fetchone()[0]
    assert newest == rows


@pytest.mark.parametrize("selected, other", [("continuity", "edges"), ("drift", "jumps")])
def test_a_run_of_drift_or_continuity_alone_learns_for_both(season_file, run_suite, tmp_path, selected, other):
    """The learned values are learned for drift and continuity both, whatever was selected, and
    recorded for later runs: ``-m continuity`` records drift's bin edges too (and ``-m drift``
    continuity's jump limits), the very ones a whole run learns. Were they recorded empty, the
    next whole runs would reuse them for refresh_days and judge drift on its two category columns
    alone (continuity on none)."""
    history = tmp_path / "history.duckdb"
    whole = run_suite(f"--database={season_file}", "--date=2026-02-05", "--no-history")
    alone = run_suite(f"--database={season_file}", "--date=2026-02-05", "-m", selected, f"--history={history}")
    learned, expected = alone.results["learned"][CACHE], whole.results["learned"][CACHE]
    assert learned[other] == expected[other]
    assert learned["id"] == expected["id"] and learned["source"] == "computed"
    after = run_suite(f"--database={season_file}", "--date=2026-02-06", f"--history={history}")
    assert after.results["learned"][CACHE]["id"] == expected["id"]   # reused from the history
    checks = {check["dimension"]: check for check in after.results["checks"] if check["table"] == CACHE}
    assert checks["drift"]["details"]["columns_judged"] == 18
    assert checks["drift"]["details"]["columns_without_baseline"] == []
    assert checks["drift"]["message"].startswith("18 columns within their usual distribution (30 game days)")
    assert checks["continuity"]["message"] == ("106 of 106 players compared with their previous row: 9 columns within "
                                               "their usual move, every rule holds; most moved: points_avg_last_10 0.9 %")


def trend_section(stdout: str) -> list[str]:
    """The console's weekly trend tables (every "Trends · …" block), as printed."""
    lines = stdout.split("\n")
    start = next(index for index, line in enumerate(lines) if line.startswith("Trends · "))
    end = next(index for index in range(start, len(lines)) if lines[index].startswith(("Runbook:", "Summary:")))
    return lines[start:end]


def test_a_narrowed_runs_trend_reads_as_the_whole_runs(warehouse, run_suite):
    """The trend's columns come with a narrowed query when the console shows the trend (--days > 1):
    every number of the weekly tables of ``-m staleness`` equals the whole run's, none reads 0 for
    "not computed" (checks/trend.py trend_metric_names is the list trend_row reads)."""
    args = (f"--database={warehouse.path}", "--date=2026-02-05", "--days=3")
    whole = trend_section(run_suite(*args, results=False).stdout)
    narrowed = trend_section(run_suite(*args, "-m", "staleness", results=False).stdout)
    assert len(whole) > 10 and any(line.startswith("Trends · player_composite_factors") for line in whole)
    assert narrowed == whole
