"""The metric history and the anomalies check: baselines from the first run, kept past the partitions.

A replayed stretch of the demo season (December to after the All-Star break: light and heavy
slates, no-game days) is the healthy reference; shifts that pass every fixed check are injected
on one date and must be named by anomalies, and by nothing else.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys

import duckdb
import pytest
from freezegun import freeze_time

from conftest import CACHE, COMPOSITE, DISTRIBUTION_DIMENSIONS, HEALTH_TESTS, SEASON_STRETCH, Warehouse, table_entry
from feature_store_health.checks.baseline import label

FIRST, LAST = SEASON_STRETCH
DATE = dt.date(2026, 2, 10)       # a 5-game Tuesday, 30 game days of baseline behind it
FIXED = ("coverage", "production_readiness", "null_rates", "quality_tiers", "completeness", "downstream_usage",
         "staleness", "schema", "uniqueness", "value_ranges")


def anomalies_of(run, table: str = CACHE) -> dict[str, dict]:
    return {c["date"]: c for c in run.checks(table) if c["dimension"] == "anomalies"}


def metrics_query(run, table: str = CACHE) -> dict:
    (query,) = [q for q in run.results["queries"] if q["table"] == table and q["purpose"] == "metrics"]
    return query


def history_rows(path) -> list[tuple]:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return connection.execute("SELECT run_id, table_name, check_date, name, kind, value, text "
                                  "FROM metric_history ORDER BY run_id, check_date, name").fetchall()
    finally:
        connection.close()


# -- signal quality -----------------------------------------------------------------------------

def test_a_healthy_replay_raises_no_anomaly(season, run_suite):
    """Every date from mid-December to a week after the All-Star break, judged in one run."""
    run = run_suite(f"--database={season.path}", f"--date={LAST}", "--days=74", "--no-history")
    verdicts = anomalies_of(run)
    assert {c["severity"] for c in verdicts.values()} == {"OK", "SKIPPED"}
    judged = [day for day, c in verdicts.items() if c["severity"] == "OK"]
    assert len(judged) >= 60  # skipped: the no-game days of the break, Christmas Eve; not the season
    # the composite factors too: fatigue rests over the break (a schedule-driven column), quietly
    assert {c["severity"] for c in anomalies_of(run, COMPOSITE).values()} == {"OK", "SKIPPED"}
    assert anomalies_of(run, COMPOSITE)["2026-02-19"]["severity"] == "OK"
    skipped = {c["message"] for c in verdicts.values() if c["severity"] == "SKIPPED"}
    assert skipped == {"no games scheduled: nothing to judge"}
    after_break = verdicts["2026-02-19"]
    assert after_break["severity"] == "OK" and after_break["details"]["baseline_days"] == 30
    assert "2026-02-12" in after_break["details"]["baseline_dates"]  # the last game day before the break
    assert not set(after_break["details"]["baseline_dates"]) & {"2026-02-13", "2026-02-15", "2026-02-18"}


def shift_rows_per_team(warehouse: Warehouse, day: dt.date) -> None:
    """Keep 10 rows of every playing team (12 to 15 before): a quarter fewer, coverage still OK."""
    warehouse.execute(
        "DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND player_lookup IN ("
        "SELECT player_lookup FROM (SELECT player_lookup, ROW_NUMBER() OVER (PARTITION BY team_abbr "
        "ORDER BY player_lookup) AS position FROM nba_precompute.player_daily_cache WHERE cache_date = ?) "
        "WHERE position > 10)", [day, day])


# shift -> (inject, the metric anomalies names, what source_consistency says: the stat features it
# recomputes, and the players it expects)
SHIFTS = {
    "a window bug: minutes_avg_last_10 25 % too high": (
        lambda w: w.execute("UPDATE nba_precompute.player_daily_cache SET minutes_avg_last_10 = "
                            "minutes_avg_last_10 * 1.25 WHERE cache_date = ?", [DATE]),
        "minutes_avg_last_10 mean", ("CRITICAL", "worst minutes_avg_last_10 on 192 rows")),
    "rows per team down a quarter": (lambda w: shift_rows_per_team(w, DATE), "rows per team playing",
                                     ("ERROR", "expected players have no row")),
    "a secondary feature NULL on 30 % of rows": (
        lambda w: w.affect_rows(DATE, 60, "team_pace_last_10 = NULL"), "team_pace_last_10 NULL %", ("OK", None)),
    "the pipeline landing 5 hours late": (
        lambda w: w.execute("UPDATE nba_precompute.player_daily_cache SET processed_at = processed_at + "
                            "INTERVAL 5 HOUR WHERE cache_date = ?", [DATE]),
        "landing time", ("OK", None)),
    "a feature collapsed to one value": (
        lambda w: w.execute("UPDATE nba_precompute.player_daily_cache SET points_avg_last_10 = 13.5 "
                            "WHERE cache_date = ? AND points_avg_last_10 IS NOT NULL", [DATE]),
        "points_avg_last_10 stddev", ("CRITICAL", "worst points_avg_last_10 on")),
}


# shift -> what (drift, continuity) say of it: a distribution moved, players jumped from their
# previous row, a team column differing within a team (the NULLs fall on some players of a team)
DISTRIBUTION_SEES = {
    "a window bug: minutes_avg_last_10 25 % too high": (
        ("ERROR", "1 of 18 columns off their usual distribution: minutes_avg_last_10: rows > 38.52"),
        ("CRITICAL", "minutes_avg_last_10: 163 of 187 players (87.2 %) moved more than 1.495")),
    "rows per team down a quarter": (("OK", "18 columns within their usual distribution (30 game days)"),
                                     ("OK", "137 of 140 players compared with their previous row")),
    "a secondary feature NULL on 30 % of rows": (
        ("OK", "18 columns within their usual distribution (30 game days)"),
        ("CRITICAL", "team_pace_last_10 differs between players of one team on 14 of 14 teams")),
    "the pipeline landing 5 hours late": (("OK", "18 columns within their usual distribution (30 game days)"),
                                          ("OK", "187 of 192 players compared with their previous row")),
    "a feature collapsed to one value": (
        ("CRITICAL", "1 of 18 columns off their usual distribution: points_avg_last_10: rows 12.23–14.47"),
        ("CRITICAL", "points_avg_last_10: 135 of 187 players (72.2 %) moved more than 1.9")),
}


@pytest.mark.parametrize("shift", list(SHIFTS))
def test_a_shift_every_fixed_check_passes_is_caught_on_its_day(season, run_suite, shift):
    inject, metric, (source_severity, source_says) = SHIFTS[shift]
    rows = season.scalar("SELECT count(*) FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [DATE])
    assert rows == 192
    inject(season)
    run = run_suite(f"--database={season.path}", f"--date={DATE}", "--no-history")
    fixed = {c["dimension"]: c["severity"] for c in run.checks()
             if c["dimension"] not in ("anomalies", "source_consistency", "arrival", *DISTRIBUTION_DIMENSIONS)}
    assert fixed == dict.fromkeys(FIXED, "OK")  # the table looks full, ready, complete and fresh
    # drift and continuity may legitimately see the shift: each as it should, exactly
    for dimension, (severity, says) in zip(DISTRIBUTION_DIMENSIONS, DISTRIBUTION_SEES[shift]):
        verdict = run.verdict(dimension)
        assert verdict["severity"] == severity and says in verdict["message"], (dimension, verdict["message"])
    # arrival judges the landing against ready_by (06:00): only the late pipeline is late for it
    arrival = run.verdict("arrival")
    assert arrival["severity"] == ("ERROR" if metric == "landing time" else "OK"), arrival["message"]
    source = run.verdict("source_consistency")
    assert source["severity"] == source_severity and (source_says is None or source_says in source["message"])
    assert {c["severity"] for c in run.checks(COMPOSITE)} == {"OK"}  # the other table is not touched
    verdict = run.verdict("anomalies")
    assert verdict["severity"] in ("WARNING", "ERROR", "CRITICAL")
    flagged = [label(d["metric"]) for d in verdict["details"]["drifts"] if d["flagged"]]
    assert metric in flagged and verdict["message"].split(": ", 1)[0].endswith("of 183 metrics off their baseline (30 game days)")
    assert f"{metric} " in verdict["message"]
    assert ", expected " in verdict["message"]  # the value and the range it should have been in
    assert run.ret == (0 if verdict["severity"] == "WARNING" and source_severity == "OK" else 1)


def test_the_shifts_stay_quiet_the_day_before(season, run_suite):
    """The same injections leave the date before alone: the check judges each date on its own."""
    for inject, _, _ in SHIFTS.values():
        inject(season)
    run = run_suite(f"--database={season.path}", f"--date={DATE}", "--days=2", "--no-history")
    verdicts = anomalies_of(run)
    assert verdicts[str(DATE - dt.timedelta(days=1))]["severity"] == "OK"
    flagged = {label(d["metric"]) for d in verdicts[str(DATE)]["details"]["drifts"] if d["flagged"]}
    assert {metric for _, metric, _ in SHIFTS.values()} <= flagged
    assert verdicts[str(DATE)]["severity"] == "CRITICAL"


# -- the history store --------------------------------------------------------------------------

def test_the_first_run_has_a_baseline_and_the_next_reads_it_from_history(season, run_suite, tmp_path):
    history = tmp_path / "history.duckdb"
    first = run_suite(f"--database={season.path}", f"--date={DATE}", f"--history={history}")
    for table in (CACHE, COMPOSITE):  # each table's one query, widened to the 45 days the history lacked
        assert metrics_query(first, table)["rows"] == 46
        assert first.verdict("anomalies", table=table)["details"]["baseline_days"] == 30
    assert first.results["history"]["read"]["dates"] == 0 and first.results["history"]["write"]["rows"] > 46 * 400
    recorded = {(row[1], row[2]) for row in history_rows(history) if row[1] != "*"}   # "*": the gate
    assert len(recorded) == 2 * 46 and min(day for _, day in recorded) == DATE - dt.timedelta(days=45)
    assert {table for table, _ in recorded} == {CACHE, COMPOSITE}
    assert "History: read 0 table-dates" in first.stdout and f"({history})" in first.stdout

    second = run_suite(f"--database={season.path}", f"--date={DATE}", f"--history={history}")
    assert [metrics_query(second, table)["rows"] for table in (CACHE, COMPOSITE)] == [1, 1]  # baselines from history
    assert second.results["history"]["read"]["dates"] == 2 * 46
    for table in (CACHE, COMPOSITE):
        assert second.verdict("anomalies", table=table) == first.verdict("anomalies", table=table)
    assert len(second.results["queries"]) == 3  # the history read is no warehouse query


def test_three_reruns_of_a_date_leave_its_baseline_unchanged(season, run_suite, tmp_path):
    history = tmp_path / "history.duckdb"
    before = run_suite(f"--database={season.path}", f"--date={DATE}", f"--history={history}").verdict("anomalies")
    previous = DATE - dt.timedelta(days=1)
    for _ in range(3):
        assert run_suite(f"--database={season.path}", f"--date={previous}", f"--history={history}").ret == 0
    after = run_suite(f"--database={season.path}", f"--date={DATE}", f"--history={history}").verdict("anomalies")
    assert after == before
    # four runs recorded the day before (the first as part of its baseline, then three reruns);
    # reading keeps the newest value of each metric, once
    rows = [row for row in history_rows(history) if row[1] == CACHE and row[2] == previous and row[3] == "row_count"]
    assert len(rows) == 4 and len({row[0] for row in rows}) == 4
    from feature_store_health.history.duckdb_store import DuckDBHistory

    read = DuckDBHistory(history).read(["player_daily_cache"], previous, previous, str(season.path))
    assert read[("player_daily_cache", previous)]["row_count"] == season.scalar(
        "SELECT count(*) FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [previous])


def test_another_warehouse_is_not_baselined_on_what_this_one_recorded(season, run_suite, tmp_path):
    """A history read keeps the records of the warehouse being checked: a second warehouse (a demo
    rebuilt by a newer generator, another file) starts its own baseline rather than compare with
    the first one's numbers."""
    history = tmp_path / "history.duckdb"
    first = run_suite(f"--database={season.path}", f"--date={DATE}", f"--history={history}")
    assert first.results["history"]["write"]["rows"] > 46 * 400
    other = tmp_path / "other.duckdb"
    shutil.copyfile(season.path, other)
    Warehouse(other).execute("UPDATE nba_precompute.player_daily_cache SET points_std_last_10 = points_std_last_10 * 1.3")
    second = run_suite(f"--database={other}", f"--date={DATE}", f"--history={history}")
    assert second.results["history"]["read"]["dates"] == 0  # none of the first warehouse's records
    assert metrics_query(second)["rows"] == 46  # so its own baseline days come from its own query
    assert second.verdict("anomalies")["severity"] == "OK"  # its own past, scaled alike: no drift
    again = run_suite(f"--database={season.path}", f"--date={DATE}", f"--history={history}")
    assert again.results["history"]["read"]["dates"] == 2 * 46 and metrics_query(again)["rows"] == 1
    assert again.verdict("anomalies") == first.verdict("anomalies")


