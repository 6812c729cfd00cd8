"""A day off is known, never assumed (SPEC §3 "Game days"); a date column is a DATE.

The demo season from 2026-02-10 to 2026-03-05 (the All-Star break, 2026-02-13..18, and the
ts_pct_last_10 ×100 incident of 2026-03-03 inside it), altered copy by copy, run end to end.
"""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from conftest import COMPOSITE, ROOT, Warehouse, table_entry

FIRST, LAST = dt.date(2026, 2, 10), dt.date(2026, 3, 5)
INCIDENT = "2026-03-03"   # ts_pct_last_10 written ×100 on 4 % of the rows
SCHEDULE = "nba_reference.nba_schedule"
ROWS = {"player_daily_cache": ("nba_precompute.player_daily_cache", "cache_date"),
        COMPOSITE: ("nba_precompute.player_composite_factors", "game_date")}
JUDGED_AS_EVER = ("production_readiness", "null_rates", "quality_tiers", "completeness", "downstream_usage",
                  "staleness", "schema", "uniqueness")


@pytest.fixture(scope="module")
def stretch_file(tmp_path_factory, demo_generator):
    path = tmp_path_factory.mktemp("game_days") / "stretch.duckdb"
    demo_generator.build_warehouse(path, FIRST, LAST)
    return path


@pytest.fixture
def stretch(tmp_path, stretch_file) -> Warehouse:
    path = tmp_path / "stretch.duckdb"
    shutil.copyfile(stretch_file, path)
    return Warehouse(path)


def delete_rows(warehouse: Warehouse, condition: str) -> None:
    """Delete both monitored tables' rows whose date matches ``condition`` (e.g. "> '2026-03-03'")."""
    for table, column in ROWS.values():
        warehouse.execute(f"DELETE FROM {table} WHERE {column} {condition}")


# -- a schedule that lost a date ---------------------------------------------------------------

def test_rows_on_a_date_the_schedule_calls_empty_are_a_contradiction_and_still_judged(stretch, run_suite):
    stretch.execute(f"DELETE FROM {SCHEDULE} WHERE game_date = ?", [dt.date.fromisoformat(INCIDENT)])
    run = run_suite(f"--database={stretch.path}", f"--date={INCIDENT}")
    for table in ROWS:
        coverage = run.verdict("coverage", table=table)
        assert (coverage["severity"], coverage["message"]) == (
            "ERROR", f"249 records found but {SCHEDULE} has no games on {INCIDENT}: the schedule or the table is wrong")
    # the rows are judged all the same: the incident of the date is caught
    value_ranges = run.verdict("value_ranges")
    assert value_ranges["severity"] == "ERROR"
    assert value_ranges["message"].startswith("ts_pct_last_10: 10 of 249 rows (4.0%) outside 0–1.5")
    assert {dimension: run.verdict(dimension)["severity"] for dimension in JUDGED_AS_EVER} == {
        dimension: "OK" for dimension in JUDGED_AS_EVER}
    assert run.verdict("null_rates")["message"] == "worst points_avg_last_10 0.0% NULL (0/249)"
    assert run.verdict("downstream_usage")["message"] == "916 active predictions (3.68 per feature row)"
    # what needs the schedule's teams says it cannot judge
    source = run.verdict("source_consistency")
    assert (source["severity"], source["message"]) == (
        "NOT_EVALUATED", f"not evaluated: {SCHEDULE} has no games on {INCIDENT}: its season and playing teams are "
                         "unknown, so its 249 rows cannot be recomputed")
    anomalies = run.verdict("anomalies")
    assert anomalies["severity"] == "CRITICAL"
    assert anomalies["message"].startswith("1 of 182 metrics off their baseline (15 game days): ts_pct_last_10 mean "
                                           "2.91, expected 0.491–0.644 (score 137.8)")
    assert anomalies["message"].endswith(f"; rows per team playing not judged: {SCHEDULE} has no games on {INCIDENT}")
    assert run.verdict("value_ranges", table=COMPOSITE)["severity"] == "OK"
    assert run.results["status"] == "CRITICAL" and run.ret == 1
    # still one aggregate query per table
    assert sorted(q["table"] for q in run.results["queries"] if q["purpose"] == "metrics") == [
        COMPOSITE, "player_daily_cache"]


GAP = ("not evaluated: schedule has no games after 2026-03-03: cannot tell whether 2026-03-04 is a game day "
       f"({SCHEDULE} stopped loading? season 10-01 to 06-30)")


