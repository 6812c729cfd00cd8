"""Every Google API call ends within --query-timeout, retries included: a 5xx storm or a call that
never succeeds gives one line and a summary, never a run that outlives Cloud Run's task timeout."""

from __future__ import annotations

import time

from loopback_http import BigQueryProxy

DATE = "2026-02-05"
OLD_DIMENSIONS = ["-m", "not drift and not continuity"]   # the 22 checks before issue 18
MISSING = "no_such_dataset.metric_history"
DEFAULT_HISTORY = "feature_store_health.metric_history"  # the configuration's, as on Cloud Run


def test_a_missing_history_dataset_ends_within_the_query_timeout(healthy_warehouse_file, run_suite, bigquery_emulator):
    """The emulator answers 500 to creating a table in a dataset that does not exist: the client
    retried it for its default ten minutes, after the checks and before any summary."""
    bigquery_emulator.load("missing-history", healthy_warehouse_file)
    started = time.monotonic()
    # drift and continuity left out: the emulator takes longer than the 15 s timeout over their bins
    # and learned values on a first run (real BigQuery does not); tests/test_distributions_bigquery.py
    run = run_suite(*OLD_DIMENSIONS, "--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}", "--project=missing-history",
                    f"--date={DATE}", f"--history={MISSING}", "--query-timeout=15")
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"the run took {elapsed:.0f} s"
    # nothing recorded yet (the read finds no table): every check judged, the baselines from the warehouse
    assert run.results["history"]["read"]["dates"] == 0
    assert {c["severity"] for c in run.results["checks"]} == {"OK"} and len(run.results["checks"]) == 22
    assert run.verdict("anomalies")["details"]["baseline_days"] == 7
    error = (f"history missing-history.{MISSING}: cannot write it: still failing after retries for 15 s: "
             "BigQuery error 500: An internal error occurred")
    assert [line for line in run.stdout.splitlines() if "history not written" in line] == [
        f"ERROR: history not written: {error}"]
    assert run.results["history"]["write"] == {"error": error}
    assert "Summary: 22/22 checks passed" in run.stdout and "Traceback" not in run.stdout
    assert run.ret == 1  # an output not written fails the run, whatever the data's verdict


def run_through(proxy: BigQueryProxy, run_suite, project: str, query_timeout: str = "3"):
    """The suite against ``proxy`` (closed after): the run and its wall time in seconds."""
    started = time.monotonic()
    try:
        run = run_suite("--backend=bigquery", f"--bigquery-endpoint={proxy.url}", f"--project={project}",
                        f"--date={DATE}", f"--history={DEFAULT_HISTORY}", f"--query-timeout={query_timeout}")
    finally:
        proxy.close()
    return run, time.monotonic() - started


def test_a_5xx_storm_on_every_call_ends_within_the_query_timeout(run_suite):
    """Every BigQuery REST call answers 503 (a loopback server): the metadata lookups and the
    history's write (table creation) each give up after --query-timeout, one line each."""
    storm = BigQueryProxy(None)
    run, elapsed = run_through(storm, run_suite, "stormy")
    assert elapsed < 30, f"the run took {elapsed:.0f} s"
    failing = "still failing after retries for 3 s: BigQuery error 503: backend unavailable"
    assert {c["severity"] for c in run.results["checks"]} == {"NOT_EVALUATED"} and len(run.results["checks"]) == 25
    for table in ("player_daily_cache", "player_composite_factors"):  # the metadata lookup comes first
        assert {c["message"] for c in run.results["checks"] if c["table"] == table} == {
            f"not evaluated: nba_precompute.{table}: {failing}"}
        assert len(storm.requests("GET", f"/projects/stormy/datasets/nba_precompute/tables/{table}")) >= 2
    error = f"history stormy.{DEFAULT_HISTORY}: cannot write it: {failing}"
    assert run.results["history"]["write"] == {"error": error}
    assert [line for line in run.stdout.splitlines() if "history not written" in line] == [
        f"ERROR: history not written: {error}"]
    assert len(storm.requests("POST", "/projects/stormy/datasets/feature_store_health/tables")) >= 2
    assert "Overall Status: ❌ UNHEALTHY" in run.stdout and "Traceback" not in run.stdout
    assert run.ret == 1


