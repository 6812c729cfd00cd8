"""What a run says about itself at its edges: tables none of whose checks ran, report paths that
can never be written, dates too early for a baseline, the Rerun line and an empty --history.

Issue 16, items 8-11 and 14 (the empty --history, a --history that can be no file). Real suite runs (pytester, in process) on a
copy of the demo warehouse, a loopback HTTP server as the Slack webhook.
"""

from __future__ import annotations

import datetime as dt
import html
import shlex
from pathlib import Path

import pytest

from conftest import CACHE, CACHE_DIMENSIONS, COMPOSITE, COMPOSITE_DIMENSIONS

DATE = dt.date(2026, 2, 5)
PER_DATE = len(CACHE_DIMENSIONS) + len(COMPOSITE_DIMENSIONS)


def usage_error(run, expected: str) -> None:
    """Exit 4 and exactly the expected line on stderr: no traceback, no INTERNALERROR."""
    everything = run.stdout + run.stderr
    assert run.ret == 4, everything
    assert run.stderr.strip() == expected, run.stderr
    assert "Traceback" not in everything and "INTERNALERROR" not in everything


def slack_fields(webhook) -> dict[str, str]:
    """The one message's summary fields, by their bold title."""
    assert len(webhook.received) == 1
    fields = webhook.received[0]["json"]["blocks"][1]["fields"]
    return dict(field["text"][1:].split("*\n", 1) for field in fields)


# -- 8. a table none of whose checks ran ---------------------------------------------------------

def test_tables_whose_checks_never_ran_are_incomplete(warehouse, run_suite, webhook, monkeypatch):
    warehouse.affect_rows(DATE, 13, "is_production_ready = FALSE")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook.url)
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-x")
    # -x stops at the cache's production_readiness ERROR: 3 of its 15 checks ran, none of the composite's 10
    tables = run.results["tables"]
    assert (tables[CACHE]["status"], tables[CACHE]["summary"]["checks"], tables[CACHE]["summary"]["not_run"]) == (
        "INCOMPLETE", 3, len(CACHE_DIMENSIONS) - 3)
    assert (tables[COMPOSITE]["status"], tables[COMPOSITE]["summary"]["checks"],
            tables[COMPOSITE]["summary"]["not_run"]) == ("INCOMPLETE", 0, len(COMPOSITE_DIMENSIONS))
    assert run.results["status"] == "INCOMPLETE" and run.ret == 1
    assert slack_fields(webhook)["Tables"] == (
        f"⏸️ {CACHE} 2/3 (INCOMPLETE: {len(CACHE_DIMENSIONS) - 3} never ran)\n"
        f"⏸️ {COMPOSITE} 0/0 (INCOMPLETE: {len(COMPOSITE_DIMENSIONS)} never ran)")


def test_a_table_left_out_by_the_selection_is_not_selected_never_healthy(warehouse, run_suite, webhook, monkeypatch):
    monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook.url)
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-k", CACHE, "--slack-on=always")
    tables = run.results["tables"]
    assert tables[CACHE]["status"] == "HEALTHY" and tables[CACHE]["summary"]["checks"] == len(CACHE_DIMENSIONS)
    assert tables[COMPOSITE]["status"] == "NOT_SELECTED"
    assert tables[COMPOSITE]["summary"]["checks"] == tables[COMPOSITE]["summary"]["not_run"] == 0
    assert run.results["status"] == "HEALTHY" and run.ret == 0  # the run did all it was asked
    assert slack_fields(webhook)["Tables"] == f"✅ {CACHE} 15/15"  # what was not checked is not listed


# -- 9. report paths that can never be written ---------------------------------------------------

@pytest.mark.parametrize("flag", ["--html", "--junitxml"])
def test_a_report_path_under_a_file_is_a_usage_error(warehouse, run_suite, tmp_path, flag):
    blocker = tmp_path / "somefile.txt"
    blocker.write_text("a file, not a folder")
    target = blocker / ("report.html" if flag == "--html" else "junit.xml")
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"{flag}={target}",
                    f"--reports-dir={reports}", results=False)
    usage_error(run, f"ERROR: {flag}: cannot write {target}: {blocker} is a file, not a folder; "
                     "give a file path in a writable folder")
    assert not reports.exists()  # refused before the run: no archive folder reserved


def test_an_html_path_that_is_a_directory_is_a_usage_error(warehouse, run_suite, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--html={folder}", "--no-archive",
                    results=False)
    usage_error(run, f"ERROR: --html: {folder} is a directory; give a file path, e.g. --html={folder / 'report.html'}")
    assert list(folder.iterdir()) == []


def test_a_relative_html_path_in_a_new_folder_is_written(warehouse, run_suite, pytester):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--html=new folder/report.html",
                    "--no-archive", "-m", "coverage")
    assert run.ret == 0 and (pytester.path / "new folder" / "report.html").is_file()


