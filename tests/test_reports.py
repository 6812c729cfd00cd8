"""Reports people read: the archive, the HTML report, the weekly sections, the Slack alert."""

from __future__ import annotations

import datetime as dt
import html.parser
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from freezegun import freeze_time

from feature_store_health.reporting.archive import RunArchive, update_index
from conftest import FAST_SLACK
from loopback_http import Reply

ROOT = Path(__file__).resolve().parents[1]
DATE = dt.date(2026, 2, 5)


@pytest.fixture
def fast_slack_config(tmp_path) -> Path:
    path = tmp_path / "health.toml"
    path.write_text(FAST_SLACK)
    return path


class AssetFinder(html.parser.HTMLParser):
    """Every src/href of an HTML page, and the text, for assertions."""

    def __init__(self):
        super().__init__()
        self.assets: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("src", "href", "xlink:href") and value:
                self.assets.append((tag, name, value))

    def handle_data(self, data):
        self.text.append(data)


def parse(path: Path) -> AssetFinder:
    finder = AssetFinder()
    finder.feed(path.read_text(encoding="utf-8"))
    return finder


def check_cards(report: Path) -> dict[str, str]:
    """The check cards of the report's failed or errored tests, by test id."""
    source = report.read_text(encoding="utf-8")
    blob = json.loads(html.unescape(re.search(r'data-jsonblob="([^"]*)"', source).group(1)))
    return {
        test_id: extra["content"]
        for test_id, results in blob["tests"].items()
        for result in results if result["result"] in ("Failed", "Error")
        for extra in result.get("extras", [])
    }


def only_folder(reports: Path) -> Path:
    folders = [p for p in reports.glob("*/*") if p.is_dir()]
    assert len(folders) == 1, folders
    return folders[0]


@freeze_time("2026-11-25 17:00:00")
def test_weekly_run_is_archived_with_html_json_junit_and_index(warehouse, run_suite, tmp_path):
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=7", f"--reports-dir={reports}")
    assert run.ret == 0
    folder = only_folder(reports)
    assert folder.relative_to(reports).as_posix() == "2026-02-05/20261125T170000Z"
    assert sorted(p.name for p in folder.iterdir()) == ["junit.xml", "report.html", "results.json"]
    archived = json.loads((folder / "results.json").read_text())
    assert archived["status"] == "HEALTHY" and len(archived["checks"]) == 175  # 7 dates x (15 + 10) checks
    assert archived["checks"] == run.results["checks"]
    # grouped by table: the cache's 105 checks, then the composite factors' 70
    assert [c["table"] for c in archived["checks"]] == ["player_daily_cache"] * 105 + ["player_composite_factors"] * 70
    assert 'tests="175"' in (folder / "junit.xml").read_text()
    # the weekly sections, in the console
    assert "Trends · player_daily_cache · 2026-01-30 … 2026-02-05" in run.stdout
    lines = run.stdout.splitlines()
    assert lines[lines.index("Trends · player_daily_cache · 2026-01-30 … 2026-02-05") + 1].split() == [
        "date", "games", "rows", "players", "ready", "%", "complete", "%", "processing", "min", "predictions", "per", "row"]
    trend_rows = [line for line in lines if line.startswith("2026-02-0")]  # the volume table, then the quality one
    assert trend_rows[0].split()[:4] == ["2026-02-01", "11", "303", "303"]
    assert trend_rows[4].split()[:4] == ["2026-02-05", "9", "252", "252"]
    assert trend_rows[9].split()[:3] == ["2026-02-05", "210", "42"]  # EXCELLENT and GOOD rows
    # the composite factors' own sections: no readiness, tier or prediction columns (not configured)
    composite = lines.index("Trends · player_composite_factors · 2026-01-30 … 2026-02-05")
    assert lines[composite + 1].split() == ["date", "games", "rows", "players", "complete", "%", "processing", "min"]
    assert lines[composite + 2].split()[:5] == ["2026-01-30", "8", "225", "225", "99.1"]
    assert "Quality · player_composite_factors (% NULL per critical feature)" in lines
    assert max(len(line) for line in lines if line.startswith(("date", "2026-0"))) <= 120  # fits a terminal
    assert "Most common data_quality_issues: source_hash_mismatch (5), missing_upstream_box_score (3)" in run.stdout
    archived = [line for line in run.stdout.splitlines() if line.startswith("Archived: ")]
    assert len(archived) == 1 and "2026-02-05/20261125T170000Z (index: " in archived[0]
    # the HTML: self-contained, with the banner, every check, the NULL table and the charts
    page = parse(folder / "report.html")
    text = " ".join(" ".join(page.text).split())
    assert "Overall Status: HEALTHY · 151/151 checks passed · 24 skipped" in text
    source = (folder / "report.html").read_text()
    # the banner's icon is inline SVG (no emoji font needed), and a date x dimension matrix leads
    assert '<svg class="status-icon" role="img" aria-label="HEALTHY"' in source and "✅" not in source.split("Overall Status")[1][:400]
    assert source.count('class="cell"') == 175 and "Checks by date · player_daily_cache" in text
    assert "Checks by date · player_composite_factors" in text
    assert source.index("Checks by date") < source.index("<h3>Checks</h3>")
    assert text.count("Date Coverage") >= 7
    assert "NULL rate per critical feature (%)" in text
    assert "Weekly trends · player_daily_cache · 2026-01-30 … 2026-02-05" in text
    assert "Most common insufficient_data_reason" in text
    source = (folder / "report.html").read_text()
    assert source.count("<svg") == 3 and "Quality tier distribution (rows)" in source  # the icon and two charts
    assert "Weekly trends · player_composite_factors · 2026-01-30 … 2026-02-05" in text
    assert "not configured for this table" in source  # the composite chart's tier and conversion panels
    external = [asset for asset in page.assets if not asset[2].startswith("#")
                and not (asset[0] == "a" and asset[2].startswith("https://pypi.python.org/pypi/pytest-html"))]
    assert external == []  # no script, stylesheet or image loaded from anywhere
    # the index lists the run with its date, status and a link
    index = (reports / "index.html").read_text()
    assert 'href="2026-02-05/20261125T170000Z/report.html"' in index
    assert "2026-01-30 … 2026-02-05" in index and "HEALTHY" in index


