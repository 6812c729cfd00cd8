"""A run never lies: every case an adversarial review reproduced, as a regression test.

Each test names its case (issue "A run never lies", cases 1-14). They run the real suite on real
DuckDB files (pytester, in process) and assert the verdict, the exit code and what was written.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from freezegun import freeze_time

from feature_store_health.checks.dimensions import DIMENSIONS, JudgeContext
from feature_store_health.config import load_config
from conftest import CACHE_DIMENSIONS, COMPOSITE, COMPOSITE_DIMENSIONS, table_entry

ROOT = Path(__file__).resolve().parents[1]
DATE = dt.date(2026, 2, 5)  # healthy: 252 rows, 18 teams playing
PER_DATE = len(CACHE_DIMENSIONS) + len(COMPOSITE_DIMENSIONS)  # the default config's checks of a date
TABLE = load_config().tables[0]
AS_OF = dt.datetime(2026, 2, 5, 14, 0, tzinfo=dt.timezone.utc)


def one_line_usage_error(run, expected: str) -> None:
    """Exit 4, the expected line on stderr, and nothing that looks like a traceback or an INTERNALERROR."""
    assert run.ret == 4, run.stdout + run.stderr
    assert expected in run.stderr, run.stderr
    assert "Traceback" not in run.stdout + run.stderr
    assert "INTERNALERROR" not in run.stdout + run.stderr


def write_config(tmp_path: Path, text: str, name: str = "health.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# -- 1. a check that raises is NOT_EVALUATED, never dropped -----------------------------------

def test_schedule_without_teams_is_its_own_finding_not_a_crash(warehouse, run_suite, webhook, monkeypatch):
    warehouse.execute("UPDATE nba_reference.nba_schedule SET home_team_abbr = NULL, away_team_abbr = NULL "
                      "WHERE game_date = ?", [DATE])
    monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook.url)
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    coverage = run.verdict("coverage")
    assert coverage["severity"] == "ERROR"
    assert coverage["message"] == ("252 records found, but the schedule names no team for its 9 games "
                                   "(home and away team NULL): rows per team cannot be judged")
    assert run.results["status"] == "UNHEALTHY"
    # the composite factors have no team column: rows per team cannot be judged there either
    assert run.verdict("coverage", table=COMPOSITE)["severity"] == "ERROR"
    assert run.results["summary"]["checks"] == PER_DATE and run.results["summary"]["passed"] == PER_DATE - 2
    assert "Overall Status: ❌ UNHEALTHY" in run.stdout and "HEALTHY" not in run.stdout.replace("UNHEALTHY", "")
    assert "ZeroDivisionError" not in run.stdout
    assert run.ret == 1
    assert len(webhook.received) == 1  # the alert went out


RAISING_CONFTEST = '''
from feature_store_health.checks import dimensions

_saved = dict(dimensions.DIMENSIONS)


def _explode(*args):
    raise RuntimeError("rule exploded")


def pytest_configure(config):
    for key, dimension in _saved.items():
        if key in {KEYS}:
            dimensions.DIMENSIONS[key] = dimension._replace(judge=_explode)


def pytest_unconfigure(config):
    dimensions.DIMENSIONS.update(_saved)
'''


@freeze_time("2026-11-25 17:00:00")
def test_every_check_raising_still_writes_every_output(warehouse, run_suite, pytester, webhook, monkeypatch, tmp_path):
    pytester.makeconftest(RAISING_CONFTEST.replace("{KEYS}", repr(set(DIMENSIONS))))
    monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook.url)
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}")
    assert run.ret == 1
    assert run.results["status"] == "UNHEALTHY"
    assert [check["severity"] for check in run.results["checks"]] == ["NOT_EVALUATED"] * PER_DATE
    assert run.verdict("staleness")["message"] == "not evaluated: judging raised RuntimeError: rule exploded"
    assert run.results["summary"]["not_evaluated"] == PER_DATE and run.results["summary"]["passed"] == 0
    folder = next(p for p in reports.glob("*/*") if p.is_dir())
    assert sorted(p.name for p in folder.iterdir()) == ["junit.xml", "report.html", "results.json"]
    assert json.loads((folder / "results.json").read_text())["status"] == "UNHEALTHY"
    assert "UNHEALTHY" in (reports / "index.html").read_text()
    assert len(webhook.received) == 1


def test_one_raising_check_cannot_leave_the_run_healthy(warehouse, run_suite, pytester):
    pytester.makeconftest(RAISING_CONFTEST.replace("{KEYS}", "{'coverage'}"))
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    assert run.verdict("coverage")["severity"] == "NOT_EVALUATED"
    assert run.results["status"] == "UNHEALTHY"
    assert run.verdict("coverage", table=COMPOSITE)["severity"] == "NOT_EVALUATED"
    assert f"Summary: {PER_DATE - 2}/{PER_DATE} checks passed, 2 not evaluated" in run.stdout
    assert run.ret == 1


def test_a_check_whose_setup_fails_before_its_verdict_is_not_evaluated(warehouse, run_suite, pytester):
    pytester.makeconftest('''
import pytest

@pytest.fixture(autouse=True)
def broken_for_staleness(request):
    if request.node.name.startswith("test_staleness"):
        raise OSError("disk vanished")
''')
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    staleness = run.verdict("staleness")
    assert staleness["severity"] == "NOT_EVALUATED"
    assert staleness["message"] == "not evaluated: the test failed in setup: OSError: disk vanished"
    assert run.results["status"] == "UNHEALTHY" and run.ret == 1


@freeze_time("2026-11-25 17:00:00")
def test_a_retyped_column_in_a_weekly_archived_run_is_an_error_not_a_crash(warehouse, run_suite, tmp_path):
    warehouse.execute("ALTER TABLE nba_precompute.player_daily_cache ALTER processed_at TYPE VARCHAR")
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=2", f"--reports-dir={reports}")
    assert "INTERNALERROR" not in run.stdout + run.stderr
    assert [c["severity"] for c in run.checks() if c["dimension"] == "staleness"] == ["NOT_EVALUATED"] * 2
    assert {c["severity"] for c in run.checks(COMPOSITE)} <= {"OK", "SKIPPED"}  # the other table's column is fine
    assert run.verdict("staleness", "2026-02-05")["message"] == (
        "not evaluated: column processed_at is STRING in nba_precompute.player_daily_cache, the contract says TIMESTAMP")
    assert run.verdict("schema", "2026-02-05")["severity"] == "ERROR"
    assert run.results["status"] == "UNHEALTHY" and run.ret == 1
    folder = next(p for p in reports.glob("*/*") if p.is_dir())
    assert 'aria-label="UNHEALTHY"' in (folder / "report.html").read_text()


BROKEN_TREND_CONFTEST = """
from feature_store_health import run_shown


