"""The BigQuery backend with the official client against a real BigQuery API emulator on loopback."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import math
import threading

import pytest
import requests

from conftest import table_entry

FIRST, LAST = dt.date(2026, 1, 29), dt.date(2026, 2, 5)
WINDOW = ["--date=2026-02-05", "--days=8"]
VOLATILE = {"run_at", "backend", "source", "queries", "metadata_lookups"}  # where the two runs rightly differ
# the checks before issue 18: drift's and continuity's parity (learned edges within one bin) is
# tests/test_distributions_bigquery.py's; the emulator takes tens of seconds over their bins
OLD_DIMENSIONS = ["-m", "not drift and not continuity"]


def day(number: int) -> dt.date:
    return FIRST + dt.timedelta(days=number)


def rows_on(warehouse, check_date) -> int:
    return warehouse.scalar("SELECT count(*) FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [check_date])


def share(warehouse, check_date, percent: float, assignment: str) -> None:
    warehouse.affect_rows(check_date, math.ceil(rows_on(warehouse, check_date) * percent / 100), assignment)


def shift_processed_at(warehouse, check_date, hours: int) -> None:
    warehouse.execute(
        f"UPDATE nba_precompute.player_daily_cache SET processed_at = processed_at - INTERVAL {hours} HOUR "
        "WHERE cache_date = ?", [check_date])


# Approximate statistics. Distinct counts: the DuckDB backend counts exactly, and so does the
# emulator (real BigQuery's HLL++ is exact or within ~1 % at a date's sizes). Medians: the DuckDB
# backend computes the exact one; the profile asks for APPROX_QUANTILES(x, 100)[OFFSET(50)], which
# bqemulator 1.4.0 reads one element late (see test_emulator_misindexes_approx_quantiles): its 51st
# percentile. Medians are compared within 10 % of the column's range that day (one unit for whole
# numbers), or, on a light slate where two neighbouring values lie far apart, the emulator's value
# must be one of the column's values between its exact 49th and 53rd percentiles; the anomalies
# scores built on them within 1.5.

TABLES = {"player_daily_cache": ("nba_precompute.player_daily_cache", "cache_date"),
          "player_composite_factors": ("nba_precompute.player_composite_factors", "game_date")}


def near_the_middle(warehouse, table: str, check_date: str, column: str, value: float) -> bool:
    ref, date_column = TABLES[table]
    low, high = warehouse.execute_one(f"SELECT quantile_disc({column}, 0.49), quantile_disc({column}, 0.53) "
                                      f"FROM {ref} WHERE {date_column} = ?", [dt.date.fromisoformat(check_date)])
    return float(low) <= value <= float(high)


def assert_profiles_match(bigquery: dict, duckdb: dict, warehouse=None) -> None:
    assert bigquery.keys() == duckdb.keys()
    for table, expected in duckdb.items():
        actual = bigquery[table]
        assert actual["flagged"] == expected["flagged"]
        assert actual["columns"].keys() == expected["columns"].keys()
        for check_date, columns in expected["columns"].items():
            assert actual["columns"][check_date].keys() == columns.keys()
            for column, stats in columns.items():
                other = actual["columns"][check_date][column]
                assert other.keys() == stats.keys(), (check_date, column)
                for name, value in stats.items():
                    where = (check_date, column, name)
                    if name == "median" and value is not None:
                        width = max(abs(stats["max"] - stats["min"]), 1e-9)
                        step = 1.0 if float(value).is_integer() and float(other[name]).is_integer() else 0.0
                        assert abs(other[name] - value) <= max(0.1 * width, step) or (
                            warehouse is not None and near_the_middle(warehouse, table, check_date, column, other[name])), where
                        continue
                    if isinstance(value, float):  # the JSON rounds to 6 decimals: a tie may round either way
                        assert other[name] == pytest.approx(value, rel=1e-9, abs=1.01e-6), where
                    else:
                        assert other[name] == value, where


def assert_checks_match(bigquery: list, duckdb: list) -> None:
    """Every verdict alike; the anomalies drifts alike, medians within the profile's tolerance."""
    assert len(bigquery) == len(duckdb)
    for other, check in zip(bigquery, duckdb):
        if check["dimension"] != "anomalies":
            assert other == check
            continue
        assert {key: other[key] for key in ("table", "date", "severity")} == \
            {key: check[key] for key in ("table", "date", "severity")}
        drifts = {drift["metric"]: drift for drift in check["details"].get("drifts", [])}
        others = {drift["metric"]: drift for drift in other["details"].get("drifts", [])}
        assert others.keys() == drifts.keys()
        assert {m for m, d in others.items() if d["flagged"]} == {m for m, d in drifts.items() if d["flagged"]}
        for metric, drift in drifts.items():
            if metric.startswith("median:"):  # the 51st percentile against the exact median: a step at most
                assert abs(others[metric]["score"] - drift["score"]) <= 1.5, (check["date"], metric)
            else:
                numbers = lambda d: {key: value for key, value in d.items() if isinstance(value, float)}
                assert numbers(others[metric]) == pytest.approx(numbers(drift), rel=1e-6, abs=1e-6), (check["date"], metric)
                assert others[metric]["flagged"] == drift["flagged"]