@freeze_time("2026-11-25 17:00:00")
def test_failing_check_html_shows_value_thresholds_and_offending_rows(warehouse, run_suite, tmp_path):
    warehouse.affect_rows(DATE, 13, "usage_rate_last_10 = NULL")
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}")
    assert run.ret == 1
    purposes = [query["purpose"] for query in json.loads((only_folder(reports) / "results.json").read_text())["queries"]]
    # one extra query, for the failing dimension only (source_consistency's samples came with its query)
    assert purposes == ["metrics", "samples:null_rates", "source_consistency", "metrics"]
    page = " ".join(" ".join(parse(only_folder(reports) / "report.html").text).split())
    assert "Overall Status: UNHEALTHY · 23/25 checks passed" in page
    cards = check_cards(only_folder(reports) / "report.html")
    assert sorted(cards) == ["test_health.py::test_null_rates[player_daily_cache-2026-02-05]",  # failing only
                             "test_health.py::test_source_consistency[player_daily_cache-2026-02-05]"]
    source = cards["test_health.py::test_source_consistency[player_daily_cache-2026-02-05]"]
    # the stored values against the recomputed ones, per feature: the 13 NULLs, each with its source value
    assert "Offending rows (first 13, by player)" in source
    assert "<th>player_lookup</th><th>team</th><th>feature</th><th>stored</th><th>recomputed</th>" in source
    assert source.count("<td>usage_rate_last_10</td><td>NULL</td>") == 13
    card = cards["test_health.py::test_null_rates[player_daily_cache-2026-02-05]"]
    assert "worst usage_rate_last_10 5.2% NULL (13/252)" in card
    assert "<td>5.16</td><td>warning &gt; 2 · error &gt; 5 · critical &gt; 10</td>" in card  # value vs thresholds
    assert "<td>usage_rate_last_10</td><td>5.16%</td><td>13</td>" in card  # the per-feature NULL table
    # the rows that made it fail: usage_rate_last_10 NULL, not the day's other NULLs (0.4 %, under every limit)
    offending, null_cells = warehouse.execute_one(
        "SELECT count(*), sum((points_avg_last_10 IS NULL)::INT + (minutes_avg_last_10 IS NULL)::INT "
        "+ (usage_rate_last_10 IS NULL)::INT + (ts_pct_last_10 IS NULL)::INT) "
        "FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND usage_rate_last_10 IS NULL", [DATE])
    other_nulls = warehouse.scalar(
        "SELECT count(*) FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND usage_rate_last_10 IS NOT NULL "
        "AND (points_avg_last_10 IS NULL OR minutes_avg_last_10 IS NULL OR ts_pct_last_10 IS NULL)", [DATE])
    assert (offending, other_nulls) == (13, 0)  # the 13 injected, and no other NULL that day
    assert f"Offending rows (first {offending}, by player)" in card
    assert card.count("<td>NULL</td>") == null_cells