def _explode(*args):
    raise RuntimeError("trend exploded")


def pytest_configure(config):
    config._saved_trend_row = run_shown.trend_row
    run_shown.trend_row = _explode


def pytest_unconfigure(config):
    run_shown.trend_row = config._saved_trend_row
"""


@freeze_time("2026-11-25 17:00:00")
def test_a_report_section_that_raises_never_crashes_the_run(warehouse, run_suite, pytester, tmp_path):
    pytester.makeconftest(BROKEN_TREND_CONFTEST)
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=2", f"--reports-dir={reports}")
    assert "INTERNALERROR" not in run.stdout + run.stderr
    assert run.results["status"] == "HEALTHY" and run.ret == 0  # the verdicts stand
    assert "Trends · player_daily_cache: unavailable (RuntimeError: trend exploded)" in run.stdout
    folder = next(p for p in reports.glob("*/*") if p.is_dir())
    page = (folder / "report.html").read_text()
    assert 'aria-label="HEALTHY"' in page
    assert "Trends for player_daily_cache unavailable: RuntimeError: trend exploded" in page


SKIP_CONFTEST = """
import pytest


def pytest_collection_modifyitems(items):
    for item in items:
        if item.name.startswith("test_completeness"):
            item.add_marker(pytest.mark.skip(reason="completeness under maintenance"))