def test_emulator_misindexes_approx_quantiles(bigquery_emulator):
    """Pins the emulator bug the parity test works around: when this fails, compare medians too."""
    client = bigquery_emulator.client("quantiles")
    rows = list(client.query("SELECT APPROX_QUANTILES(x, 2) AS q, APPROX_QUANTILES(x, 2)[OFFSET(1)] AS median "
                             "FROM UNNEST([1, 2, 3, 4, 5, 6, 7, 8, 9]) AS x").result())
    assert list(rows[0]["q"]) == [1, 5, 9]
    assert rows[0]["median"] == 9  # BigQuery returns 5


def warnings_case(warehouse):
    share(warehouse, day(0), 3, "is_production_ready = FALSE")
    share(warehouse, day(1), 3, "minutes_avg_last_10 = NULL")
    share(warehouse, day(2), 3, "quality_tier = 'POOR'")
    share(warehouse, day(3), 3, "all_windows_complete = FALSE")
    # 4 games on 2026-02-02: keep 9 rows of every playing team (below 10 per team, none without rows)
    warehouse.execute(
        "DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND player_lookup IN ("
        "SELECT player_lookup FROM (SELECT player_lookup, ROW_NUMBER() OVER (PARTITION BY team_abbr "
        "ORDER BY player_lookup) AS position FROM nba_precompute.player_daily_cache WHERE cache_date = ?) "
        "WHERE position > 9)", [day(4), day(4)])
    # one ts_pct_last_10 written as a percentage: a value out of range, under 1 % of rows
    warehouse.affect_rows(day(5), 1, "ts_pct_last_10 = ts_pct_last_10 * 100")
    warehouse.execute("UPDATE nba_predictions.player_prop_predictions SET is_active = FALSE WHERE game_date = ?", [day(5)])
    shift_processed_at(warehouse, day(6), 20)
    warehouse.execute("UPDATE nba_precompute.player_daily_cache SET quality_tier = NULL WHERE cache_date = ?", [day(7)])
    return {(day(0), "production_readiness"): "WARNING", (day(1), "null_rates"): "WARNING",
            (day(2), "quality_tiers"): "WARNING", (day(3), "completeness"): "WARNING",
            (day(4), "coverage"): "WARNING", (day(5), "downstream_usage"): "WARNING",
            (day(5), "value_ranges"): "WARNING",
            (day(6), "staleness"): "WARNING", (day(7), "quality_tiers"): "WARNING",
            (day(7), "anomalies"): "CRITICAL",  # quality_tier, filled all week, NULL on every row
            # a stat feature NULL where the box scores have it (3 % > 2); the players dropped by team
            (day(1), "source_consistency"): "ERROR", (day(4), "source_consistency"): "ERROR"}