def test_user_html_path_still_works_and_is_archived(warehouse, run_suite, tmp_path):
    reports, mine = tmp_path / "reports", tmp_path / "mine" / "report.html"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}", f"--html={mine}")
    assert run.ret == 0
    assert mine.exists() and "Overall Status" in mine.read_text()
    link = '<link href="assets/style.css" rel="stylesheet" type="text/css"/>'
    assert link in mine.read_text()  # the user's own report is as pytest-html writes it
    archived = (only_folder(reports) / "report.html").read_text()
    stylesheet = (mine.parent / "assets" / "style.css").read_text()
    # the archived copy is self-contained: the stylesheet inline, nothing else changed
    assert archived == mine.read_text().replace(link, f"<style>{stylesheet}</style>")
    assert "assets/" not in archived


def test_runs_are_not_archived_without_the_health_suite_or_with_no_archive(warehouse, run_suite, tmp_path):
    reports = tmp_path / "reports"
    run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}", "--no-archive")
    assert not reports.exists()
    run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}", "-m", "nothing")
    assert list(reports.glob("*/*")) == []  # a run that judged nothing leaves no folder


def test_two_runs_in_the_same_second_never_overwrite(tmp_path):
    started = dt.datetime(2026, 11, 25, 14, 0, tzinfo=dt.timezone.utc)
    archives: list[RunArchive] = []
    barrier = threading.Barrier(4)

    def reserve_and_finish(number):
        barrier.wait()
        archive = RunArchive.reserve(tmp_path, DATE, started)
        archive.write("results.json", json.dumps({"status": "HEALTHY", "run_at": started.isoformat(),
                                                  "dates": ["2026-02-05"], "number": number}))
        archive.finish()
        archives.append(archive)

    threads = [threading.Thread(target=reserve_and_finish, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    names = sorted(archive.folder.name for archive in archives)
    assert names == ["20261125T140000Z", "20261125T140000Z-1", "20261125T140000Z-2", "20261125T140000Z-3"]
    numbers = sorted(json.loads((a.folder / "results.json").read_text())["number"] for a in archives)
    assert numbers == [0, 1, 2, 3]
    index = (tmp_path / "index.html").read_text()
    assert all(f"2026-02-05/{name}/results.json" in index for name in names)
    assert not list(tmp_path.rglob(".partial")) and not list(tmp_path.rglob("*.tmp"))


def test_two_suite_processes_at_once_both_archived(warehouse, tmp_path):
    reports = tmp_path / "reports"
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "pytest", str(root / "data_tests"), f"--database={warehouse.path}",
               "--date=2026-02-05", f"--reports-dir={reports}", "-q", "-p", "no:cacheprovider"]
    processes = [subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in range(2)]
    outputs = [process.communicate(timeout=120)[0].decode(errors="replace") for process in processes]
    assert [process.returncode for process in processes] == [0, 0], "\n\n".join(outputs)   # what the failing one said
    folders = sorted(p for p in reports.glob("2026-02-05/*") if p.is_dir())
    assert len(folders) == 2
    for folder in folders:
        assert sorted(p.name for p in folder.iterdir()) == ["junit.xml", "report.html", "results.json"]
    index = (reports / "index.html").read_text()
    assert all(f"{folder.relative_to(reports).as_posix()}/report.html" in index for folder in folders)


def test_index_lists_newest_first(tmp_path):
    for hour in (9, 11, 10):
        started = dt.datetime(2026, 2, 5, hour, tzinfo=dt.timezone.utc)
        archive = RunArchive.reserve(tmp_path, DATE, started)
        archive.write("results.json", json.dumps({"status": "DEGRADED" if hour == 11 else "HEALTHY",
                                                  "run_at": started.isoformat(), "dates": ["2026-02-05"]}))
        archive.finish()
    index = update_index(tmp_path).read_text()
    positions = [index.index(f"20260205T{hour}0000Z") for hour in (11, 10, "09")]
    assert positions == sorted(positions)
    assert "2026-02-05 06:00:00 EST" in index  # displayed in New York time


# -- Slack -----------------------------------------------------------------------------------

def failing_warehouse(warehouse):
    warehouse.affect_rows(DATE, 13, "is_production_ready = FALSE")  # ERROR: 94.44% ready (one row was already not)
    return warehouse


def everything_written(run, reports: Path) -> str:
    texts = [run.stdout, run.stderr, json.dumps(run.results)]
    texts += [path.read_text(errors="replace") for path in reports.rglob("*") if path.is_file()]
    return "\n".join(texts)


def test_failing_run_sends_exactly_one_block_kit_message(warehouse, run_suite, webhook, tmp_path, fast_slack_config):
    reports = tmp_path / "reports"
    run = run_suite(f"--database={failing_warehouse(warehouse).path}", "--date=2026-02-05",
                    f"--reports-dir={reports}", f"--slack-webhook={webhook.url}", f"--health-config={fast_slack_config}")
    assert run.ret == 1
    assert len(webhook.received) == 1
    request = webhook.received[0]
    assert request["path"] == "/services/T0001/B0002/s3cretT0ken"
    assert request["content_type"] == "application/json"
    message = request["json"]
    assert message["text"] == "❌ Feature store UNHEALTHY: player_daily_cache 2026-02-05 (1 failing, 2 not OK)"
    blocks = message["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "❌ Feature store health: UNHEALTHY", "emoji": True}}
    fields = [field["text"] for field in blocks[1]["fields"]]
    assert fields[:3] == ["*Dates*\n2026-02-05", "*Status*\nUNHEALTHY",
                          "*Tables*\n❌ player_daily_cache 14/15\n✅ player_composite_factors 10/10"]
    checks = blocks[2]["text"]["text"]
    # grouped by table: the table's line, then its checks not OK
    assert checks == ("*Checks not OK*\n*player_daily_cache*: 2 of 15 checks not OK\n"
                      "❌ *Production Readiness* · 2026-02-05: "
                      "94.4% production ready (238/252) (value 94.44; warning &lt; 98 · error &lt; 95 · critical &lt; 90) "
                      f"<{(ROOT / 'docs' / 'runbook.md').as_uri()}#production_readiness|runbook>\n"
                      "⚠️ *Anomalies* · 2026-02-05: 1 of 183 metrics off their baseline (7 game days): "
                      "% production ready 94.4, expected 94.8–100.0 (score 4.9) (value 4.9; warning &gt; 4.5 · error &gt; 8 · "
                      f"critical &gt; 15) <{(ROOT / 'docs' / 'runbook.md').as_uri()}#anomalies|runbook>")
    # what the prediction job is told: the gate of the checked date holds, and why
    assert blocks[3]["text"]["text"] == ("*Gate for 2026-02-05*: hold\n• player_daily_cache production_readiness "
                                         "ERROR: 94.4% production ready (238/252)")
    assert blocks[4]["text"]["text"] == (f"*Rerun*\n```pytest data_tests --date=2026-02-05 --database={warehouse.path} "
                                         f"--health-config={fast_slack_config} --no-history --reports-dir={reports}```")
    report = blocks[5]["elements"][0]["text"]
    assert report.startswith(f"Report: {reports}/2026-02-05/") and report.endswith("/report.html")
    assert "Slack: alert sent (HTTP 200, 1 attempt)" in run.stdout
    assert "s3cretT0ken" not in everything_written(run, reports)


def test_slack_server_error_never_changes_the_verdict_or_leaks_the_url(warehouse, run_suite, webhook, tmp_path,
                                                                        fast_slack_config, monkeypatch):
    webhook.script(Reply(500, "internal_error"))
    monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook.url)
    reports = tmp_path / "reports"
    run = run_suite(f"--database={failing_warehouse(warehouse).path}", "--date=2026-02-05",
                    f"--reports-dir={reports}", f"--health-config={fast_slack_config}", "--log-cli-level=DEBUG")
    assert run.ret == 1  # the data verdict, not Slack's
    assert len(webhook.received) == 3  # max_attempts
    assert ("WARNING: Slack alert not delivered after 3 attempts: HTTP 500 internal_error; "
            "the data verdict and exit code stand") in run.stdout
    written = everything_written(run, reports)
    assert webhook.url not in written and "s3cretT0ken" not in written and "B0002" not in written


def test_slack_failure_on_a_healthy_run_keeps_exit_zero(warehouse, run_suite, webhook, fast_slack_config):
    webhook.script(Reply(500, "internal_error"))
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--slack-webhook={webhook.url}",
                    "--slack-on=always", f"--health-config={fast_slack_config}")
    assert run.ret == 0
    assert "WARNING: Slack alert not delivered" in run.stdout