"""


def test_a_check_skipped_before_judging_is_reported_as_skipped(warehouse, run_suite, pytester):
    pytester.makeconftest(SKIP_CONFTEST)
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    completeness = run.verdict("completeness")
    assert (completeness["severity"], completeness["message"]) == (
        "SKIPPED", "not judged: skipped before judging: completeness under maintenance")
    assert f"Summary: {PER_DATE - 2}/{PER_DATE - 2} checks passed, 2 skipped (nothing to judge)" in run.stdout
    assert run.results["summary"]["skipped"] == 2 and run.ret == 0  # both tables' completeness


# -- 2. two tables with different critical features --------------------------------------------

TWO_TABLES = table_entry() + table_entry("cache_scoring_view", critical_features=("points_avg_last_5", "points_std_last_10"))


@freeze_time("2026-11-25 17:00:00")
def test_two_tables_with_different_critical_features_are_archived(warehouse, run_suite, tmp_path):
    config = write_config(tmp_path, TWO_TABLES)
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=2", f"--health-config={config}",
                    f"--reports-dir={reports}")
    assert run.ret == 0, run.stdout
    assert "KeyError" not in run.stdout and "INTERNALERROR" not in run.stdout
    # no contract and no value ranges in these entries: 10 dimensions apply (arrival too), per table and date
    assert len(run.results["checks"]) == 2 * 2 * 10
    folder = next(p for p in reports.glob("*/*") if p.is_dir())
    page = (folder / "report.html").read_text()
    for table, feature in (("player_daily_cache", "usage_rate_last_10"), ("cache_scoring_view", "points_std_last_10")):
        assert f"NULL rate per critical feature (%) · {table}" in page
        assert feature in page
    assert len(run.results["queries"]) == 2  # one per table


# -- 3. an unusable --reports-dir -----------------------------------------------------------------

@pytest.mark.parametrize("where", ["under a file", "read-only file system"])
def test_unusable_reports_dir_runs_the_checks_and_reports_an_error(warehouse, run_suite, tmp_path, where):
    if where == "under a file":
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        reports, reason = blocker / "reports", f"{blocker} is a file, not a folder"
    else:
        reports, reason = Path("/proc/feature-store-health-reports"), "/proc/feature-store-health-reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}")
    assert "INTERNALERROR" not in run.stdout + run.stderr
    assert f"{PER_DATE} passed" in run.stdout  # every check still ran and was judged
    assert run.results["status"] == "HEALTHY"  # the data verdict, unchanged
    error = [line for line in run.stdout.splitlines() if line.startswith("ERROR: archive not written")]
    assert len(error) == 1 and reason in error[0], run.stdout
    assert run.ret == 1  # an output that could not be written fails the run


def test_unusable_reports_dir_keeps_a_failing_verdicts_exit_code(warehouse, run_suite, tmp_path):
    warehouse.affect_rows(DATE, 30, "ts_pct_last_10 = NULL")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={blocker / 'r'}")
    assert run.results["status"] == "CRITICAL" and run.ret == 1


# -- 4. -p no:junitxml --------------------------------------------------------------------------

@freeze_time("2026-11-25 17:00:00")
def test_without_the_junitxml_plugin_runs_are_archived_without_junit(warehouse, run_suite, tmp_path):
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}", "-p", "no:junitxml")
    assert run.ret == 0, run.stdout + run.stderr
    folder = next(p for p in reports.glob("*/*") if p.is_dir())
    assert sorted(p.name for p in folder.iterdir()) == ["report.html", "results.json"]


def test_project_tests_run_without_the_junitxml_plugin():
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_config.py", "-q", "-p", "no:junitxml", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "AttributeError" not in completed.stdout + completed.stderr


# -- 6. config values never become SQL ---------------------------------------------------------

INJECTED_TIER = "x, (SELECT COUNT(*) FROM nba_reference.nba_schedule) AS y"


def tiers_config(tmp_path: Path, tiers: list[str], poor: str = "POOR") -> Path:
    text = table_entry()
    text = text.replace('quality_tiers = ["EXCELLENT", "GOOD", "ACCEPTABLE", "POOR"]', f"quality_tiers = {json.dumps(tiers)}")
    text = text.replace('poor_tier = "POOR"', f"poor_tier = {json.dumps(poor)}")
    return write_config(tmp_path, text)


def test_a_tier_value_is_only_ever_a_string_literal(warehouse, run_suite, tmp_path):
    config = tiers_config(tmp_path, ["GOOD", "POOR", INJECTED_TIER])
    dry = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--health-config={config}", "--dry-run",
                    results=False)
    sql = dry.stdout
    assert f"COUNTIF(quality_tier = '{INJECTED_TIER}') AS tier_count__x_select_count_from_nba_reference_nba_schedule_as_y" in sql
    # the value appears nowhere outside that literal: no subquery is bound or executed
    assert sql.count("SELECT COUNT(*) FROM nba_reference.nba_schedule") == 1
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--health-config={config}")
    assert run.ret == 0
    tiers = run.verdict("quality_tiers")["details"]["tiers"]
    assert tiers[INJECTED_TIER] == 0 and tiers["POOR"] == 0


def test_tier_names_with_spaces_work(warehouse, run_suite, tmp_path):
    warehouse.affect_rows(DATE, 13, "quality_tier = 'Very Poor'")
    config = tiers_config(tmp_path, ["EXCELLENT", "GOOD", "ACCEPTABLE", "Very Poor"], poor="Very Poor")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--health-config={config}")
    tiers = run.verdict("quality_tiers")
    assert (tiers["severity"], tiers["value"]) == ("ERROR", 5.16)
    assert tiers["message"] == "5.2% Very Poor (13/252)"


@pytest.mark.parametrize(("tiers", "message"), [
    (["POOR", "poor"], "quality_tiers: 'POOR' and 'poor' are the same tier ignoring case and punctuation; list each once"),
    (["Very Poor", "very-poor", "POOR"], "quality_tiers: 'Very Poor' and 'very-poor' are the same tier ignoring case and punctuation"),
    (["POOR", "it's"], "quality_tiers: \"it's\" is not allowed: a value holds at most 100 printable characters, no quote or backslash"),
    (["POOR", "!!!"], "quality_tiers: '!!!' is not allowed"),
])
def test_colliding_or_unsafe_tier_names_are_usage_errors(run_suite, tmp_path, tiers, message):
    config = tiers_config(tmp_path, tiers)
    run = run_suite(f"--health-config={config}", results=False)
    one_line_usage_error(run, message)


def test_critical_features_differing_only_in_case_are_rejected(run_suite, tmp_path):
    config = write_config(tmp_path, table_entry(critical_features=("points_avg_last_10", "TS_PCT_LAST_10", "ts_pct_last_10")))
    run = run_suite(f"--health-config={config}", results=False)
    one_line_usage_error(run, "critical_features: 'TS_PCT_LAST_10' and 'ts_pct_last_10' are the same column")


# -- 7. non-finite numbers ----------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ("[thresholds.null_rates]\nwarning_above = nan\n", "thresholds.null_rates.warning_above must be a finite number, got nan"),
    ("[thresholds.null_rates]\ncritical_above = inf\n", "thresholds.null_rates.critical_above must be a finite number, got inf"),
    ("[thresholds.coverage]\nwarning_min_rows_per_team = -inf\n", "must be a finite number, got -inf"),
    ("[slack]\ntotal_seconds = inf\n", "slack.total_seconds must be a positive finite number, got inf"),
    ("[slack]\ntimeout_seconds = nan\n", "slack.timeout_seconds must be a positive finite number, got nan"),
])
def test_non_finite_numbers_in_config_are_usage_errors(run_suite, tmp_path, text, message):
    run = run_suite(f"--health-config={write_config(tmp_path, text)}", results=False)
    one_line_usage_error(run, message)


def test_results_json_is_strict_json(warehouse, run_suite, tmp_path):
    target = tmp_path / "results.json"
    run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=3", f"--results-json={target}", results=False)

    def reject(constant: str):
        raise ValueError(f"non-standard JSON constant {constant}")

    document = json.loads(target.read_text(), parse_constant=reject)  # NaN / Infinity would raise here
    assert document["status"] == "HEALTHY" and len(document["checks"]) == 3 * PER_DATE


def test_non_finite_values_are_written_as_null():
    from feature_store_health.reporting.results_json import _finite

    assert json.dumps(_finite({"a": [float("nan"), 1.5, {"b": float("inf")}]}), allow_nan=False) == \
        '{"a": [null, 1.5, {"b": null}]}'


def test_results_json_writes_a_non_finite_value_as_null(monkeypatch):
    """results_json encodes the document as it is when every number is finite, and falls back to
    the copy with nulls when one is not: the fallback is the path a NaN takes."""
    from feature_store_health.reporting import results_json as module

    document = {"status": "HEALTHY", "checks": [{"value": float("nan")}, {"value": 2.5, "at": (1, float("-inf"))}]}
    monkeypatch.setattr(module, "results_document", lambda *args: document)
    assert module.results_json(None) == '{"status":"HEALTHY","checks":[{"value":null},{"value":2.5,"at":[1,null]}]}\n'
    document = {"status": "HEALTHY", "checks": [{"value": 1.0, "at": (1, 2)}]}
    assert module.results_json(None) == '{"status":"HEALTHY","checks":[{"value":1.0,"at":[1,2]}]}\n'


# -- 8. bad inputs: exit 4, one line ----------------------------------------------------------

def test_config_path_that_is_a_directory(run_suite, tmp_path):
    run = run_suite(f"--health-config={tmp_path}", results=False)
    one_line_usage_error(run, f"ERROR: config {tmp_path} is a directory; give the path of a TOML file")


def test_config_that_is_not_utf8(run_suite, tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[deadline]\ntime = "09:00" # caf\xe9\n'.encode("latin-1"))
    run = run_suite(f"--health-config={path}", results=False)
    one_line_usage_error(run, f"ERROR: config {path}: not UTF-8 text (byte 31); save it as UTF-8")


@pytest.mark.parametrize("value", ["inf", "1e400", "nan", "-5", "99999999999999999999TB"])
def test_max_bytes_billed_out_of_range(run_suite, value):
    run = run_suite(f"--max-bytes-billed={value}", results=False)
    one_line_usage_error(run, f"argument --max-bytes-billed: {value!r} is not a byte count")


@pytest.mark.parametrize("value", ["inf", "nan", "1e400"])
def test_query_timeout_must_be_finite(run_suite, value):
    run = run_suite(f"--query-timeout={value}", results=False)
    one_line_usage_error(run, f"argument --query-timeout: {value!r} is not a positive number of seconds")


def test_a_window_before_year_one(run_suite):
    run = run_suite("--date=0001-01-05", "--days=10", results=False)
    one_line_usage_error(run, "ERROR: --date=0001-01-05 with --days=10 starts before 0001-01-01; "
                              "give a later --date or fewer --days")


def test_an_as_of_beyond_year_9999(run_suite):
    run = run_suite("--date=2026-02-05", "--as-of=9999-12-31T23:00:00-05:00", results=False)
    one_line_usage_error(run, "ERROR: --as-of=9999-12-31T23:00:00-05:00 is out of range in UTC")


@pytest.mark.parametrize("content", [b"", b"date,rows\n2026-02-05,252\n"])
def test_database_that_is_not_a_duckdb_file(run_suite, tmp_path, content):
    path = tmp_path / "warehouse.csv"
    path.write_bytes(content)
    run = run_suite(f"--database={path}", "--date=2026-02-05", results=False)
    one_line_usage_error(run, f"ERROR: --database: {path} is not a DuckDB database file")


def test_results_json_path_that_is_a_directory(run_suite, tmp_path):
    run = run_suite(f"--results-json={tmp_path}", results=False)
    one_line_usage_error(run, f"ERROR: --results-json: {tmp_path} is a directory; give a file path")


# -- 9. messages on the right side of the threshold ----------------------------------------------

def judge(dimension: str, **overrides):
    values = {"row_count": 252, "games_scheduled": 9, "teams_playing": 18, **overrides}
    return DIMENSIONS[dimension].judge(values, TABLE, TABLE.thresholds[dimension], JudgeContext(AS_OF))


def test_readiness_just_below_98_never_reads_98():
    verdict = judge("production_readiness", row_count=246, production_ready_count=241)
    assert verdict.severity.value == "WARNING"
    assert verdict.message == "97.97% production ready (241/246)"
    assert verdict.value == 97.97


def test_null_rate_just_above_2_never_reads_2():
    nulls = {f"null_count__{feature}": 0 for feature in TABLE.critical_features}
    verdict = judge("null_rates", row_count=1000, **{**nulls, "null_count__usage_rate_last_10": 21})
    assert (verdict.severity.value, verdict.message) == ("WARNING", "worst usage_rate_last_10 2.1% NULL (21/1000)")
    verdict = judge("null_rates", row_count=10000, **{**nulls, "null_count__usage_rate_last_10": 201})
    assert (verdict.severity.value, verdict.message) == ("WARNING", "worst usage_rate_last_10 2.01% NULL (201/10000)")
    verdict = judge("null_rates", row_count=100000, **{**nulls, "null_count__usage_rate_last_10": 2001})
    assert verdict.message == "worst usage_rate_last_10 2.001% NULL (2001/100000)" and verdict.value == 2.001


def test_rows_per_team_just_below_10_never_reads_10():
    verdict = judge("coverage", row_count=279, teams_playing=28, games_scheduled=14)
    assert verdict.severity.value == "WARNING"
    assert verdict.message == "279 records found: 9.96 per team playing (28 teams), below 10"
    assert verdict.details["rows_per_team"] == 9.96


def test_staleness_ten_seconds_over_24_hours_never_reads_24():
    latest = AS_OF - dt.timedelta(hours=24, seconds=10)
    verdict = judge("staleness", max_processed_at=latest)
    assert verdict.severity.value == "WARNING"
    assert verdict.message == "last processed 24.003 h before the as-of time 2026-02-05 14:00 UTC"
    assert verdict.value == 24.003


def test_exactly_on_the_limit_reads_as_the_limit():
    verdict = judge("production_readiness", row_count=250, production_ready_count=245)
    assert (verdict.severity.value, verdict.message) == ("OK", "98.0% production ready (245/250)")


# -- 10. samples show the rows that made the check fail -----------------------------------------

@freeze_time("2026-11-25 17:00:00")
def test_quality_tier_samples_show_the_poor_rows(warehouse, run_suite, tmp_path):
    ordered = "SELECT player_lookup FROM nba_precompute.player_daily_cache WHERE cache_date = ? ORDER BY player_lookup"
    warehouse.execute(f"UPDATE nba_precompute.player_daily_cache SET quality_tier = NULL WHERE cache_date = ? "
                      f"AND player_lookup IN ({ordered} LIMIT 176)", [DATE, DATE])
    warehouse.execute(f"UPDATE nba_precompute.player_daily_cache SET quality_tier = 'POOR' WHERE cache_date = ? "
                      f"AND player_lookup IN ({ordered} LIMIT 40 OFFSET 176)", [DATE, DATE])
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}")
    tiers = run.verdict("quality_tiers")
    assert (tiers["severity"], tiers["value"], tiers["message"]) == (
        "CRITICAL", 15.87, "15.9% POOR (40/252); quality_tier NULL on 69.8% of rows (176/252)")
    from test_reports import check_cards  # the report's failing-check cards

    folder = next(p for p in reports.glob("*/*") if p.is_dir())
    card = check_cards(folder / "report.html")["test_health.py::test_quality_tiers[player_daily_cache-2026-02-05]"]
    # both made it fail: the POOR rows (the CRITICAL share) first, then the NULL-tier rows (the warning)
    assert "Offending rows (first 40, by player)" in card
    sample_tiers = re.findall(r"<tr><td>[a-z]+</td><td>(\w+)</td>", card)
    assert sample_tiers == ["POOR"] * 20 + ["NULL"] * 20


def test_tier_sample_reasons_follow_what_failed():
    """Which rows the tier samples show: NULL-tier rows when not populated, POOR rows when only the
    POOR share failed, both (POOR first) when both did."""
    verdict = judge("quality_tiers", tier_null_count=252, **{f"tier_count__{t.lower()}": 0 for t in TABLE.quality_tiers})
    assert DIMENSIONS["quality_tiers"].reasons_failing(verdict.details, TABLE.thresholds["quality_tiers"], TABLE) == ("null",)
    poor = judge("quality_tiers", tier_null_count=2, **{**{f"tier_count__{t.lower()}": 0 for t in TABLE.quality_tiers},
                                                         "tier_count__poor": 40, "tier_count__good": 210})
    assert DIMENSIONS["quality_tiers"].reasons_failing(poor.details, TABLE.thresholds["quality_tiers"], TABLE) == ("poor",)
    both = judge("quality_tiers", tier_null_count=176, **{**{f"tier_count__{t.lower()}": 0 for t in TABLE.quality_tiers},
                                                           "tier_count__poor": 40})
    assert DIMENSIONS["quality_tiers"].reasons_failing(both.details, TABLE.thresholds["quality_tiers"], TABLE) == (
        "poor", "null")


# -- 11. the rerun command is the same run ------------------------------------------------------

def test_rerun_keeps_fail_on_and_quotes_paths(warehouse, run_suite, tmp_path):
    spaced = tmp_path / "my warehouse" / "feature store.duckdb"
    spaced.parent.mkdir()
    spaced.write_bytes(warehouse.path.read_bytes())
    Warehouse = type(warehouse)
    Warehouse(spaced).execute("UPDATE nba_predictions.player_prop_predictions SET is_active = FALSE WHERE game_date = ?",
                              [DATE])
    run = run_suite(f"--database={spaced}", "--date=2026-02-05", "--fail-on=warning", "-m", "downstream_usage or coverage")
    assert run.ret == 1
    rerun = run.results["rerun"]
    # --no-history: the project's tests turn the history off through $FEATURE_STORE_HEALTH_HISTORY
    assert rerun == shlex.join(["pytest", "data_tests", "--date=2026-02-05", f"--database={spaced}", "--no-history",
                                "--fail-on=warning", "-m", "downstream_usage or coverage"])
    assert f"Rerun: {rerun}" in run.stdout
    # pasted, it is the same run: same checks, same verdict, same exit code
    again = run_suite(*shlex.split(rerun)[2:])
    assert again.ret == 1
    assert [(c["table"], c["dimension"], c["severity"]) for c in again.results["checks"]] == \
        [(c["table"], c["dimension"], c["severity"]) for c in run.results["checks"]] == [
            ("player_daily_cache", "coverage", "OK"), ("player_daily_cache", "downstream_usage", "WARNING"),
            ("player_composite_factors", "coverage", "OK")]


def test_rerun_keeps_the_emulator_endpoint_and_bytes_cap():
    from feature_store_health.settings import RunSettings
    from feature_store_health.run import HealthRun

    settings = RunSettings(
        check_date=DATE, days=7, backend="bigquery", database=None, project="demo", as_of=None, results_json=None,
        fail_on="error", config_path=Path("/etc/health checks/prod.toml"), max_bytes_billed=500 * 10**6,
        query_timeout=60.0, bigquery_endpoint="http://127.0.0.1:9050",
    )
    run = HealthRun(settings, load_config(), lambda: None, AS_OF)
    assert shlex.split(run.rerun_command()) == [
        "pytest", "data_tests", "--date=2026-02-05", "--days=7", "--backend=bigquery", "--project=demo",
        "--bigquery-endpoint=http://127.0.0.1:9050", "--health-config=/etc/health checks/prod.toml",
        "--max-bytes-billed=500000000", "--query-timeout=60",
    ]


def test_rerun_from_an_emulator_set_in_the_environment(run_suite, monkeypatch, warehouse):
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", "http://127.0.0.1:1")  # nothing listens: checks not evaluated
    run = run_suite("--backend=bigquery", "--project=demo", "--date=2026-02-05", "--query-timeout=2", "-m", "staleness")
    assert "--bigquery-endpoint=http://127.0.0.1:1" in run.results["rerun"]
    assert "--query-timeout=2" in run.results["rerun"]


# -- 12. interrupted and partial runs ------------------------------------------------------------

INTERRUPT_CONFTEST = """
import os
import signal