@pytest.mark.parametrize("rows", [0, 249], ids=["no-rows", "rows"])
def test_a_schedule_that_stopped_loading_is_not_evaluated_never_no_games(stretch, run_suite, rows):
    stretch.execute(f"DELETE FROM {SCHEDULE} WHERE game_date > '2026-03-03'")
    if not rows:
        delete_rows(stretch, "> '2026-03-03'")
    run = run_suite(f"--database={stretch.path}", "--date=2026-03-04")
    for table in ROWS:
        coverage = run.verdict("coverage", table=table)
        assert (coverage["severity"], coverage["message"]) == ("NOT_EVALUATED", f"{GAP}; {rows} records found")
    others = {c["message"] for c in run.checks(None)
              if c["dimension"] not in ("coverage", "schema", "anomalies", "arrival")}
    # arrival cannot tell either whether rows were due: NOT_EVALUATED, naming the schedule (with rows: landed, OK)
    assert {c["severity"] for c in run.checks(None) if c["dimension"] == "arrival"} == (
        {"OK"} if rows else {"NOT_EVALUATED"})
    if rows:  # the rows are judged; what needs the teams says why it cannot be
        assert run.verdict("null_rates")["severity"] == "OK"
        assert run.verdict("source_consistency")["severity"] == "NOT_EVALUATED"
    else:     # never "no games scheduled"
        assert others == {"no rows for this date: see coverage"}
    assert run.results["status"] == "UNHEALTHY" and run.ret == 1
    assert "no games scheduled" not in run.stdout


def test_an_empty_schedule_is_not_evaluated(stretch, run_suite):
    stretch.execute(f"DELETE FROM {SCHEDULE}")
    delete_rows(stretch, "IS NOT NULL")
    run = run_suite(f"--database={stretch.path}", "--date=2026-03-04")
    assert run.verdict("coverage")["message"] == (
        "not evaluated: schedule has no games at all: cannot tell whether 2026-03-04 is a game day "
        f"({SCHEDULE} stopped loading? season 10-01 to 06-30); 0 records found")
    assert run.ret == 1


# -- days off the schedule knows ---------------------------------------------------------------

@pytest.mark.parametrize("date", ["2026-02-13", "2026-02-15", "2026-02-18"])
def test_the_all_star_break_is_a_day_off(stretch, run_suite, date):
    run = run_suite(f"--database={stretch.path}", f"--date={date}")
    for table in ROWS:
        coverage = run.verdict("coverage", table=table)
        assert (coverage["severity"], coverage["message"]) == ("OK", "no games scheduled (0 records found)")
    assert {c["message"] for c in run.checks(None) if c["dimension"] not in ("coverage", "schema", "arrival")} == {
        "no games scheduled: nothing to judge"}
    assert {c["message"] for c in run.checks(None) if c["dimension"] == "arrival"} == {"no games scheduled: nothing due"}
    assert run.results["status"] == "HEALTHY" and run.ret == 0


def write_season(tmp_path, start: str, end: str):
    path = tmp_path / "season.toml"
    path.write_text(f'[schedule]\nseason_start = "{start}"\nseason_end = "{end}"\n')
    return path


@pytest.mark.parametrize(("date", "season", "severity"), [
    ("2026-07-15", None, "OK"),                     # after the default season end (06-30)
    ("2026-09-30", None, "OK"),                     # the day before the default season start (10-01)
    ("2026-10-01", None, "NOT_EVALUATED"),          # the season started: the coming season is not loaded
    ("2026-03-20", ("10-15", "03-10"), "OK"),      # a season configured to end on 03-10
    ("2026-03-20", ("10-15", "03-31"), "NOT_EVALUATED"),
    ("2026-03-20", ("03-15", "09-30"), "NOT_EVALUATED"),  # a season within one year (the WNBA's)
    ("2026-10-20", ("03-15", "09-30"), "OK"),
], ids=["july", "before-start", "season-start", "configured-end", "before-configured-end", "one-year-season",
        "one-year-off-season"])
def test_the_off_season_is_a_day_off(stretch, run_suite, tmp_path, date, season, severity):
    """Out of the season ([schedule] season_start to season_end) a date after the schedule's last
    game (here 2026-03-05) is the off-season; in it, the schedule stopped loading."""
    config = [f"--health-config={write_season(tmp_path, *season)}"] if season else []
    run = run_suite(f"--database={stretch.path}", f"--date={date}", *config)
    coverage = run.verdict("coverage")
    assert coverage["severity"] == severity
    if severity == "OK":
        assert coverage["message"] == "no games scheduled (0 records found)"
        assert run.results["status"] == "HEALTHY" and run.ret == 0
    else:
        start, end = season or ("10-01", "06-30")
        assert coverage["message"] == (
            f"not evaluated: schedule has no games after 2026-03-05: cannot tell whether {date} is a game day "
            f"({SCHEDULE} stopped loading? season {start} to {end}); 0 records found")
        assert run.ret == 1


@pytest.mark.parametrize(("key", "value", "message"), [
    ("season_end", '"6-30"', "schedule.season_end must be a month-day MM-DD, e.g. \"06-30\", got '6-30'"),
    ("season_start", '"02-30"', "schedule.season_start must be a month-day MM-DD, e.g. \"06-30\", got '02-30'"),
    ("season_end", "630", "schedule.season_end must be a month-day MM-DD, e.g. \"06-30\", got 630"),
    ("season_end", '"10-01"', "schedule.season_start and schedule.season_end must differ"),
])
def test_a_bad_season_is_a_usage_error(run_suite, tmp_path, key, value, message):
    path = tmp_path / "season.toml"
    path.write_text(f"[schedule]\n{key} = {value}\n")
    run = run_suite(f"--health-config={path}", results=False)
    assert run.ret == 4, run.stdout + run.stderr
    assert f"ERROR: config {path}: {message}" in run.stderr
    assert "Traceback" not in run.stdout + run.stderr