def test_429_retry_after_is_honoured(warehouse, run_suite, webhook, fast_slack_config):
    webhook.script(Reply(429, "rate_limited", {"Retry-After": "1"}), Reply(200, "ok"))
    run = run_suite(f"--database={failing_warehouse(warehouse).path}", "--date=2026-02-05",
                    f"--slack-webhook={webhook.url}", f"--health-config={fast_slack_config}")
    assert run.ret == 1
    assert len(webhook.received) == 2
    assert webhook.times[1] - webhook.times[0] >= 0.95
    assert "Slack: alert sent (HTTP 200, 2 attempts)" in run.stdout


def test_too_slow_endpoint_is_bounded_in_time(warehouse, run_suite, webhook, fast_slack_config):
    webhook.script(Reply(200, "ok", delay=3))
    started = time.monotonic()
    run = run_suite(f"--database={failing_warehouse(warehouse).path}", "--date=2026-02-05",
                    f"--slack-webhook={webhook.url}", f"--health-config={fast_slack_config}")
    assert time.monotonic() - started < 8  # total_seconds = 5, plus the run itself
    assert run.ret == 1
    assert "WARNING: Slack alert not delivered after" in run.stdout
    assert "no answer within 1 s" in run.stdout
    assert "s3cretT0ken" not in run.stdout