def pytest_runtest_call(item):
    if item.name.startswith("test_null_rates"):
        # a process started in the background (`cmd &`) inherits SIGINT ignored: Ctrl-C at a
        # terminal is what this stands for, so its handler is Python's own
        signal.signal(signal.SIGINT, signal.default_int_handler)
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, as a person at the terminal sends it
"""


@pytest.fixture
def suite_folder(tmp_path) -> Path:
    """A folder holding the health tests, for runs in a real process of their own."""
    folder = tmp_path / "suite"
    folder.mkdir()
    (folder / "test_health.py").write_text((ROOT / "data_tests" / "test_feature_store.py").read_text())
    return folder


def test_an_interrupted_run_is_incomplete_never_healthy(warehouse, suite_folder, webhook, tmp_path):
    (suite_folder / "conftest.py").write_text(INTERRUPT_CONFTEST)
    reports, results = tmp_path / "reports", tmp_path / "results.json"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "feature_store_health.plugin", "-p", "no:cacheprovider",
         f"--database={warehouse.path}", "--date=2026-02-05", "--days=3", f"--reports-dir={reports}",
         f"--results-json={results}"],
        cwd=suite_folder, capture_output=True, text=True, timeout=120,
        env={**__import__("os").environ, "SLACK_WEBHOOK_URL": webhook.url},
    )
    assert completed.returncode == 2, completed.stdout + completed.stderr  # pytest's code for an interrupted run
    document = json.loads(results.read_text())
    assert document["status"] == "INCOMPLETE"
    assert document["complete"] is False and document["judged_status"] == "HEALTHY"
    # the checks run table by table: the cache's arrival, coverage and readiness ran for the three
    # dates; the interrupt came at its first null_rates check
    assert document["incomplete_reason"] == f"{3 * PER_DATE - 9} of {3 * PER_DATE} selected checks never ran (interrupted)"
    assert [c["dimension"] for c in document["checks"]] == ["arrival"] * 3 + ["coverage"] * 3 + ["production_readiness"] * 3
    assert document["summary"]["checks"] == 9 and document["summary"]["not_run"] == 3 * PER_DATE - 9
    assert "Overall Status: ⏸️ INCOMPLETE" in completed.stdout
    assert f"Summary: 9/9 checks passed, {3 * PER_DATE - 9} never ran" in completed.stdout
    index = (reports / "index.html").read_text()
    assert "INCOMPLETE" in index and ">HEALTHY<" not in index
    assert len(webhook.received) == 1
    assert "INCOMPLETE" in webhook.received[0]["json"]["text"]


def test_stopping_at_the_first_failure_is_incomplete(warehouse, run_suite):
    warehouse.affect_rows(DATE, 13, "is_production_ready = FALSE")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-x")
    assert run.results["status"] == "INCOMPLETE" and run.results["judged_status"] == "UNHEALTHY"
    assert run.results["incomplete_reason"] == f"{PER_DATE - 3} of {PER_DATE} selected checks never ran (stopping after 1 failures)"
    assert run.ret == 1


@pytest.mark.parametrize("flag", ["--setup-only", "--setup-plan"])
def test_setup_only_archives_nothing_and_sends_nothing(warehouse, run_suite, webhook, monkeypatch, tmp_path, flag):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook.url)
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}", flag)
    assert list(reports.glob("*/*")) == []
    assert webhook.received == []
    assert run.results["status"] == "INCOMPLETE" and run.results["checks"] == []
    assert f"INCOMPLETE: no check was judged ({PER_DATE} of {PER_DATE} selected checks never ran" in run.stdout
    assert "Generated html report" not in run.stdout
    assert run.ret == 1  # never exits 0 as if healthy


# -- 13. the webhook in any encoding -----------------------------------------------------------

def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_webhook_never_leaks_percent_encoded(warehouse, run_suite, monkeypatch, tmp_path):
    config = write_config(tmp_path, "[slack]\ntimeout_seconds = 1\ntotal_seconds = 3\nmax_attempts = 2\n")
    secret_path = "/services/T0SECRET XYZ/B0ü/s3cr3tTOKEN"
    monkeypatch.setenv("SLACK_WEBHOOK_URL", f"http://127.0.0.1:{closed_port()}{secret_path}")
    warehouse.affect_rows(DATE, 13, "is_production_ready = FALSE")
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--health-config={config}",
                    f"--reports-dir={reports}")
    assert "WARNING: Slack alert not delivered" in run.stdout
    written = run.stdout + run.stderr + "".join(p.read_text() for p in reports.rglob("*") if p.is_file())
    for leak in ("T0SECRET", "s3cr3tTOKEN", "%C3%BC", "%c3%bc", "XYZ/B0"):
        assert leak.lower() not in written.lower(), leak
    assert "/<redacted>" in run.stdout


# -- 14. smaller ones ------------------------------------------------------------------------------

def test_no_check_selected_prints_no_link_to_a_deleted_report(warehouse, run_suite, tmp_path):
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}", "-k", "nomatch")
    assert ".partial" not in run.stdout and "Generated html report" not in run.stdout
    assert "generated xml file" not in run.stdout
    assert list(reports.glob("*/*")) == []
    assert run.results["status"] == "INCOMPLETE" and run.results["incomplete_reason"] == "no check was selected"


@freeze_time("2026-11-25 17:00:00")
def test_index_times_are_in_the_configured_time_zone(warehouse, run_suite, tmp_path):
    config = write_config(tmp_path, '[deadline]\ntimezone = "Europe/London"\n')
    reports = tmp_path / "reports"
    run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}", f"--health-config={config}")
    index = (reports / "index.html").read_text()
    assert "Times in Europe/London." in index and "America/New_York" not in index
    assert "2026-11-25 17:00:00 GMT" in index


def test_unwritable_results_json_says_why(warehouse, run_suite, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    target = blocker / "out" / "results.json"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--results-json={target}", results=False)
    assert f"ERROR: --results-json not written: {blocker} is a file, not a folder" in run.stdout
    assert "File exists" not in run.stdout
    assert f"{PER_DATE} passed" in run.stdout and run.ret == 1


@freeze_time("2026-11-25 17:00:00")
def test_degraded_run_junit_records_the_warning(warehouse, run_suite, tmp_path):
    warehouse.affect_rows(DATE, 6, "is_production_ready = FALSE")
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}")
    assert run.ret == 0 and run.results["status"] == "DEGRADED"
    junit = next(reports.glob("*/*/junit.xml")).read_text()
    readiness = re.search(r'<testcase [^>]*name="test_production_readiness\[[^"]*\]".*?</testcase>', junit, re.S).group(0)
    assert '<property name="health_severity" value="WARNING" />' in readiness
    assert '<property name="health_message" value="97.2% production ready (245/252)" />' in readiness
    coverage = re.search(r'<testcase [^>]*name="test_coverage\[[^"]*\]".*?</testcase>', junit, re.S).group(0)
    assert '<property name="health_severity" value="OK" />' in coverage


def test_malformed_webhook_in_environment_does_not_block_help_or_tests(run_suite, pytester, monkeypatch, warehouse):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", "not-a-url")
    assert pytester.runpytest("-p", "feature_store_health.plugin", "--help").ret == 0
    pytester.makepyfile(test_plain="def test_one():\n    assert True\n")
    plain = pytester.runpytest("-p", "feature_store_health.plugin", "test_plain.py")
    assert plain.ret == 0
    warehouse.affect_rows(DATE, 13, "is_production_ready = FALSE")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    assert "WARNING: Slack alert not sent: $SLACK_WEBHOOK_URL: not an http(s) URL (the value is not shown: it is a secret)" in run.stdout
    assert "not-a-url" not in run.stdout
    assert run.ret == 1 and run.results["status"] == "UNHEALTHY"  # the data verdict stands


@pytest.mark.parametrize(("as_of", "problem"), [
    ("2026-03-08T02:30", "does not exist"),
    ("2026-11-01T01:30", "happens twice"),
])
def test_local_as_of_that_a_clock_change_skips_or_repeats(run_suite, as_of, problem):
    run = run_suite("--date=2026-03-08", f"--as-of={as_of}", results=False)
    one_line_usage_error(run, f"ERROR: --as-of={as_of}:00 {problem} in America/New_York (a daylight-saving change); "
                              "give a UTC offset")


def test_zero_row_dates_show_null_rates_as_not_available():
    from feature_store_health.checks.trend import trend_row

    values = {"row_count": 0, "player_count": 0, "games_scheduled": 9, "production_ready_count": 0,
              "complete_count": 0, "tier_null_count": 0, "min_processed_at": None, "max_processed_at": None,
              "active_predictions": 0, **{f"tier_count__{t.lower()}": 0 for t in TABLE.quality_tiers},
              **{f"null_count__{f}": 0 for f in TABLE.critical_features}}
    row = trend_row(TABLE, DATE, values)
    assert row.null_pct == {feature: None for feature in TABLE.critical_features}


def test_weekly_console_shows_n_a_for_a_date_without_rows(warehouse, run_suite):
    warehouse.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [DATE])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=2")
    # the cache's two tables first, then the composite factors' (their rows are there)
    volume, quality = [line.split() for line in run.stdout.splitlines() if line.startswith("2026-02-05 ")][:2]
    assert volume == ["2026-02-05", "9", "0", "0", "n/a", "n/a", "n/a", "914", "n/a"]
    assert quality[1:6] == ["0"] * 5  # rows per tier, and with no tier
    assert quality[6:] == ["n/a"] * 4  # NULL % per critical feature: not 0.0
