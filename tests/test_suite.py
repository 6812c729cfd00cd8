"""The real suite (data_tests) end to end on DuckDB files: verdicts, exit codes, results JSON."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import CACHE_DIMENSIONS, COMPOSITE, COMPOSITE_DIMENSIONS, table_entry

DATE = dt.date(2026, 2, 5)  # healthy: 252 rows, 18 teams playing, 914 active predictions
ROWS = 252
DIMENSIONS = CACHE_DIMENSIONS
CHECKS = len(DIMENSIONS)  # of the feature cache, per date
PER_DATE = CHECKS + len(COMPOSITE_DIMENSIONS)  # both monitored tables


def pct(part: int, whole: int = ROWS) -> float:
    return round(100 * part / whole, 2)


def test_healthy_day_passes_every_check(warehouse, run_suite):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    assert run.ret == 0, run.stdout
    assert f"{PER_DATE} passed" in run.stdout
    assert "✅ Date Coverage: 252 records found (18 teams playing, 14.0 per team)" in run.stdout
    assert "✅ Downstream Usage: 914 active predictions (3.63 per feature row)" in run.stdout
    assert "✅ Schema: 76 columns as the contract says" in run.stdout
    assert "✅ Uniqueness: every player_lookup once per date (252 rows)" in run.stdout
    assert "✅ Value Ranges: 42 columns within their valid ranges (252 rows)" in run.stdout
    assert "✅ Anomalies: 183 metrics within their baseline (7 game days)" in run.stdout
    assert ("✅ Source Consistency: all 252 rows match nba_analytics.player_game_summary within 0.01; "
            "all 225 expected players have a row") in run.stdout
    assert "✅ Completeness: 99.6% rows with data_completeness_pct >= 90 (251/252)" in run.stdout  # the composite table
    assert f"Summary: {PER_DATE}/{PER_DATE} checks passed" in run.stdout
    assert "Overall Status: ✅ HEALTHY" in run.stdout
    results = run.results
    assert results["status"] == "HEALTHY"
    assert results["dates"] == ["2026-02-05"]
    assert [check["dimension"] for check in run.checks()] == DIMENSIONS
    assert [check["dimension"] for check in run.checks(COMPOSITE)] == COMPOSITE_DIMENSIONS
    assert all(check["severity"] == "OK" for check in results["checks"])
    assert run.verdict("coverage")["value"] == 252
    assert run.verdict("downstream_usage")["value"] == 914
    assert run.verdict("production_readiness")["threshold"] == {"warning_below": 98, "error_below": 95, "critical_below": 90}
    assert run.verdict("completeness", table=COMPOSITE)["threshold"] == {"warning_below": 97, "error_below": 93,
                                                                          "critical_below": 85}
    # one aggregate query per table, and the source check's own
    assert sorted((query["table"], query["purpose"]) for query in results["queries"]) == [
        (COMPOSITE, "metrics"), ("player_daily_cache", "metrics"), ("player_daily_cache", "source_consistency")]


def test_ids_name_table_date_and_dimension(warehouse, run_suite):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=2", "--collect-only", "-q",
                    results=False)
    assert "test_health.py::test_coverage[player_daily_cache-2026-02-04]" in run.stdout
    assert "test_health.py::test_staleness[player_daily_cache-2026-02-05]" in run.stdout
    assert "test_health.py::test_anomalies[player_daily_cache-2026-02-05]" in run.stdout
    assert "test_health.py::test_source_consistency[player_daily_cache-2026-02-05]" in run.stdout
    assert "test_health.py::test_null_rates[player_composite_factors-2026-02-05]" in run.stdout
    assert "test_production_readiness[player_composite_factors" not in run.stdout  # not configured there
    assert f"{2 * PER_DATE} tests collected" in run.stdout


def test_marker_selects_one_dimension(warehouse, run_suite):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-m", "staleness")
    assert run.ret == 0
    assert f"2 passed, {PER_DATE - 2} deselected" in run.stdout
    assert [(check["table"], check["dimension"]) for check in run.results["checks"]] == [
        ("player_daily_cache", "staleness"), (COMPOSITE, "staleness")]
    assert len(run.results["queries"]) == 2  # no source query: source_consistency is not selected


# (dimension, SET clause on the first N rows of 2026-02-05, N, severity, value, and what anomalies
# says against the 7 game days before: its severity and the metric it names, None when OK). A stat
# feature set NULL also differs from its source: source_consistency judges those rows too.
ROW_DEFECTS = [
    # one row of the date is not production ready already (not among the first 26 by player)
    ("production_readiness", "is_production_ready = FALSE", 6, "WARNING", pct(ROWS - 7), ("OK", None)),
    ("production_readiness", "is_production_ready = FALSE", 13, "ERROR", pct(ROWS - 14), ("WARNING", "% production ready 94.4")),
    ("production_readiness", "is_production_ready = NULL", 26, "CRITICAL", pct(ROWS - 27), ("ERROR", "is_production_ready NULL % 10.3")),
    ("null_rates", "usage_rate_last_10 = NULL", 6, "WARNING", pct(6), ("OK", None)),
    ("null_rates", "usage_rate_last_10 = NULL", 13, "ERROR", pct(13), ("WARNING", "usage_rate_last_10 NULL % 5.2")),
    ("null_rates", "points_avg_last_10 = NULL", 26, "CRITICAL", pct(26), ("ERROR", "points_avg_last_10 NULL % 10.3")),
    ("quality_tiers", "quality_tier = 'POOR'", 6, "WARNING", pct(6), ("OK", None)),
    ("quality_tiers", "quality_tier = 'POOR'", 13, "ERROR", pct(13), ("WARNING", "% POOR 5.2")),
    ("quality_tiers", "quality_tier = 'POOR'", 26, "CRITICAL", pct(26), ("ERROR", "% POOR 10.3")),
    # the tier rule calls an unpopulated tier a WARNING; a column always filled going all-NULL is, to
    # the baseline, as far off as a metric can be
    ("quality_tiers", "quality_tier = NULL", ROWS, "WARNING", None, ("CRITICAL", "quality_tier NULL % 100.0")),
    ("completeness", "all_windows_complete = FALSE", 6, "WARNING", pct(ROWS - 6), ("OK", None)),
    ("completeness", "all_windows_complete = FALSE", 13, "ERROR", pct(ROWS - 13), ("WARNING", "% complete 94.8")),
    ("completeness", "all_windows_complete = FALSE", 26, "CRITICAL", pct(ROWS - 26), ("ERROR", "% complete 89.7")),
]
RANK = {"OK": 0, "WARNING": 1, "ERROR": 2, "CRITICAL": 3}


# what drift says of each defect (the others: OK)
DRIFT_SEES = {
    ("usage_rate_last_10 = NULL", 13): ("WARNING", "usage_rate_last_10: NULL 5.2 % of rows, expected 0.0–0.0 % (score 5.4)"),
    ("points_avg_last_10 = NULL", 26): ("ERROR", "points_avg_last_10: NULL 10.3 % of rows, expected 0.0–0.0 % (score 10.2)"),
    ("quality_tier = 'POOR'", 6): ("WARNING", "quality_tier: POOR 2.4 % of rows, expected 0.0–0.0 % (score 4.9)"),
    ("quality_tier = 'POOR'", 13): ("WARNING", "quality_tier: POOR 5.2 % of rows, expected 0.0–0.0 % (score 7.8)"),
    ("quality_tier = 'POOR'", 26): ("ERROR", "quality_tier: POOR 10.3 % of rows, expected 0.0–0.0 % (score 11.6)"),
    ("quality_tier = NULL", 252): ("CRITICAL", "quality_tier: NULL 100.0 % of rows, expected 0.0–0.0 % (score 54.3)"),
}


@pytest.mark.parametrize(("dimension", "assignment", "rows", "severity", "value", "anomaly"), ROW_DEFECTS)
def test_row_defects_reach_their_severity(warehouse, run_suite, dimension, assignment, rows, severity, value, anomaly):
    warehouse.affect_rows(DATE, rows, assignment)
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict(dimension)
    assert (verdict["severity"], verdict["value"]) == (severity, value)
    source = run.verdict("source_consistency")
    source_severity = "OK"
    if assignment.split(" = ")[0] in ("usage_rate_last_10", "points_avg_last_10"):
        source_severity = "CRITICAL" if rows > ROWS * 0.1 else "ERROR"  # % rows off: > 2 ERROR, > 10 CRITICAL
        feature = assignment.split(" = ")[0]
        assert source["message"].startswith(f"{100 * rows / ROWS:.1f}% rows differ from nba_analytics.player_game_summary "
                                            f"({rows}/{ROWS}): worst {feature} on {rows} rows"), source["message"]
    assert source["severity"] == source_severity
    # drift (issue 18) sees the rows whose column it tracks: a NULL bin, a category's share
    drift = run.verdict("drift")
    drift_severity, drift_says = DRIFT_SEES.get((assignment, rows), ("OK", "18 columns within their usual distribution"))
    assert drift["severity"] == drift_severity and drift_says in drift["message"], drift["message"]
    others = [check["severity"] for check in run.checks(None)
              if (check["table"], check["dimension"]) not in {("player_daily_cache", dimension),
                                                             ("player_daily_cache", "anomalies"),
                                                             ("player_daily_cache", "source_consistency"),
                                                             ("player_daily_cache", "drift")}]
    assert others == ["OK"] * (PER_DATE - 4)  # the composite table's checks included
    anomalies = run.verdict("anomalies")
    assert anomalies["severity"] == anomaly[0]
    if anomaly[1] is not None:
        assert anomaly[1] in anomalies["message"]
    worst = max(severity, anomaly[0], source_severity, drift_severity, key=RANK.get)
    assert run.ret == (0 if worst == "WARNING" else 1)
    expected_status = {"WARNING": "DEGRADED", "ERROR": "UNHEALTHY", "CRITICAL": "CRITICAL"}[worst]
    assert run.results["status"] == expected_status
    assert f"Overall Status: {dict(DEGRADED='⚠️', UNHEALTHY='❌', CRITICAL='🚨')[expected_status]} {expected_status}" in run.stdout


def test_warning_passes_visibly_and_fails_with_fail_on_warning(warehouse, run_suite):
    warehouse.affect_rows(DATE, 6, "quality_tier = 'POOR'")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    assert run.ret == 0
    assert f"{PER_DATE} passed, 2 warnings" in run.stdout
    assert "HealthWarning: WARNING Quality Tiers on 2026-02-05: 2.4% POOR (6/252)" in run.stdout
    assert "⚠️ Quality Tiers: 2.4% POOR (6/252)" in run.stdout
    # drift (issue 18) sees the same rows as a category off its usual share
    assert ("⚠️ Drift: 1 of 18 columns off their usual distribution: quality_tier: POOR 2.4 % of rows, "
            "expected 0.0–0.0 % (score 4.9)") in run.stdout
    assert f"Summary: {PER_DATE}/{PER_DATE} checks passed, 2 with warnings" in run.stdout
    strict = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--fail-on=warning")
    assert strict.ret == 1
    assert f"2 failed, {PER_DATE - 2} passed" in strict.stdout
    assert f"Summary: {PER_DATE - 2}/{PER_DATE} checks passed, 2 with warnings" in strict.stdout


def test_coverage_warning_below_ten_rows_per_team(warehouse, run_suite):
    warehouse.execute(
        """DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND player_lookup IN (
               SELECT player_lookup FROM nba_precompute.player_daily_cache WHERE cache_date = ?
               ORDER BY player_lookup LIMIT 73)""",
        [DATE, DATE],
    )
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("coverage")
    assert (verdict["severity"], verdict["value"]) == ("WARNING", 179)
    assert verdict["message"] == "179 records found: 9.9 per team playing (18 teams), below 10"
    # the players dropped had played lately: the roster check names them
    roster = run.verdict("source_consistency")
    assert roster["severity"] == "ERROR"
    assert roster["details"]["missing_players"] == 66 and roster["details"]["expected_players"] == 225
    assert "66 of 225 expected players have no row (29.3%): " in roster["message"]
    assert run.ret == 1


def test_coverage_critical_when_no_rows_but_games_scheduled(warehouse, run_suite):
    warehouse.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [DATE])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    assert run.ret == 1
    coverage = run.verdict("coverage")
    assert (coverage["severity"], coverage["value"]) == ("CRITICAL", 0)
    assert coverage["message"] == "0 records found while 9 games are scheduled"
    # predictions still exist for the date: downstream usage is judged; the rest has no rows
    assert run.verdict("downstream_usage")["severity"] == "OK"
    skipped = [c["dimension"] for c in run.checks() if c["severity"] == "SKIPPED"]
    assert skipped == ["production_readiness", "null_rates", "quality_tiers", "completeness", "staleness",
                       "uniqueness", "value_ranges", "source_consistency", "anomalies", "drift", "continuity"]
    # the other table's rows are there: its checks are judged as ever
    assert {c["severity"] for c in run.checks(COMPOSITE)} == {"OK"}
    assert run.verdict("schema")["severity"] == "OK"  # the table is still as its contract says
    assert run.results["status"] == "CRITICAL"


def test_downstream_usage_warning_without_active_predictions(warehouse, run_suite):
    warehouse.execute("UPDATE nba_predictions.player_prop_predictions SET is_active = FALSE WHERE game_date = ?", [DATE])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("downstream_usage")
    assert (verdict["severity"], verdict["value"]) == ("WARNING", 0)
    assert verdict["message"] == "0 active predictions while 9 games are scheduled"
    assert run.ret == 0
    assert run.results["status"] == "DEGRADED"


@pytest.mark.parametrize(("hours_back", "severity"), [(20, "WARNING"), (45, "ERROR"), (70, "CRITICAL")])
def test_staleness_severities(warehouse, run_suite, hours_back, severity):
    warehouse.execute(
        f"UPDATE nba_precompute.player_daily_cache SET processed_at = processed_at - INTERVAL {hours_back} HOUR "
        "WHERE cache_date = ?", [DATE],
    )
    latest = warehouse.scalar("SELECT MAX(processed_at) FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [DATE])
    deadline = dt.datetime(2026, 2, 5, 14, 0)  # 09:00 EST on the date, in UTC
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("staleness")
    assert verdict["severity"] == severity
    assert verdict["value"] == round((deadline - latest).total_seconds() / 3600, 2)
    # the table landed hours earlier than on any day of its baseline: anomalies names its landing time
    anomalies = run.verdict("anomalies")
    assert anomalies["severity"] == "CRITICAL" and "landing time" in anomalies["message"]
    assert run.ret == 1


def test_several_defects_at_once_each_reported(warehouse, run_suite):
    warehouse.affect_rows(DATE, 13, "is_production_ready = FALSE")
    warehouse.affect_rows(DATE, 30, "ts_pct_last_10 = NULL")
    warehouse.execute("UPDATE nba_predictions.player_prop_predictions SET is_active = FALSE WHERE game_date = ?", [DATE])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    severities = {check["dimension"]: check["severity"] for check in run.checks()}
    assert severities == {
        "arrival": "OK", "coverage": "OK", "production_readiness": "ERROR", "null_rates": "CRITICAL", "quality_tiers": "OK",
        "completeness": "OK", "downstream_usage": "WARNING", "staleness": "OK", "schema": "OK", "uniqueness": "OK",
        "value_ranges": "OK", "source_consistency": "CRITICAL", "anomalies": "ERROR", "drift": "ERROR",
        "continuity": "OK",
    }
    assert "worst ts_pct_last_10 on 30 rows" in run.verdict("source_consistency")["message"]
    # anomalies sees both row shifts against the baseline and names them, worst first
    assert ("2 of 183 metrics off their baseline (7 game days): ts_pct_last_10 NULL % 11.9"
            in run.verdict("anomalies")["message"]) and "% production ready 94.4" in run.verdict("anomalies")["message"]
    assert run.results["status"] == "CRITICAL"
    assert run.results["summary"] == {
        "checks": PER_DATE, "passed": PER_DATE - 5, "warnings": 1, "errors": 3, "critical": 2, "not_evaluated": 0,
        "skipped": 0, "not_run": 0,
    }
    assert run.ret == 1
    assert "Rerun: pytest data_tests --date=2026-02-05" in run.stdout


def test_no_game_day_is_not_an_outage(warehouse, run_suite):
    # the date's games move to the next day: the schedule still covers the date (a game after it),
    # so the day off is known, not assumed (a schedule that ends before it is tested in test_game_days)
    warehouse.execute("UPDATE nba_reference.nba_schedule SET game_date = game_date + 1 WHERE game_date = ?", [DATE])
    warehouse.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [DATE])
    warehouse.execute("DELETE FROM nba_precompute.player_composite_factors WHERE game_date = ?", [DATE])
    warehouse.execute("DELETE FROM nba_predictions.player_prop_predictions WHERE game_date = ?", [DATE])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    assert run.ret == 0
    # coverage: no games is not an outage; schema: the table's structure is judged on any day. Rows
    # on a day off would contradict the schedule (test_game_days); here neither table has any
    assert "6 passed, 19 skipped" in run.stdout   # arrival too: no games, nothing due (OK)
    coverage = run.verdict("coverage")
    assert (coverage["severity"], coverage["message"]) == ("OK", "no games scheduled (0 records found)")
    assert run.verdict("schema")["severity"] == "OK"
    assert run.verdict("coverage", table=COMPOSITE)["message"] == "no games scheduled (0 records found)"
    assert "Summary: 6/6 checks passed, 19 skipped (nothing to judge)" in run.stdout
    assert "Overall Status: ✅ HEALTHY" in run.stdout


def test_missing_table_is_not_evaluated_never_a_pass(warehouse, run_suite):
    warehouse.execute("DROP TABLE nba_precompute.player_daily_cache")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    assert run.ret == 1
    assert f"{len(COMPOSITE_DIMENSIONS)} passed, {CHECKS} errors" in run.stdout
    assert all(check["severity"] == "NOT_EVALUATED" for check in run.checks())
    # one table's missing data never hides the other's verdicts
    assert [(c["dimension"], c["severity"]) for c in run.checks(COMPOSITE)] == [
        (dimension, "OK") for dimension in COMPOSITE_DIMENSIONS]
    message = run.verdict("coverage")["message"]
    assert message == f"not evaluated: table nba_precompute.player_daily_cache not found in {warehouse.path}"
    assert "Traceback" not in run.stdout
    assert run.results["status"] == "UNHEALTHY"
    assert f"Summary: {len(COMPOSITE_DIMENSIONS)}/{PER_DATE} checks passed, {CHECKS} not evaluated" in run.stdout


def test_week_window_judges_every_date_in_one_query(warehouse, run_suite):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=7")
    assert run.ret == 0, run.stdout
    assert run.results["dates"] == [f"2026-01-{day}" for day in (30, 31)] + [f"2026-02-0{day}" for day in range(1, 6)]
    rows = {check["date"]: check["value"] for check in run.results["checks"] if check["dimension"] == "coverage"}
    assert [rows[f"2026-02-0{day}"] for day in range(1, 6)] == [303, 125, 307, 218, 252]
    assert len(run.results["checks"]) == 7 * PER_DATE
    # table by table, in the order the checks need them
    assert [(query["table"], query["purpose"]) for query in run.results["queries"]] == [
        ("player_daily_cache", "metrics"), ("player_daily_cache", "source_consistency"), (COMPOSITE, "metrics")]


def test_an_expired_date_is_skipped_a_recent_empty_one_is_critical(warehouse, run_suite, tmp_path):
    config = tmp_path / "production.toml"
    config.write_text(PRODUCTION_TABLE)
    warehouse.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [DATE])
    warehouse.execute("DELETE FROM nba_predictions.player_prop_predictions WHERE game_date = ?", [DATE])
    from freezegun import freeze_time

    with freeze_time("2026-03-20 15:00:00"):  # 43 days later: past the 30-day partition expiration
        old = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--health-config={config}")
    assert old.ret == 0
    assert old.verdict("coverage")["severity"] == "SKIPPED"
    assert "partition expiration" in old.verdict("coverage")["message"]
    with freeze_time("2026-02-20 15:00:00"):  # 15 days later: those rows should be there
        recent = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--health-config={config}")
    assert recent.ret == 1
    assert recent.verdict("coverage")["severity"] == "CRITICAL"

    # without the setting (the default), an empty old date is CRITICAL: nothing says it expired
    assert run_suite(f"--database={warehouse.path}", "--date=2026-02-05").verdict("coverage")["severity"] == "CRITICAL"



PRODUCTION_TABLE = table_entry(extra="partition_expiration_days = 30")


def test_a_defect_in_the_composite_factors_fails_only_that_tables_checks(warehouse, run_suite):
    warehouse.execute(
        """UPDATE nba_precompute.player_composite_factors SET fatigue_score = NULL WHERE game_date = ? AND player_lookup IN (
               SELECT player_lookup FROM nba_precompute.player_composite_factors WHERE game_date = ?
               ORDER BY player_lookup LIMIT 30)""", [DATE, DATE])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    null_rates = run.verdict("null_rates", table=COMPOSITE)
    assert (null_rates["severity"], null_rates["value"]) == ("CRITICAL", 11.9)
    assert null_rates["message"] == "worst fatigue_score 11.9% NULL (30/252)"
    assert "fatigue_score NULL % 11.9" in run.verdict("anomalies", table=COMPOSITE)["message"]
    assert {c["severity"] for c in run.checks()} == {"OK"}  # the feature cache: every check OK
    failing = {c["dimension"] for c in run.checks(COMPOSITE) if c["severity"] != "OK"}
    assert failing == {"null_rates", "anomalies"}
    assert run.ret == 1 and "player_composite_factors · 2026-02-05" in run.stdout


def test_a_missing_composite_table_never_hides_the_caches_verdicts(warehouse, run_suite):
    warehouse.execute("DROP TABLE nba_precompute.player_composite_factors")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    assert {c["severity"] for c in run.checks(COMPOSITE)} == {"NOT_EVALUATED"}
    assert run.verdict("coverage", table=COMPOSITE)["message"] == (
        f"not evaluated: table nba_precompute.player_composite_factors not found in {warehouse.path}")
    assert [(c["dimension"], c["severity"]) for c in run.checks()] == [(d, "OK") for d in DIMENSIONS]
    assert f"{CHECKS} passed, {len(COMPOSITE_DIMENSIONS)} errors" in run.stdout and run.ret == 1


def test_results_json_groups_the_checks_by_table(warehouse, run_suite):
    warehouse.execute("UPDATE nba_precompute.player_composite_factors SET fatigue_score = NULL WHERE game_date = ?", [DATE])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=2")
    tables = run.results["tables"]
    assert list(tables) == ["player_daily_cache", COMPOSITE]
    assert tables["player_daily_cache"]["status"] == "HEALTHY" and tables[COMPOSITE]["status"] == "CRITICAL"
    # 2026-02-04's anomalies and drift have 6 game days of baseline in this warehouse: skipped, in both tables
    assert tables["player_daily_cache"]["summary"] == {"checks": 2 * CHECKS - 2, "passed": 2 * CHECKS - 2,
                                                       "warnings": 0, "errors": 0, "critical": 0, "not_evaluated": 0,
                                                       "skipped": 2, "not_run": 0}
    assert tables[COMPOSITE]["summary"] == {"checks": 2 * len(COMPOSITE_DIMENSIONS) - 2, "passed": 16, "warnings": 0,
                                            "errors": 0, "critical": 2, "not_evaluated": 0, "skipped": 2,
                                            "not_run": 0}  # fatigue_score NULL: null_rates and anomalies
    assert tables[COMPOSITE]["not_configured"] == ["production_readiness", "quality_tiers", "downstream_usage",
                                                   "source_consistency", "continuity"]
    order = [c["table"] for c in run.results["checks"]]
    assert order == ["player_daily_cache"] * 2 * CHECKS + [COMPOSITE] * 2 * len(COMPOSITE_DIMENSIONS)
    assert run.results["status"] == "CRITICAL"