def test_no_message_when_healthy_by_default(warehouse, run_suite, webhook):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--slack-webhook={webhook.url}")
    assert run.ret == 0 and webhook.received == []
    assert "Slack: no message (status HEALTHY, --slack-on=warning)" in run.stdout


def test_slack_on_error_skips_warnings(warehouse, run_suite, webhook):
    warehouse.affect_rows(DATE, 6, "quality_tier = 'POOR'")  # WARNING only
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--slack-webhook={webhook.url}",
                    "--slack-on=error")
    assert run.ret == 0 and webhook.received == []
    assert "Slack: no message (status DEGRADED, --slack-on=error)" in run.stdout
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--slack-webhook={webhook.url}")
    assert run.ret == 0 and len(webhook.received) == 1
    assert "⚠️ *Quality Tiers*" in webhook.received[0]["json"]["blocks"][2]["text"]["text"]


def test_a_conftest_hook_reshapes_the_message(warehouse, run_suite, webhook, pytester):
    pytester.makeconftest(
        "def pytest_feature_store_health_slack_message(run, message):\n"
        "    message['text'] = '<!here> ' + message['text']\n"
        "    message['blocks'] = message['blocks'][:1]\n"
        "    return message\n"
    )
    run_suite(f"--database={failing_warehouse(warehouse).path}", "--date=2026-02-05", f"--slack-webhook={webhook.url}")
    message = webhook.received[0]["json"]
    assert message["text"].startswith("<!here> ❌ Feature store UNHEALTHY")
    assert len(message["blocks"]) == 1


def test_bad_webhook_value_is_a_usage_error_without_echoing_it(run_suite):
    run = run_suite("--slack-webhook=hooks.slack.com/services/T/B/secretvalue", results=False)
    assert run.ret == 4
    assert "argument --slack-webhook: not an http(s) URL (the value is not shown: it is a secret)" in run.stderr
    assert "secretvalue" not in run.stderr + run.stdout


@pytest.mark.parametrize("argument", ["--help", "--markers", "--fixtures"])
def test_runs_that_check_nothing_leave_no_archive_folder(tmp_path, argument):
    reports = tmp_path / "reports"
    root = Path(__file__).resolve().parents[1]
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "data_tests", argument, f"--reports-dir={reports}", "-p", "no:cacheprovider"],
        cwd=root, capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0
    assert not reports.exists() or list(reports.rglob("*")) == []
