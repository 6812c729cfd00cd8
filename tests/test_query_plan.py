"""One aggregate query per table per run, whatever the window; dates are parameters, never SQL text."""

from __future__ import annotations

import duckdb
import pytest

from feature_store_health.backends.duckdb_backend import transpile_to_duckdb
from feature_store_health.config import load_config
from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.plan import table_query
from conftest import CACHE, CACHE_DIMENSIONS, COMPOSITE, COMPOSITE_DIMENSIONS


class CountingConnection:
    """Wraps a real DuckDB connection and counts the statements run through it."""

    def __init__(self, connection, log):
        self._connection, self._log = connection, log

    def execute(self, sql, *args, **kwargs):
        self._log.append(sql)
        return self._connection.execute(sql, *args, **kwargs)

    def cursor(self):   # each query's own cursor (run_ahead.py sends them from threads)
        return CountingConnection(self._connection.cursor(), self._log)

    def __getattr__(self, name):
        return getattr(self._connection, name)


@pytest.fixture
def statements(monkeypatch):
    log: list[str] = []
    real_connect = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: CountingConnection(real_connect(*a, **k), log))
    return log


@pytest.mark.parametrize("days", [1, 7, 30])
def test_one_statement_per_run_for_any_window(warehouse, run_suite, statements, days):
    """One aggregate query per monitored table for every metric of every date (the weekly report's
    and the column profile's included), one for source_consistency whatever the window, and one
    metadata lookup (the live columns) per table: counted at the DuckDB connection."""
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--days={days}")
    assert len(run.results["checks"]) == (len(CACHE_DIMENSIONS) + len(COMPOSITE_DIMENSIONS)) * days
    assert sorted((query["table"], query["purpose"]) for query in run.results["queries"]) == [
        (COMPOSITE, "metrics"), (CACHE, "metrics"), (CACHE, "source_consistency")]
    lookups = [statement for statement in statements if "information_schema.columns" in statement]
    data = [statement for statement in statements if statement not in lookups]
    assert len(data) == 3, data
    assert sum("player_game_summary" in statement for statement in data) == 1  # the source query
    assert len(lookups) == 2 and sorted(lookup["table"] for lookup in run.results["metadata_lookups"]) == [COMPOSITE, CACHE]
    if days > 1:
        assert "Most common data_quality_issues:" in run.stdout
    assert all("2026" not in statement for statement in statements)  # the dates travel as parameters


def test_query_holds_every_metric_once_and_no_literal_dates():
    config = load_config()
    table = config.tables[0]
    metrics = [metric for dimension in DIMENSIONS.values() for metric in dimension.metrics(table, config)]
    query = table_query(table, config)
    names = [metric.name for metric in query.metrics]
    assert len(names) == len(set(names))
    assert names.count("row_count") == 1 and metrics.count(query.metrics[0]) > 1  # shared, not repeated
    assert "@start_date" in query.sql and "@end_date" in query.sql
    assert "cache_date BETWEEN @start_date AND @end_date" in query.sql  # partition filter
    for feature in table.critical_features:
        assert f"COUNTIF({feature} IS NULL) AS null_count__{feature}" in query.sql
    # the table, its duplicated keys, the schedule (the window's games, and its last game whatever
    # the window: its date column only), the predictions, and (issue 18) the table again for the
    # per-player moves (continuity, with its lookback) and the per-team values: one statement
    assert query.sql.count("FROM `") == 7
    assert query.sql.count("FROM `nba_precompute.player_daily_cache`") == 4
    assert "FROM (SELECT game_date AS game_date FROM `nba_reference.nba_schedule`)" in query.sql
    translated = transpile_to_duckdb(query.sql)
    assert "$start_date" in translated and "COUNT_IF" in translated