# -- the bigquery emulator agrees ----------------------------------------------------------------

def test_game_days_on_the_emulator_match_duckdb(warehouse, run_suite, bigquery_emulator):
    """02-02: rows, no games (a contradiction); 02-04: rows, the schedule stopped after 02-03;
    02-05: neither. The schedule's last game comes from the table's one query on both backends."""
    warehouse.execute(f"DELETE FROM {SCHEDULE} WHERE game_date = '2026-02-02' OR game_date > '2026-02-03'")
    delete_rows(warehouse, "= '2026-02-05'")
    bigquery_emulator.load("game-days", warehouse.path)
    window = ["--date=2026-02-05", "--days=5"]
    runs = [run_suite(f"--database={warehouse.path}", *window),
            run_suite("--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}", "--project=game-days",
                      *window)]
    def gap(date: str, rows: int) -> str:
        return (f"not evaluated: schedule has no games after 2026-02-03: cannot tell whether {date} is a game day "
                f"({SCHEDULE} stopped loading? season 10-01 to 06-30); {rows} records found")

    for run in runs:
        coverage = {c["date"]: (c["severity"], c["message"]) for c in run.checks() if c["dimension"] == "coverage"}
        assert coverage == {
            "2026-02-01": ("OK", "303 records found (22 teams playing, 13.8 per team)"),
            "2026-02-02": ("ERROR", f"125 records found but {SCHEDULE} has no games on 2026-02-02: the schedule or "
                                    "the table is wrong"),
            "2026-02-03": ("OK", "307 records found (22 teams playing, 14.0 per team)"),
            "2026-02-04": ("NOT_EVALUATED", gap("2026-02-04", 218)),
            "2026-02-05": ("NOT_EVALUATED", gap("2026-02-05", 0)),
        }
        assert run.verdict("null_rates", "2026-02-02")["severity"] == "OK"  # judged
        assert run.verdict("source_consistency", "2026-02-02")["severity"] == "NOT_EVALUATED"
        assert [q["purpose"] for q in run.results["queries"]].count("metrics") == 2 and run.ret == 1
    assert [c["severity"] for c in runs[1].results["checks"]] == [c["severity"] for c in runs[0].results["checks"]]


# -- a date column that is no DATE ---------------------------------------------------------------

def timestamp_dates(warehouse: Warehouse, tmp_path):
    """The cache's date column as a TIMESTAMP holding the night's run time (07:00 UTC)."""
    from feature_store_health.warehouse import load_fixture

    altered = tmp_path / "timestamp.duckdb"
    load_fixture(ROOT, "alter_warehouse").alter(warehouse.path, altered, retype=(("cache_date", "TIMESTAMP"),))
    result = Warehouse(altered)
    result.execute("UPDATE nba_precompute.player_daily_cache SET cache_date = cache_date + INTERVAL 7 HOUR")
    return result


REFUSAL = ("ERROR: player_daily_cache: date_column cache_date is TIMESTAMP in the warehouse; the suite needs a DATE "
           "column: point date_column at one, or at a view with DATE(cache_date, 'America/New_York') AS cache_date")


@pytest.mark.parametrize("mode", [[], ["--dry-run"]], ids=["run", "dry-run"])
def test_a_timestamp_date_column_is_refused(warehouse, run_suite, tmp_path, mode):
    altered = timestamp_dates(warehouse, tmp_path)
    config = tmp_path / "health.toml"
    config.write_text(table_entry())  # no contract: nothing says the column should be a DATE
    reports = tmp_path / "reports"
    run = run_suite(f"--database={altered.path}", "--date=2026-02-05", f"--health-config={config}",
                    f"--reports-dir={reports}", *mode)
    assert run.ret == 4, run.stdout + run.stderr
    assert REFUSAL in run.stderr.splitlines()
    assert "Traceback" not in run.stdout + run.stderr and "INTERNALERROR" not in run.stdout + run.stderr
    # refused before any check: no verdict, no summary, no results JSON, no archive
    assert "0 records found" not in run.stdout and "Overall Status" not in run.stdout
    assert run.results is None and not list(reports.glob("*/*"))


def test_a_date_column_retyped_against_its_contract_is_schema_drift(warehouse, run_suite, tmp_path):
    """With the contract saying DATE, a TIMESTAMP column is the warehouse's change: the schema check
    and the alert say so, the table's other checks are NOT_EVALUATED (exit 1, not a usage error)."""
    altered = timestamp_dates(warehouse, tmp_path)
    run = run_suite(f"--database={altered.path}", "--date=2026-02-05")
    assert run.ret == 1
    assert run.verdict("schema")["message"] == (
        "nba_precompute.player_daily_cache: retyped: cache_date TIMESTAMP (contract DATE)")
    assert run.verdict("coverage")["message"] == (
        "not evaluated: column cache_date is TIMESTAMP in nba_precompute.player_daily_cache, the contract says DATE: "
        "no check of player_daily_cache can run")