def errors_case(warehouse):
    share(warehouse, day(0), 7, "is_production_ready = FALSE")
    share(warehouse, day(1), 7, "ts_pct_last_10 = NULL")
    share(warehouse, day(2), 7, "quality_tier = 'POOR'")
    share(warehouse, day(3), 7, "all_windows_complete = FALSE")
    warehouse.execute("INSERT INTO nba_precompute.player_daily_cache SELECT * FROM nba_precompute.player_daily_cache "
                      "WHERE cache_date = ? ORDER BY player_lookup LIMIT 3", [day(4)])  # 3 rows written twice
    share(warehouse, day(5), 3, "games_in_last_7_days = 6")
    shift_processed_at(warehouse, day(6), 45)
    return {(day(0), "production_readiness"): "ERROR", (day(1), "null_rates"): "ERROR",
            (day(2), "quality_tiers"): "ERROR", (day(3), "completeness"): "ERROR", (day(4), "uniqueness"): "ERROR",
            (day(5), "value_ranges"): "ERROR", (day(6), "staleness"): "ERROR",
            (day(1), "source_consistency"): "ERROR"}


def critical_case(warehouse):
    share(warehouse, day(0), 15, "is_production_ready = NULL")
    share(warehouse, day(1), 15, "points_avg_last_10 = NULL")
    share(warehouse, day(2), 15, "quality_tier = 'POOR'")
    share(warehouse, day(3), 15, "all_windows_complete = NULL")
    warehouse.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [day(4)])
    for table, column in (("nba_reference.nba_schedule", "game_date"),
                          ("nba_precompute.player_daily_cache", "cache_date"),
                          ("nba_precompute.player_composite_factors", "game_date"),
                          ("nba_predictions.player_prop_predictions", "game_date")):
        # a no-game day: no rows in any table (rows on it would contradict the schedule)
        warehouse.execute(f"DELETE FROM {table} WHERE {column} = ?", [day(5)])
    shift_processed_at(warehouse, day(6), 70)
    share(warehouse, day(7), 6, "primary_scoring_zone = 'post'")
    return {(day(7), "value_ranges"): "CRITICAL",
            (day(0), "production_readiness"): "CRITICAL", (day(1), "null_rates"): "CRITICAL",
            (day(2), "quality_tiers"): "CRITICAL", (day(3), "completeness"): "CRITICAL",
            (day(4), "coverage"): "CRITICAL", (day(4), "staleness"): "SKIPPED",
            (day(5), "coverage"): "OK", (day(5), "null_rates"): "SKIPPED", (day(6), "staleness"): "CRITICAL",
            (day(1), "source_consistency"): "CRITICAL",
            # 5 game days with rows before the last date (a day emptied, a no-game day): under 7
            (day(7), "anomalies"): "SKIPPED"}


@pytest.mark.parametrize("case", [lambda warehouse: {}, warnings_case, errors_case, critical_case],
                         ids=["healthy", "warnings", "errors", "critical"])