def test_failing_query_submissions_end_within_the_query_timeout(healthy_warehouse_file, run_suite, bigquery_emulator):
    """Every query submission answers 503 (a proxy in front of the emulator), the metadata and the
    history's write work: the data queries and the history's read each give up after --query-timeout."""
    bigquery_emulator.load("failing-queries", healthy_warehouse_file)
    bigquery_emulator.client("failing-queries").create_dataset("feature_store_health", exists_ok=True)
    jobs = "/bigquery/v2/projects/failing-queries/jobs"
    proxy = BigQueryProxy(bigquery_emulator.url, fails=lambda method, path: method == "POST" and path == jobs)
    run, elapsed = run_through(proxy, run_suite, "failing-queries")
    assert elapsed < 45, f"the run took {elapsed:.0f} s"
    failing = "still failing after retries for 3 s: BigQuery error 503: backend unavailable"
    by_table = {}
    for check in run.results["checks"]:
        by_table.setdefault(check["table"], {}).setdefault(check["severity"], set()).add(check["message"])
    assert by_table == {  # the schema from the metadata (no job), every other check's query failed
        "player_daily_cache": {"OK": {"76 columns as the contract says"},
                               "NOT_EVALUATED": {f"not evaluated: player_daily_cache: {failing}"}},
        "player_composite_factors": {"OK": {"49 columns as the contract says"},
                                     "NOT_EVALUATED": {f"not evaluated: player_composite_factors: {failing}"}}}
    history = f"history failing-queries.{DEFAULT_HISTORY}"
    assert run.results["history"]["read"] == {"error": f"{history}: cannot read it: {failing}"}
    assert run.results["history"]["write"]["rows"] > 0  # the verdicts recorded
    # the three data queries and the history's read, each retried
    assert len(proxy.requests("POST", jobs)) >= 2 * 4
    assert "Overall Status: ❌ UNHEALTHY" in run.stdout and "Traceback" not in run.stdout
    assert run.ret == 1


def test_a_failing_history_upload_ends_within_the_query_timeout(healthy_warehouse_file, run_suite, bigquery_emulator):
    """The load job's upload answers 503 (a proxy in front of the emulator): the client's six
    upload retries waited a minute (1 + 2 + … + 32 s); they now fit in --query-timeout."""
    bigquery_emulator.load("failing-upload", healthy_warehouse_file)
    bigquery_emulator.client("failing-upload").create_dataset("feature_store_health", exists_ok=True)
    proxy = BigQueryProxy(bigquery_emulator.url, fails=lambda method, path: path.startswith("/upload/"))
    try:
        run = run_suite(*OLD_DIMENSIONS, "--backend=bigquery", f"--bigquery-endpoint={proxy.url}", "--project=failing-upload",
                        f"--date={DATE}", f"--history={DEFAULT_HISTORY}", "--query-timeout=30")
    finally:
        proxy.close()
    uploads = proxy.requests("POST", "/upload/bigquery/v2/projects/failing-upload/jobs")
    # retried, within the bound (30 s: room for the emulator's first-run query on a loaded machine;
    # the client's own upload retries alone take 63 s)
    assert len(uploads) >= 2 and uploads[-1] - uploads[0] < 30
    assert {c["severity"] for c in run.results["checks"]} == {"OK"} and len(run.results["checks"]) == 22
    error = (f"history failing-upload.{DEFAULT_HISTORY}: cannot write it: "
             "BigQuery error 503: backend unavailable")
    assert run.results["history"]["write"] == {"error": error}
    assert [line for line in run.stdout.splitlines() if "history not written" in line] == [
        f"ERROR: history not written: {error}"]
    assert "Traceback" not in run.stdout and run.ret == 1