def test_two_runs_at_once_are_both_recorded(season, tmp_path):
    history = tmp_path / "history.duckdb"
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_health.py").write_text(HEALTH_TESTS.read_text())
    command = [sys.executable, "-m", "pytest", "-p", "feature_store_health.plugin", "-p", "no:cacheprovider", "-q",
               f"--database={season.path}", f"--history={history}", "--no-archive"]
    runs = [subprocess.Popen([*command, f"--date={day}", f"--results-json={tmp_path / f'{day}.json'}"], cwd=suite,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for day in (DATE, DATE - dt.timedelta(days=1))]
    outputs = [run.communicate(timeout=180)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    rows = history_rows(history)
    run_ids = {json.loads((tmp_path / f"{day}.json").read_text())["history"]["run_id"]
               for day in (DATE, DATE - dt.timedelta(days=1))}
    assert {row[0] for row in rows} == run_ids
    for run_id in run_ids:  # each wrote all it fetched: its date and the 45 days before
        assert len({row[2] for row in rows if row[0] == run_id}) == 46


def test_no_history_neither_reads_nor_writes(season, run_suite, pytester, monkeypatch):
    monkeypatch.delenv("FEATURE_STORE_HEALTH_HISTORY")
    run = run_suite(f"--database={season.path}", f"--date={DATE}", "--no-history")
    assert run.results["history"] == {"enabled": False}
    assert "History: off (--no-history)" in run.stdout
    assert not list(pytester.path.rglob("history.duckdb"))
    assert run.verdict("anomalies")["severity"] == "OK"  # the baseline came from the warehouse


def test_the_default_history_lives_beside_the_archive(season, run_suite, pytester, monkeypatch):
    monkeypatch.delenv("FEATURE_STORE_HEALTH_HISTORY")
    run = run_suite(f"--database={season.path}", f"--date={DATE}", "--no-archive")
    default = pytester.path / "reports" / "history.duckdb"
    assert run.results["history"]["location"] == str(default) and default.is_file()
    assert history_rows(default)


def test_an_unreadable_history_fails_only_the_anomalies_check(season, run_suite, tmp_path):
    history = tmp_path / "history.duckdb"
    history.write_text("not a database")
    run = run_suite(f"--database={season.path}", f"--date={DATE}", f"--history={history}")
    verdict = run.verdict("anomalies")
    assert verdict["severity"] == "NOT_EVALUATED"
    assert verdict["message"].startswith(f"not evaluated: the history could not be read: history {history}: cannot open it")
    assert {c["severity"] for c in run.checks(None) if c["dimension"] != "anomalies"} == {"OK"}
    assert run.verdict("anomalies", table=COMPOSITE)["severity"] == "NOT_EVALUATED"
    assert f"ERROR: history not written: history {history}: cannot open it for writing" in run.stdout
    assert "Traceback" not in run.stdout and run.ret == 1
    assert history.read_text() == "not a database"  # never overwritten


def test_a_database_without_the_history_table_reads_as_empty_and_a_broken_one_is_named(tmp_path):
    """The read runs its query straight away and asks for the table only when the catalog
    refused it: a DuckDB file with no history table yet reads as nothing recorded; a table of
    that name with a missing column is a read error a user can act on."""
    from feature_store_health.history.duckdb_store import DuckDBHistory
    from feature_store_health.history.records import HistoryError

    empty = tmp_path / "empty.duckdb"
    duckdb.connect(str(empty)).close()
    assert DuckDBHistory(empty).read(["player_daily_cache"], dt.date(2026, 1, 1), dt.date(2026, 1, 7), "w") == {}
    broken = tmp_path / "broken.duckdb"
    with duckdb.connect(str(broken)) as connection:
        connection.execute("CREATE TABLE metric_history (run_id VARCHAR, check_date DATE)")
    with pytest.raises(HistoryError, match=rf"^history {re.escape(str(broken))}: cannot read it: Binder Error"):
        DuckDBHistory(broken).read(["player_daily_cache"], dt.date(2026, 1, 1), dt.date(2026, 1, 7), "w")


def test_the_history_is_never_the_warehouse(season, run_suite):
    run = run_suite(f"--database={season.path}", f"--date={DATE}", f"--history={season.path}")
    assert run.verdict("anomalies")["severity"] == "NOT_EVALUATED"
    assert f"history {season.path} is the warehouse, which stays read-only" in run.stdout and run.ret == 1
    tables = season.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'metric_history'")
    assert tables == 0


# -- beyond the partitions ----------------------------------------------------------------------

SETTLING = ('early_season_column = "early_season_flag"\nschedule_driven_columns = ["games_in_last_7_days", '
            '"games_in_last_14_days", "minutes_in_last_7_days", "minutes_in_last_14_days", '
            '"back_to_backs_last_14_days", "fourth_quarter_minutes_last_7"]\n')


@freeze_time("2026-02-26 15:00:00")
def test_expired_partitions_are_reported_and_baselined_from_history(season, run_suite, tmp_path):
    history, last = tmp_path / "history.duckdb", dt.date(2026, 2, 25)
    plain, expiring = tmp_path / "plain.toml", tmp_path / "expiring.toml"
    plain.write_text(table_entry(extra=SETTLING))
    expiring.write_text(table_entry(extra=SETTLING + "partition_expiration_days = 30\n"))
    # recorded while the warehouse still held every date
    first = run_suite(f"--database={season.path}", f"--date={last}", "--days=45", f"--history={history}",
                      f"--health-config={plain}")
    assert first.results["status"] in ("HEALTHY", "DEGRADED")
    had = season.scalar("SELECT count(*) FROM nba_precompute.player_daily_cache WHERE cache_date = '2026-01-20'")
    # then the partitions older than 30 days expire
    cutoff = dt.date(2026, 2, 26) - dt.timedelta(days=30)
    season.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date < ?", [cutoff])
    season.execute("DELETE FROM nba_predictions.player_prop_predictions WHERE game_date < ?", [cutoff])
    run = run_suite(f"--database={season.path}", f"--date={last}", "--days=45", f"--history={history}",
                    f"--health-config={expiring}")
    expired = [str(cutoff - dt.timedelta(days=n)) for n in range(15, 0, -1)]  # 2026-01-12 .. 2026-01-26
    assert run.results["history"]["dates_from_history"] == {"player_daily_cache": expired}
    line = next(line for line in run.stdout.splitlines() if line.startswith("2026-01-20*"))
    assert line.split()[2] == str(had)  # the rows the date had, from the history
    assert "* from the metric history: the warehouse's partition of the date has expired" in run.stdout
    assert run.verdict("coverage", "2026-01-20")["severity"] == "SKIPPED"  # expired, not an outage
    anomalies = run.verdict("anomalies", str(last))
    assert anomalies["severity"] == "OK" and anomalies["details"]["baseline_days"] == 30
    assert min(anomalies["details"]["baseline_dates"]) < str(cutoff)  # reaching into the expired dates
    (query,) = run.results["queries"]  # the config monitors the cache alone
    assert query["rows"] == 45  # not widened into dates the warehouse no longer holds


def test_a_run_without_the_anomalies_check_reads_no_baseline(season, run_suite, tmp_path):
    history = tmp_path / "history.duckdb"
    run = run_suite(f"--database={season.path}", f"--date={DATE}", f"--history={history}", "-m", "staleness")
    assert [(query["table"], query["rows"]) for query in run.results["queries"]] == [(CACHE, 1), (COMPOSITE, 1)]
    # not widened; the history is read for the run's own date alone, where its incidents are recorded
    read = run.results["history"]["read"]
    assert (read["scope"], read["dates"]) == ("the run's dates", 0) and run.results["history"]["write"]["rows"] > 400
    # sorted: history_rows orders by run, date and name, which ties between the two tables
    assert sorted((row[1], row[2]) for row in history_rows(history) if row[3] == "row_count") == [
        (COMPOSITE, DATE), (CACHE, DATE)]  # its date only
    again = run_suite(f"--database={season.path}", f"--date={DATE}", f"--history={history}", "-m", "staleness")
    assert (again.results["history"]["read"]["scope"], again.results["history"]["read"]["dates"]) == ("the run's dates", 2)  # DATE of each table


def test_the_html_report_has_a_drift_table_flagged_first(season, run_suite, tmp_path):
    SHIFTS["a window bug: minutes_avg_last_10 25 % too high"][0](season)
    reports = tmp_path / "reports"
    run = run_suite(f"--database={season.path}", f"--date={DATE}", "--no-history", f"--reports-dir={reports}")
    drifts = run.verdict("anomalies")["details"]["drifts"]
    flagged = [d for d in drifts if d["flagged"]]
    assert [d["metric"] for d in flagged] == ["mean:minutes_avg_last_10", "median:minutes_avg_last_10"]
    page = next(reports.glob("*/*/report.html")).read_text()
    start = page.index(f"Drift against the baseline · player_daily_cache · {DATE} (2 of 183 metrics flagged, "
                       "30 game days)")
    rows = re.findall(r"<tr>(.*?)</tr>", page[start:page.index("</table>", start)])
    cells = [re.findall(r"<td>(.*?)</td>", row) for row in rows[1:]]
    assert len(cells) == 20  # the flagged and the closest to their edge; the other 163 folded away
    mean = flagged[0]
    assert cells[0][:5] == ["minutes_avg_last_10 mean", f"{mean['value']:.1f}", f"{mean['baseline_median']:.1f}",
                            f"{mean['expected_low']:.1f}–{mean['expected_high']:.1f}", f"{abs(mean['score']):.1f}"]
    assert [row[5] for row in cells[:3]] == ['<b style="color:#cf222e">flagged</b>'] * 2 + [""]
    assert "163 more metrics, all within their range" in page

