"""drift and continuity on the BigQuery emulator: the same one query per table, the same verdicts
as DuckDB, the learned bin edges within one bin of DuckDB's (APPROX_QUANTILES against exact)."""

from __future__ import annotations

import datetime as dt

import pytest

FIRST, LAST = dt.date(2026, 1, 21), dt.date(2026, 2, 5)
SELECTION = ["-m", "drift or continuity", "--date=2026-02-05", "--no-history"]


@pytest.fixture(scope="module")
def month_file(tmp_path_factory, demo_generator):
    """Two weeks of the demo season: 7 game days and more of baseline before the judged dates."""
    path = tmp_path_factory.mktemp("month") / "month.duckdb"
    demo_generator.build_warehouse(path, FIRST, LAST)
    return path


def _within_one_bin(edges_bq: list[float], edges_duckdb: list[float]) -> bool:
    """Each emulator edge lies between the DuckDB edges either side of the same quantile."""
    for index, value in enumerate(edges_bq):
        low = edges_duckdb[max(index - 1, 0)]
        high = edges_duckdb[min(index + 1, len(edges_duckdb) - 1)]
        if not (low - 1e-9 <= value <= high + 1e-9):
            return False
    return True


def test_drift_and_continuity_parity_on_the_emulator(month_file, run_suite, bigquery_emulator):
    # the one query reads every table but the box scores (source_consistency is not selected)
    bigquery_emulator.load("distributions", month_file,
                           skip=("nba_analytics.player_game_summary",))
    duckdb_run = run_suite(f"--database={month_file}", *SELECTION)
    bigquery_run = run_suite("--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}",
                             "--project=distributions", *SELECTION)
    messages = lambda run: {(c["table"], c["dimension"]): (c["severity"], c["message"]) for c in run.results["checks"]}
    assert messages(bigquery_run).keys() == messages(duckdb_run).keys()
    assert duckdb_run.ret == bigquery_run.ret, (messages(bigquery_run), messages(duckdb_run))
    # one aggregate query per table, nothing else (no samples: the selection passes or not alike)
    for run in (duckdb_run, bigquery_run):
        purposes = [(query["table"], query["purpose"]) for query in run.results["queries"]]
        assert purposes[:2] == [("player_daily_cache", "metrics"), ("player_composite_factors", "metrics")], purposes
        assert [purpose for purpose in purposes if purpose[1] == "metrics"] == purposes[:2]
    checks = {(c["table"], c["date"], c["dimension"]): c for c in duckdb_run.results["checks"]}
    others = {(c["table"], c["date"], c["dimension"]): c for c in bigquery_run.results["checks"]}
    assert others.keys() == checks.keys() and len(checks) == 3   # drift on both tables, continuity on one
    for key, check in checks.items():
        other = others[key]
        assert other["severity"] == check["severity"], (key, other["message"], check["message"])
        if key[2] == "drift":
            columns = {entry["column"]: entry for entry in check["details"]["columns"]}
            found = {entry["column"]: entry for entry in other["details"]["columns"]}
            assert found.keys() == columns.keys() and len(columns) >= 10
            for column, entry in columns.items():
                # the same rows in each bin's neighbourhood: scores within 1.5, both under the warning
                assert abs(found[column]["score"] - entry["score"]) <= 1.5, (key, column)
                assert sum(found[column]["shares"]) == pytest.approx(100.0, abs=0.1)
        else:
            expected = {(e["column"], e["rule"]): e for e in check["details"]["checks"]}
            found = {(e["column"], e["rule"]): e for e in other["details"]["checks"]}
            assert found.keys() == expected.keys() and len(found) >= 9
            for key, entry in found.items():
                # the same players paired (or teams grouped): the pairing is exact on both backends
                assert (entry.get("players"), entry.get("teams")) == (expected[key].get("players"),
                                                                     expected[key].get("teams")), key
                if entry["rule"] == "jump":   # the usual move: the emulator's 99th percentile reads one late
                    assert abs(entry["beyond"] - expected[key]["beyond"]) <= max(2, 0.02 * entry["players"]), key
                else:                          # exact rules count exactly
                    assert entry["beyond"] == expected[key]["beyond"], key
    # the learned edges the two backends computed: within one bin of each other
    learned = lambda run: {(t, c): v for t, record in run.results.get("learned", {}).items()
                           for c, v in record["edges"].items()}
    ours, theirs = learned(duckdb_run), learned(bigquery_run)
    assert ours.keys() == theirs.keys() and ours
    for key, edges in ours.items():
        if None in edges or None in theirs[key]:
            assert edges == theirs[key]
            continue
        assert _within_one_bin(theirs[key], edges), (key, theirs[key], edges)