# -- 10. dates too early for their baseline's lookback -----------------------------------------

@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-05", "0001-02-15"])
def test_a_date_too_early_for_its_baseline_is_a_usage_error(run_suite, day):
    # the default lookback is 45 days, and the baseline walks one day past it: 0001-02-16 is the first
    run = run_suite(f"--date={day}", results=False)
    usage_error(run, f"ERROR: --date={day}: the baseline of {day} looks back 45 days ([baseline] lookback_days), "
                     "too close to 0001-01-01; give --date=0001-02-16 or later")


def test_the_first_date_of_a_window_is_the_one_its_baseline_counts_from(run_suite):
    run = run_suite("--date=0001-02-20", "--days=7", results=False)
    usage_error(run, "ERROR: --date=0001-02-20 with --days=7: the baseline of 0001-02-14 looks back 45 days "
                     "([baseline] lookback_days), too close to 0001-01-01; give --date=0001-02-22 or later, "
                     "or fewer --days")


def test_the_lookback_comes_from_the_configuration(warehouse, run_suite, tmp_path):
    config = tmp_path / "health.toml"
    config.write_text("[baseline]\nlookback_days = 10\n")
    early = run_suite(f"--database={warehouse.path}", "--date=0001-01-11", f"--health-config={config}", results=False)
    usage_error(early, "ERROR: --date=0001-01-11: the baseline of 0001-01-11 looks back 10 days "
                       "([baseline] lookback_days), too close to 0001-01-01; give --date=0001-01-12 or later")
    first = run_suite(f"--database={warehouse.path}", "--date=0001-01-12", f"--health-config={config}")
    assert first.ret == 0 and first.results["status"] == "HEALTHY"  # no rows, no games: days off
    assert {check["severity"] for check in first.results["checks"]} == {"OK", "SKIPPED"}


@pytest.mark.parametrize(("day", "days", "ret", "status"), [("0001-02-16", "1", 0, "HEALTHY"),
                                                            ("9999-12-31", "7", 1, "UNHEALTHY")])
def test_the_first_and_last_dates_that_can_be_checked(warehouse, run_suite, day, days, ret, status):
    """Both ends run to their summary. Year 1 comes before the schedule's games: days off. The
    last week of 9999 lies in a season (October to June) the schedule, which ends 2026-02-05,
    cannot cover: coverage cannot tell a day off from a schedule that stopped loading."""
    run = run_suite(f"--database={warehouse.path}", f"--date={day}", f"--days={days}")
    assert "Traceback" not in run.stdout + run.stderr and "Overall Status" in run.stdout
    assert run.ret == ret and run.results["status"] == status
    anomalies = [check for check in run.results["checks"] if check["dimension"] == "anomalies"]
    assert len(anomalies) == 2 * int(days) and {check["severity"] for check in anomalies} == {"SKIPPED"}
    if day.startswith("9999"):
        coverage = [check for check in run.results["checks"] if check["dimension"] == "coverage"]
        assert coverage[0]["severity"] == "NOT_EVALUATED"
        assert "schedule has no games after 2026-02-05: cannot tell whether 9999-12-25 is a game day" in \
            coverage[0]["message"]


# -- 11. the Rerun line reproduces the history the verdict came from -----------------------------

def rerun_everywhere(run, reports: Path, webhook) -> str:
    """The Rerun command of the JSON, checked to be the same in the console, HTML and Slack."""
    rerun = run.results["rerun"]
    assert f"Rerun: {rerun}" in run.stdout
    report = next(reports.glob("*/*/report.html")).read_text(encoding="utf-8")
    assert f"<p>Rerun: <code>{html.escape(rerun)}</code></p>" in report
    blocks = webhook.received[-1]["json"]["blocks"]
    assert {"type": "section", "text": {"type": "mrkdwn", "text": f"*Rerun*\n```{rerun}```"}} in blocks
    assert "s3cretT0ken" not in rerun  # the webhook is a secret: never part of it
    return rerun


def test_rerun_names_the_history_the_environment_gave(warehouse, run_suite, webhook, monkeypatch, tmp_path):
    history, reports = tmp_path / "history.duckdb", tmp_path / "reports"
    warehouse.affect_rows(DATE, 13, "is_production_ready = FALSE")  # UNHEALTHY: every output shows the Rerun line
    monkeypatch.setenv("FEATURE_STORE_HEALTH_HISTORY", str(history))
    monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook.url)
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}")
    rerun = rerun_everywhere(run, reports, webhook)
    assert shlex.split(rerun) == ["pytest", "data_tests", "--date=2026-02-05", f"--database={warehouse.path}",
                                  f"--history={history}", f"--reports-dir={reports}"]
    # pasted where the variable is not set (here: set to off), it reads the same history
    monkeypatch.setenv("FEATURE_STORE_HEALTH_HISTORY", "off")
    again = run_suite(*shlex.split(rerun)[2:])
    assert again.results["history"]["location"] == run.results["history"]["location"] == str(history)
    assert again.results["rerun"] == rerun and again.ret == run.ret == 1