def test_parity_with_duckdb_check_for_check(warehouse, run_suite, bigquery_emulator, case, request):
    expected = case(warehouse)
    project = f"parity-{request.node.callspec.id}"
    bigquery_emulator.load(project, warehouse.path)

    duckdb_run = run_suite(f"--database={warehouse.path}", *WINDOW, *OLD_DIMENSIONS)
    bigquery_run = run_suite(*OLD_DIMENSIONS, "--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}",
                             f"--project={project}", *WINDOW)

    assert len(duckdb_run.results["checks"]) == 8 * (13 + 9)  # both tables
    strip = lambda document: {key: value for key, value in document.items()
                              if key not in VOLATILE | {"rerun", "profile", "checks", "history"}}
    assert strip(bigquery_run.results) == strip(duckdb_run.results)
    assert_checks_match(bigquery_run.results["checks"], duckdb_run.results["checks"])
    assert_profiles_match(bigquery_run.results["profile"], duckdb_run.results["profile"], warehouse)
    assert bigquery_run.ret == duckdb_run.ret
    severities = {(dt.date.fromisoformat(c["date"]), c["dimension"]): c["severity"] for c in bigquery_run.checks()}
    # the defects are the cache's: the composite factors stay OK (anomalies skipped until 7 game days)
    assert {c["severity"] for c in bigquery_run.checks("player_composite_factors")
            if not (c["dimension"] == "anomalies" and c["date"] < str(day(7)))} <= {"OK", "SKIPPED"}
    for key, severity in expected.items():
        assert severities[key] == severity, key
    # anomalies: no baseline before the window's last date (7 game days needed), judged on it
    first_days = {key: value for key, value in severities.items() if key[1] == "anomalies" and key[0] < day(7)}
    assert set(first_days.values()) == {"SKIPPED"} and len(first_days) == 7
    unexpected = {key: value for key, value in severities.items()
                  if key not in expected and value not in ("OK",) and key not in first_days}
    assert unexpected == ({} if case is not critical_case else {
        (day(5), dimension): "SKIPPED" for dimension in
        ("production_readiness", "quality_tiers", "completeness", "downstream_usage", "staleness", "uniqueness",
         "value_ranges", "source_consistency")
    } | {(day(4), dimension): "SKIPPED" for dimension in
         ("production_readiness", "null_rates", "quality_tiers", "completeness", "uniqueness", "value_ranges",
          "source_consistency")} | {(day(4), "arrival"): "CRITICAL"})   # not landed by ready_by, at 09:00
    queries = bigquery_run.results["queries"]
    # one per table (the weekly sections included) and the source check's
    assert [(query["table"], query["purpose"]) for query in queries] == [
        ("player_daily_cache", "metrics"), ("player_daily_cache", "source_consistency"),
        ("player_composite_factors", "metrics")]
    assert {query["bytes_processed"] for query in queries} == {0}  # the emulator reports 0 bytes
    # the verdict lines people read are the same, backend line aside
    lines = lambda run: [line.split("; largest score")[0] for line in run.stdout.splitlines()
                         if line[:2] in ("✅ ", "⚠️", "❌ ", "🚨 ", "➖ ")]
    assert lines(bigquery_run) == lines(duckdb_run)
    # and so are the weekly sections: trends per date and the most common issues
    weekly = lambda run: [line for line in run.stdout.splitlines() if line.startswith(("2026-", "Most common"))]
    assert len(weekly(duckdb_run)) == (2 * 8 + 2) + (2 * 8 + 1) and weekly(bigquery_run) == weekly(duckdb_run)


def test_jobs_carry_labels_and_date_parameters(warehouse, run_suite, bigquery_emulator):
    bigquery_emulator.load("labels", warehouse.path)
    run = run_suite("--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}", "--project=labels",
                    "--date=2026-02-05", "--days=3")
    assert run.ret == 0
    query, source, composite = run.results["queries"]  # for three dates, the weekly sections included
    assert [q["purpose"] for q in (query, source, composite)] == ["metrics", "source_consistency", "metrics"]
    assert query["labels"] == {"app": "feature-store-health", "check-date": "2026-02-05", "days": "3",
                               "table": "player_daily_cache"}
    assert composite["labels"]["table"] == "player_composite_factors" and source["labels"] == query["labels"]
    # the job as the emulator holds it (it keeps a finished job's labels empty, so those are read above)
    job = bigquery_emulator.client("labels").get_job(query["job_id"])
    assert "2026" not in job.query  # dates are parameters, never SQL text
    assert "@start_date" in job.query and "@end_date" in job.query
    assert [check["date"] for check in run.checks() if check["dimension"] == "coverage"] == [
        "2026-02-03", "2026-02-04", "2026-02-05"]
    assert "cache_date BETWEEN @start_date AND @end_date" in job.query


def test_missing_table_fails_only_that_tables_checks(warehouse, run_suite, bigquery_emulator, tmp_path):
    bigquery_emulator.load("one-table", warehouse.path)
    config = tmp_path / "two-tables.toml"
    config.write_text(_two_tables_config())
    run = run_suite("--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}", "--project=one-table",
                    "--date=2026-02-05", f"--health-config={config}")
    assert run.ret == 1
    by_table = {}
    for check in run.results["checks"]:
        by_table.setdefault(check["table"], set()).add(check["severity"])
    assert by_table == {"player_daily_cache": {"OK"}, "player_daily_cache_v2": {"NOT_EVALUATED"}}
    message = next(c["message"] for c in run.results["checks"] if c["table"] == "player_daily_cache_v2")
    assert message == (
        "not evaluated: nba_precompute.player_daily_cache_v2: Not found: table:one-table.nba_precompute.player_daily_cache_v2; "
        "check the dataset and table names in the configuration and --project")
    # no contract and no value ranges in this config: 10 dimensions apply (arrival too), none collected for nothing
    assert "10 passed, 5 deselected, 10 errors" in run.stdout and "skipped" not in run.stdout
    assert "Traceback" not in run.stdout


