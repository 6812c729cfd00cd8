"""Command-line contract: every bad value is one clear line and exit code 4, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("argument", "error_line"),
    [
        ("--date=2026-13-45", "argument --date: '2026-13-45' is not a date; expected YYYY-MM-DD, e.g. 2026-02-05"),
        ("--date=yesterday", "argument --date: 'yesterday' is not a date; expected YYYY-MM-DD, e.g. 2026-02-05"),
        ("--as-of=soon", "argument --as-of: 'soon' is not an ISO-8601 time; expected e.g. 2026-02-05T09:00 or 2026-02-05T14:00:00Z"),
        ("--days=0", "argument --days: '0' is not a number of days from 1 to 366"),
        ("--days=seven", "argument --days: 'seven' is not a number of days from 1 to 366"),
        ("--days=400", "argument --days: '400' is not a number of days from 1 to 366"),
        ("--backend=oracle", "argument --backend: invalid choice: 'oracle' (choose from 'duckdb', 'bigquery')"),
        ("--fail-on=info", "argument --fail-on: invalid choice: 'info' (choose from 'warning', 'error')"),
    ],
)
def test_bad_option_values_are_usage_errors(run_suite, argument, error_line):
    run = run_suite(argument, results=False)
    assert run.ret == 4
    # pytest's usage line, then ours (prog is "pytest" from a shell, "pytest.main()" in process)
    assert run.stderr.splitlines()[1].endswith(f": error: {error_line}")
    assert "Traceback" not in run.stderr + run.stdout


def test_contradicting_flags(run_suite, tmp_path):
    database = tmp_path / "w.duckdb"
    database.touch()
    run = run_suite("--backend=bigquery", f"--database={database}", results=False)
    assert run.ret == 4
    assert "ERROR: --database is a DuckDB file; it cannot be used with --backend=bigquery" in run.stderr
    run = run_suite("--project=my-project", results=False)
    assert run.ret == 4
    assert "ERROR: --project is for --backend=bigquery; the duckdb backend reads --database" in run.stderr


def test_missing_database_is_an_error_and_creates_nothing(run_suite, tmp_path):
    missing = tmp_path / "nowhere" / "warehouse.duckdb"
    run = run_suite(f"--database={missing}", results=False)
    assert run.ret == 4
    assert run.stderr.strip() == (
        f"ERROR: --database: no DuckDB file at {missing}; give an existing file (it is never created) "
        "or leave --database out to use the demo warehouse"
    )
    assert not missing.exists() and not missing.parent.exists()


def test_bad_config_is_a_usage_error(run_suite, tmp_path):
    config = tmp_path / "health.toml"
    config.write_text("[thresholds.null_rates]\nwarning_above = 20\nerror_above = 5\n")
    run = run_suite(f"--health-config={config}", results=False)
    assert run.ret == 4
    assert run.stderr.strip() == (
        f"ERROR: config {config}: tables[0].thresholds.null_rates: thresholds out of order "
        "{'warning': 20, 'error': 5, 'critical': 10}; warning <= error <= critical expected"
    )


def test_usage_error_from_a_real_process_has_no_traceback():
    """The user's own command line, in a real process from the repo root."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "data_tests", "--date=2026-13-45", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=60,
    )
    assert completed.returncode == 4
    assert "pytest: error: argument --date: '2026-13-45' is not a date; expected YYYY-MM-DD, e.g. 2026-02-05" in completed.stderr
    assert "Traceback" not in completed.stderr + completed.stdout


@pytest.mark.parametrize(
    ("arguments", "error_line"),
    [
        (["--max-bytes-billed=lots"], "argument --max-bytes-billed: 'lots' is not a byte count; expected e.g. 1GiB, 500MB or 1073741824 (at most 9223372036854775807)"),
        (["--query-timeout=0"], "argument --query-timeout: '0' is not a positive number of seconds (at most 604800)"),
    ],
)
def test_bigquery_option_values(run_suite, arguments, error_line):
    run = run_suite(*arguments, results=False)
    assert run.ret == 4
    assert run.stderr.splitlines()[1].endswith(f": error: {error_line}")


def test_bigquery_only_flags_and_emulator_needs_project(run_suite, monkeypatch):
    run = run_suite("--bigquery-endpoint=http://127.0.0.1:9050", results=False)
    assert run.ret == 4
    assert "ERROR: --bigquery-endpoint is for --backend=bigquery; the duckdb backend reads --database" in run.stderr
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", "127.0.0.1:9050")
    run = run_suite("--backend=bigquery", results=False)
    assert run.ret == 4
    assert "ERROR: --project is required with a BigQuery emulator endpoint, e.g. --project=demo" in run.stderr


def test_byte_counts():
    from feature_store_health.options import parse_bytes

    assert parse_bytes("1GiB") == 2**30
    assert parse_bytes("500MB") == 500 * 10**6
    assert parse_bytes("1073741824") == 2**30


# -- pytest-xdist: the health checks run in one process -------------------------------------------

XDIST_REFUSAL = ("ERROR: data_tests runs in one process (one query per table feeds all its checks); "
                 "drop -n/--numprocesses (pytest-xdist), or give -n 0")


def test_the_health_suite_refuses_xdist_and_leaves_nothing(tmp_path):
    """Under -n each worker judged a part and the controller reported 0 checks (INCOMPLETE, exit 1)."""
    results, reports = tmp_path / "results.json", tmp_path / "reports"
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "data_tests", "--date=2026-03-12", "--days=12", "--no-history", "-n", "2",
         "-p", "no:cacheprovider", f"--results-json={results}", f"--reports-dir={reports}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    everything = completed.stdout + completed.stderr
    assert completed.returncode == 4, everything
    assert completed.stderr.strip() == XDIST_REFUSAL
    assert "Traceback" not in everything and "INTERNALERROR" not in everything and "Overall Status" not in everything
    assert not results.exists() and list(reports.rglob("*")) == []  # no results JSON, no archive, no index


def test_the_health_suite_refuses_xdist_in_process(run_suite):
    run = run_suite("--date=2026-02-05", "-n", "2", results=False)
    assert run.ret == 4, run.stdout + run.stderr
    assert run.stderr.strip() == XDIST_REFUSAL


def test_other_tests_and_their_inner_health_runs_still_run_under_xdist(pytester, healthy_warehouse_file):
    """The plugin is loaded for every run of the checkout: the project's own tests run under xdist,
    and their pytester runs of the health suite, in process inside a worker, judge as ever."""
    pytester.makeconftest('pytest_plugins = ["pytester"]\n')
    pytester.makepyfile(test_inner=f'''
HEALTH_TESTS = {str(ROOT / "data_tests" / "test_feature_store.py")!r}


def test_an_inner_health_run(pytester):
    pytester.makepyfile(test_health=open(HEALTH_TESTS).read())
    outcome = pytester.runpytest("-p", "feature_store_health.plugin", "-p", "no:cacheprovider", "--no-archive",
                                 "--database={healthy_warehouse_file}", "--date=2026-02-05", "-m", "schema")
    outcome.assert_outcomes(passed=2, deselected=23)


def test_plain():
    assert True
''')
    outcome = pytester.runpytest("-p", "feature_store_health.plugin", "-p", "no:cacheprovider", "-n", "2")
    assert outcome.ret == 0, outcome.stdout.str() + outcome.stderr.str()
    outcome.assert_outcomes(passed=2)