def test_rerun_keeps_no_history_and_a_relative_history_made_absolute(warehouse, run_suite, webhook, monkeypatch,
                                                                    tmp_path, pytester):
    reports = tmp_path / "reports"
    warehouse.affect_rows(DATE, 13, "is_production_ready = FALSE")
    monkeypatch.delenv("FEATURE_STORE_HEALTH_HISTORY")
    monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook.url)
    off = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--no-history", f"--reports-dir={reports}")
    assert shlex.split(rerun_everywhere(off, reports, webhook))[3:] == [
        f"--database={warehouse.path}", "--no-history", f"--reports-dir={reports}"]
    relative = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--history=h/history.duckdb",
                         "--no-archive", "-m", "coverage")
    assert shlex.split(relative.results["rerun"])[3:] == [
        f"--database={warehouse.path}", f"--history={pytester.path / 'h' / 'history.duckdb'}", "-m", "coverage"]


def test_rerun_keeps_the_reports_dir_the_default_history_lives_in(warehouse, run_suite, monkeypatch, tmp_path):
    reports = tmp_path / "reports"
    monkeypatch.delenv("FEATURE_STORE_HEALTH_HISTORY")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}", "-m", "coverage")
    assert run.results["history"]["location"] == str(reports / "history.duckdb")
    assert shlex.split(run.results["rerun"]) == ["pytest", "data_tests", "--date=2026-02-05",
                                                 f"--database={warehouse.path}", f"--reports-dir={reports}",
                                                 "-m", "coverage"]


# -- 14. an empty --history -----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_history_is_a_usage_error(run_suite, monkeypatch, pytester, value):
    monkeypatch.delenv("FEATURE_STORE_HEALTH_HISTORY")
    run = run_suite(f"--history={value}", "--date=2026-02-05", results=False)
    usage_error(run, "ERROR: --history is empty; give a DuckDB file path (duckdb backend) or "
                     "[project.]dataset.table (bigquery backend), or --no-history")
    assert not list(pytester.path.rglob("*.duckdb"))  # nothing written to the default, or to a file named "  "


# -- a --history that can never be a DuckDB file ---------------------------------------------------

@pytest.fixture
def not_a_history_file(tmp_path, request) -> tuple[Path, str]:
    """A history path no DuckDB file can be written at, and why (the error's tail)."""
    folder, regular = tmp_path / "folder", tmp_path / "regular"
    folder.mkdir()
    regular.write_text("a regular file")
    if request.param == "directory":
        return folder, f"{folder} is a directory; give a DuckDB file path, e.g. {folder / 'history.duckdb'}"
    path = regular / "history.duckdb" if request.param == "under a file" else regular / "a" / "history.duckdb"
    return path, f"{path} is under {regular}, a file, not a folder; give a DuckDB file path in a folder"


@pytest.mark.parametrize("not_a_history_file", ["directory", "under a file", "deep under a file"], indirect=True)
def test_a_history_that_can_be_no_file_is_a_usage_error(warehouse, run_suite, not_a_history_file, tmp_path):
    """It was "History: write failed: ... Is a directory" after the checks, and -m coverage called the run HEALTHY."""
    path, problem = not_a_history_file
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-m", "coverage", f"--history={path}",
                    f"--reports-dir={tmp_path / 'reports'}")
    usage_error(run, f"ERROR: --history: {problem}")
    assert run.results is None and not (tmp_path / "reports").exists() and "Overall Status" not in run.stdout


@pytest.mark.parametrize("not_a_history_file", ["directory", "under a file"], indirect=True)
def test_a_history_variable_that_can_be_no_file_refuses_the_health_checks_only(
        warehouse, run_suite, not_a_history_file, monkeypatch, pytester):
    path, problem = not_a_history_file
    monkeypatch.setenv("FEATURE_STORE_HEALTH_HISTORY", str(path))
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-m", "coverage")
    usage_error(run, f"ERROR: $FEATURE_STORE_HEALTH_HISTORY: {problem}")
    assert run.results is None and "Overall Status" not in run.stdout
    # like $SLACK_WEBHOOK_URL, it stops no other run: --help, a run of other tests, --no-history
    assert pytester.runpytest("-p", "feature_store_health.plugin", "--help").ret == 0
    pytester.makepyfile(test_plain="def test_plain():\n    pass\n")
    assert pytester.runpytest("-p", "feature_store_health.plugin", "test_plain.py").ret == 0
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-m", "coverage", "--no-history")
    assert run.ret == 0 and run.results["history"] == {"enabled": False}