def test_dry_run_prints_planned_queries_and_runs_no_check(warehouse, run_suite, bigquery_emulator, tmp_path):
    bigquery_emulator.load("dry", warehouse.path)
    args = ["--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}", "--project=dry",
            "--date=2026-02-05", "--dry-run"]
    run = run_suite(*args)
    assert run.ret == 0
    # each table's aggregate query and the source check's
    assert "Dry run: 3 planned queries for 2026-02-05..2026-02-05" in run.stdout
    assert "FROM `nba_precompute.player_daily_cache`" in run.stdout
    assert "-- player_daily_cache (source_consistency): @start_date = 2026-02-05" in run.stdout
    assert "FROM `nba_analytics.player_game_summary`" in run.stdout
    assert run.stdout.count("-- ✅ valid; estimated bytes processed: 0 bytes") == 3
    assert "-- ✅ valid; estimated bytes processed: 0 bytes" in run.stdout
    assert run.results is None and "passed" not in run.stdout
    config = tmp_path / "two-tables.toml"
    config.write_text(_two_tables_config())
    failing = run_suite(*args, f"--health-config={config}")
    assert failing.ret == 1
    assert ("-- ❌ would fail: nba_precompute.player_daily_cache_v2: Not found: table:dry.nba_precompute.player_daily_cache_v2"
            in failing.stdout)


def test_emulator_stopped_mid_run_gives_errors(warehouse, pytester, run_suite, tmp_path):
    from conftest import start_emulator

    emulator = start_emulator(tmp_path / "emulator.log")
    try:
        emulator.load("doomed", warehouse.path)
        # stop the emulator once the tests are collected, before the first query
        pytester.makeconftest(
            "import os, signal\n"
            "def pytest_collection_finish(session):\n"
            f"    os.kill({emulator.process.pid}, signal.SIGKILL)\n"
        )
        run = run_suite("--backend=bigquery", f"--bigquery-endpoint={emulator.url}", "--project=doomed",
                        "--date=2026-02-05", "--query-timeout=3")
    finally:
        emulator.stop()
    assert run.ret == 1
    assert {check["severity"] for check in run.results["checks"]} == {"NOT_EVALUATED"}
    message = run.results["checks"][0]["message"]
    assert message.startswith(f"not evaluated: nba_precompute.player_daily_cache: BigQuery is unreachable at {emulator.url}: "
                              "gave up after retrying for 3 s (--query-timeout)")
    assert "Overall Status: ❌ UNHEALTHY" in run.stdout
    assert "Traceback" not in run.stdout


class FlakyProxy(http.server.ThreadingHTTPServer):
    """A loopback proxy in front of the emulator that answers 503 to the first query submissions."""

    def __init__(self, upstream: str, failures: int):
        self.upstream, self.failures, self.seen = upstream, failures, []
        super().__init__(("127.0.0.1", 0), _ProxyHandler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _forward(self):
        server: FlakyProxy = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
        submitting = self.command == "POST" and self.path.split("?")[0].endswith("/jobs")
        server.seen.append((self.command, self.path.split("?")[0]))
        if submitting and server.failures > 0:
            server.failures -= 1
            payload = json.dumps({"error": {"code": 503, "message": "backend unavailable",
                                            "errors": [{"reason": "backendError", "message": "backend unavailable"}]}})
            self.send_response(503)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload.encode())
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        upstream = requests.request(self.command, server.upstream + self.path, data=body, headers=headers, timeout=30)
        self.send_response(upstream.status_code)
        for key, value in upstream.headers.items():
            if key.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(upstream.content)))
        self.end_headers()
        self.wfile.write(upstream.content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _forward


def test_transient_errors_are_retried(warehouse, run_suite, bigquery_emulator):
    bigquery_emulator.load("flaky", warehouse.path)
    proxy = FlakyProxy(bigquery_emulator.url, failures=2)
    thread = threading.Thread(target=proxy.serve_forever, daemon=True)
    thread.start()
    try:
        run = run_suite(*OLD_DIMENSIONS, "--backend=bigquery", f"--bigquery-endpoint={proxy.url}", "--project=flaky",
                        "--date=2026-02-05", "--query-timeout=30")
    finally:
        proxy.shutdown()
    assert run.ret == 0, run.stdout
    assert proxy.failures == 0
    submissions = [path for method, path in proxy.seen if method == "POST" and path.endswith("/jobs")]
    assert len(submissions) == 5  # two 503s, then the three jobs that ran (two tables, the source check)
    assert run.results["status"] == "HEALTHY"


def test_missing_credentials_say_how_to_authenticate(run_suite, monkeypatch, tmp_path):
    for variable in ("GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CLOUD_PROJECT", "BIGQUERY_EMULATOR_HOST"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud"))
    # no metadata-server probe leaves this machine: loopback, closed port
    monkeypatch.setenv("NO_GCE_CHECK", "True")
    monkeypatch.setenv("GCE_METADATA_HOST", "127.0.0.1:9")
    monkeypatch.setenv("GCE_METADATA_IP", "127.0.0.1:9")
    run = run_suite("--backend=bigquery", "--project=my-project", "--date=2026-02-05")
    assert run.ret == 1
    assert {c["severity"] for c in run.results["checks"]} == {"NOT_EVALUATED"}
    assert run.results["checks"][0]["message"] == (
        "not evaluated: no Google credentials found: authenticate with `gcloud auth application-default login`, "
        "or set GOOGLE_APPLICATION_CREDENTIALS to a service-account key file")


def _two_tables_config() -> str:
    return table_entry() + table_entry("player_daily_cache_v2", "nba_precompute.player_daily_cache_v2")


def test_schema_changes_on_bigquery_match_duckdb_and_bill_nothing(warehouse, run_suite, bigquery_emulator, tmp_path):
    """A dropped, a retyped and an extra column, read from the table's metadata (no job, no bytes)."""
    from conftest import ROOT
    from feature_store_health.warehouse import load_fixture

    altered = tmp_path / "altered.duckdb"
    load_fixture(ROOT, "alter_warehouse").alter(
        warehouse.path, altered, drop=("usage_rate_last_10",), retype=(("games_played_season", "VARCHAR"),),
        add=(("scratch_note", "VARCHAR"),))
    bigquery_emulator.load("schema-changes", altered)
    duckdb_run = run_suite(f"--database={altered}", "--date=2026-02-05", *OLD_DIMENSIONS)
    bigquery_run = run_suite(*OLD_DIMENSIONS, "--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}",
                             "--project=schema-changes", "--date=2026-02-05")
    for run in (duckdb_run, bigquery_run):
        schema = run.verdict("schema")
        assert schema["severity"] == "CRITICAL"
        assert (schema["details"]["missing"], schema["details"]["extra"]) == (["usage_rate_last_10"], ["scratch_note"])
        assert schema["details"]["retyped"] == [{"column": "games_played_season", "contract": "INT64", "live": "STRING"}]
        assert run.verdict("null_rates")["severity"] == "NOT_EVALUATED"
        assert run.verdict("source_consistency")["message"] == (  # it reads both
            "not evaluated: column usage_rate_last_10 is missing from nba_precompute.player_daily_cache; column "
            "games_played_season is STRING in nba_precompute.player_daily_cache, the contract says INT64")
    strip = lambda document: {key: value for key, value in document.items()
                              if key not in VOLATILE | {"rerun", "profile", "checks", "history"}}
    assert strip(bigquery_run.results) == strip(duckdb_run.results)
    assert_checks_match(bigquery_run.results["checks"], duckdb_run.results["checks"])
    assert_profiles_match(bigquery_run.results["profile"], duckdb_run.results["profile"])
    # the schema came from the tables' metadata: the run's only jobs are the aggregate queries (the
    # source query reads the missing column: not run)
    assert [(q["table"], q["purpose"]) for q in bigquery_run.results["queries"]] == [
        ("player_daily_cache", "metrics"), ("player_composite_factors", "metrics")]
    assert [lookup["table"] for lookup in bigquery_run.results["metadata_lookups"]] == [
        "player_daily_cache", "player_composite_factors"]
    jobs = list(bigquery_emulator.client("schema-changes").list_jobs())
    assert sorted(job.job_id for job in jobs if job.job_type == "query") == sorted(
        query["job_id"] for query in bigquery_run.results["queries"])


@pytest.mark.parametrize("days", [1, 7, 30])
def test_one_query_job_per_run_for_any_window(healthy_warehouse_file, run_suite, bigquery_emulator, days):
    """One query job per table per run (the profile and every dimension) and one for
    source_consistency, plus one metadata lookup per table, which is no job: counted in the
    emulator's own job list."""
    project = f"count-{days}"
    bigquery_emulator.load(project, healthy_warehouse_file)
    client = bigquery_emulator.client(project)
    before = {job.job_id for job in client.list_jobs() if job.job_type == "query"}
    run = run_suite("--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}", f"--project={project}",
                    "--date=2026-02-05", f"--days={days}")
    new = [job.job_id for job in client.list_jobs() if job.job_type == "query" and job.job_id not in before]
    assert sorted(new) == sorted(query["job_id"] for query in run.results["queries"]) and len(new) == 3
    assert sorted((q["table"], q["purpose"]) for q in run.results["queries"]) == [
        ("player_composite_factors", "metrics"), ("player_daily_cache", "metrics"),
        ("player_daily_cache", "source_consistency")]
    assert len(run.results["metadata_lookups"]) == 2
    assert len(run.results["checks"]) == 25 * days and run.ret == 0


def test_history_table_created_loaded_once_and_read_once_per_run(healthy_warehouse_file, run_suite, bigquery_emulator):
    """The BigQuery history: created on the first write (partitioned by check_date, no expiry,
    clustered), one load job and one history query per run, beside the one data query."""
    project = "history"
    bigquery_emulator.load(project, healthy_warehouse_file)
    client = bigquery_emulator.client(project)
    client.create_dataset("feature_store_health_history", exists_ok=True)
    ref = "feature_store_health_history.metric_history"

    def jobs() -> dict[str, str]:
        return {job.job_id: job.job_type for job in client.list_jobs()}

    runs = []
    for day in ("2026-02-04", "2026-02-05"):
        before = jobs()
        run = run_suite("--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}", f"--project={project}",
                        f"--date={day}", f"--history={ref}")
        assert run.ret == 0, run.stdout
        new = {job_id: kind for job_id, kind in jobs().items() if job_id not in before}
        # the data queries (one per table, the source check's) and the history read
        assert sorted(new.values()) == ["load", "query", "query", "query", "query"]
        assert {query["job_id"] for query in run.results["queries"]} < set(new)
        runs.append(run)
    table = client.get_table(ref)
    assert table.time_partitioning.field == "check_date" and table.time_partitioning.expiration_ms is None
    assert table.clustering_fields == ["table_name", "name"]
    first, second = runs
    assert first.results["history"]["read"]["dates"] == 0
    assert first.results["queries"][0]["rows"] == 46   # widened to the 45 days the history lacked
    assert first.results["queries"][2]["rows"] == 46   # the composite factors' query too
    assert second.results["history"]["read"]["dates"] == 2 * 45  # what the first run recorded, read back
    assert second.results["queries"][0]["rows"] == 1  # so the data query stays on its date
    assert second.verdict("anomalies")["severity"] == "OK"
    assert second.verdict("anomalies")["details"]["baseline_days"] == 7
    assert "History: read 90 table-dates" in second.stdout and ref in second.stdout
    recorded = list(client.query(f"SELECT COUNT(DISTINCT run_id) AS runs, COUNT(DISTINCT check_date) AS dates "
                                 f"FROM `{project}.{ref}`").result())[0]
    assert (recorded["runs"], recorded["dates"]) == (2, 47)


def test_source_consistency_parity_on_the_emulator(warehouse, run_suite, bigquery_emulator):
    """The source query on the emulator: DNPs counted for some players, a feature copied from
    another column and players dropped, judged alike by both backends, samples included."""
    from test_source_consistency import DATE, dnp_counted, expected_players

    dnp_counted(warehouse, 8)
    warehouse.execute("UPDATE nba_precompute.player_daily_cache SET ts_pct_last_10 = usage_rate_last_10 / 100 "
                      "WHERE cache_date = ? AND player_lookup IN (SELECT player_lookup FROM "
                      "nba_precompute.player_daily_cache WHERE cache_date = ? ORDER BY player_lookup DESC LIMIT 5)",
                      [DATE, DATE])
    gone = [player for player, _ in expected_players(warehouse)[100:107]]
    warehouse.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND player_lookup IN ("
                      + ", ".join(f"'{player}'" for player in gone) + ")", [DATE])
    bigquery_emulator.load("source-parity", warehouse.path)
    args = ["--date=2026-02-05", "--days=2", *OLD_DIMENSIONS]
    duckdb_run = run_suite(f"--database={warehouse.path}", *args)
    bigquery_run = run_suite("--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}",
                             "--project=source-parity", *args)
    verdicts = [run.verdict("source_consistency", "2026-02-05") for run in (duckdb_run, bigquery_run)]
    assert verdicts[0] == verdicts[1]
    verdict = verdicts[0]
    assert verdict["severity"] == "ERROR"   # 13 of 245 rows off (5.3 %), 7 of 225 players missing (3.1 %)
    assert (verdict["details"]["mismatched_rows"], verdict["details"]["missing_players"]) == (13, 7)
    assert verdict["details"]["mismatches"]["ts_pct_last_10"] == 5 and verdict["details"]["missing"] == sorted(gone)
    assert duckdb_run.verdict("source_consistency", "2026-02-04") == bigquery_run.verdict("source_consistency", "2026-02-04")
    assert duckdb_run.verdict("source_consistency", "2026-02-04")["severity"] == "OK"
    assert_checks_match(bigquery_run.results["checks"], duckdb_run.results["checks"])  # both tables, every check
    assert [q["purpose"] for q in bigquery_run.results["queries"]] == ["metrics", "source_consistency", "metrics"]


def test_source_faults_parity_on_the_emulator(warehouse, run_suite, bigquery_emulator):
    """The source's own faults on the emulator: a date the schedule gives no season, duplicated box
    scores (one of them three times), a team's box scores without a season, judged and named alike
    by both backends."""
    from test_source_consistency import DATE, duplicate_box_scores, unseason_box_scores, unseason_schedule

    doubled = duplicate_box_scores(warehouse, 3)
    duplicate_box_scores(warehouse, 1, order="DESC", copies=3)
    unseasoned = unseason_box_scores(warehouse, "s.game_date = DATE '2026-02-03' AND s.team_abbr = 'BOS'")
    unseason_schedule(warehouse, DATE - dt.timedelta(days=1))
    bigquery_emulator.load("source-faults", warehouse.path)
    args = ["--date=2026-02-05", "--days=2", "-m", "source_consistency"]
    duckdb_run = run_suite(f"--database={warehouse.path}", *args)
    bigquery_run = run_suite("--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}",
                             "--project=source-faults", *args)
    assert_checks_match(bigquery_run.results["checks"], duckdb_run.results["checks"])
    no_season, duplicated = duckdb_run.checks()
    assert (no_season["severity"], duplicated["severity"]) == ("NOT_EVALUATED", "NOT_EVALUATED")
    assert "nba_reference.nba_schedule.season_year is NULL for the 8 games of 2026-02-04" in no_season["message"]
    assert [(d["player"], d["copies"]) for d in duplicated["details"]["duplicates"]][:3] == \
        [(player, 2) for player, _ in doubled]
    assert duplicated["details"]["duplicates"][3]["copies"] == 3 and duplicated["details"]["mismatched_rows"] == 0
    assert duplicated["details"]["no_season"] == [{"player": player, "game_date": day} for player, day in unseasoned]
    assert (duplicated["details"]["not_compared_rows"], len(unseasoned)) == (14, 10)
    assert [q["purpose"] for q in bigquery_run.results["queries"]] == ["source_consistency"]
