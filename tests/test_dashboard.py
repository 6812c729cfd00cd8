"""The ops dashboard (reports/dashboard.html) and the weekly ops review, from the history alone.

End to end: the real suite over the demo season (its incidents: fixtures/demo_warehouse.py
INCIDENTS), run after run on one history with the clock moved by freezegun, a loopback Slack
webhook; the dashboard rendered in headless Chromium (tests/browser.py).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest
from freezegun import freeze_time

from conftest import ROOT, Warehouse
from feature_store_health.alerting.incidents import Incident, IncidentState
from feature_store_health.config import TableConfig
from feature_store_health.reporting.dashboard_data import (
    EXPIRED, NEVER_JUDGED, NOT_LANDED, LandingDay, cell_of, summarize,
)
from feature_store_health.warehouse import demo_warehouse_path
from test_browser import assert_offline_and_clean

SHOTS = Path("/tmp/dashboard19")
CRITICAL, ERROR, OK = "rgb(139, 0, 0)", "rgb(207, 34, 46)", "rgb(26, 127, 55)"   # the report's severity colours
WEEKLY = "*Weekly ops review*"


@pytest.fixture
def demo(tmp_path) -> Warehouse:
    """A private copy of the demo season (2025-10-21 … 2026-04-12), to fix an incident in."""
    path = tmp_path / "demo.duckdb"
    shutil.copyfile(demo_warehouse_path(ROOT), path)
    return Warehouse(path)


def cells(page, table: str) -> dict[tuple[str, str], dict]:
    found = page.evaluate(f"""Array.from(document.querySelectorAll('svg.calendar[data-table="{table}"] rect.cell'))
        .map(c => ({{date: c.dataset.date, dimension: c.dataset.dimension, state: c.dataset.state,
                    fill: getComputedStyle(c).fill, title: c.querySelector('title').textContent}}))""")
    return {(cell["date"], cell["dimension"]): cell for cell in found}


def test_dashboard_of_a_90_day_history_renders_cells_colours_incidents_and_landings(browser, demo, run_suite,
                                                                                      webhook, tmp_path):
    history, reports = tmp_path / "h.duckdb", tmp_path / "reports"
    common = (f"--database={demo.path}", f"--history={history}", f"--reports-dir={reports}", "--date=2026-03-31")
    # 06:00 New York on April 1st: 89 dates judged (2026-01-01 is left to the calendar's "never judged")
    with freeze_time("2026-04-01 10:00:00"):
        first = run_suite(*common, "--days=89", f"--slack-webhook={webhook.url}")
    assert first.ret == 1 and len(webhook.received) == 1
    # the retried insert of 2026-03-17 undone: its uniqueness incident resolves 3 h 30 m later
    demo.execute("""DELETE FROM nba_precompute.player_daily_cache WHERE rowid IN (
        SELECT max(rowid) FROM nba_precompute.player_daily_cache WHERE cache_date = '2026-03-17'
        GROUP BY player_lookup HAVING count(*) > 1)""")
    with freeze_time("2026-04-01 13:30:00"):   # the resolved message delivered: the incident is closed
        second = run_suite(*common, "--days=15", f"--slack-webhook={webhook.url}")
    assert second.ret == 1 and len(webhook.received) == 2
    assert second.verdict("uniqueness", "2026-03-17")["severity"] == "OK"
    assert "Dashboard: " in second.stdout and "table-dates read in" in second.stdout

    index = reports / "index.html"
    page = browser.open(index)
    assert page.evaluate("document.querySelector('a.dashboard').getAttribute('href')") == "dashboard.html"
    dashboard = reports / "dashboard.html"
    page = browser.open(dashboard)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(SHOTS / "dashboard.png")

    # one cell per date x dimension of each table: 90 x 15 and 90 x 10
    cache, composite = cells(page, "player_daily_cache"), cells(page, "player_composite_factors")
    assert (len(cache), len(composite)) == (90 * 15, 90 * 10)
    assert {date for date, _ in cache} == {str(dt.date(2026, 1, 1) + dt.timedelta(days=n)) for n in range(90)}
    # 2026-03-27, Phase 4 never ran: coverage and arrival CRITICAL, the checks of its rows "not landed"
    coverage = cache[("2026-03-27", "coverage")]
    assert (coverage["state"], coverage["fill"]) == ("CRITICAL", CRITICAL)
    assert coverage["title"] == "2026-03-27 · Date Coverage: CRITICAL — 0 records found while 5 games are scheduled"
    assert cache[("2026-03-27", "arrival")]["fill"] == CRITICAL == composite[("2026-03-27", "coverage")]["fill"]
    not_landed = cache[("2026-03-27", "null_rates")]
    assert (not_landed["state"], not_landed["fill"]) == (NOT_LANDED, 'url("#not-landed")')
    assert not_landed["title"] == "2026-03-27 · NULL Rates: not landed — no rows for this date: see coverage"
    assert cache[("2026-03-24", "coverage")]["fill"] == ERROR          # two playing teams with no rows
    assert composite[("2026-03-26", "null_rates")]["fill"] == CRITICAL  # fatigue_score NULL on 15 %
    resolved = cache[("2026-03-17", "uniqueness")]                     # fixed: its newest verdict is OK
    assert (resolved["state"], resolved["fill"]) == ("OK", OK)
    # 2026-01-01: before the first run's dates, never judged (anomalies and drift judged it ahead as a baseline day)
    assert cache[("2026-01-01", "coverage")]["state"] == NEVER_JUDGED
    assert cache[("2026-01-01", "coverage")]["fill"] == "rgb(255, 255, 255)"

    # the open incidents, with their age at the second run: 3 h 30 m after the first opened them
    open_ones = page.evaluate("""Array.from(document.querySelectorAll(
        'section[data-table="player_daily_cache"] tr.open-incident')).map(r =>
        [r.dataset.date, r.dataset.dimension, r.querySelector('.age').textContent, r.children[2].textContent])""")
    assert ["2026-03-27", "coverage", "3 h 30 m", "CRITICAL"] in open_ones
    assert ["2026-03-24", "coverage", "3 h 30 m", "ERROR"] in open_ones
    assert not [row for row in open_ones if row[:2] == ["2026-03-17", "uniqueness"]]
    assert {row[2] for row in open_ones} == {"3 h 30 m"}
    # every incident the first run opened, but the one resolved
    opened = [incident for incident in first.results["incidents"]
              if incident["table"] == "player_daily_cache" and incident["event"] == "opened"]
    assert len(open_ones) == len(opened) - 1 == 34

    # the last 30 days' summary
    summary = page.evaluate("""Array.from(document.querySelectorAll(
        'section[data-table="player_daily_cache"] table.summary tr')).map(r => [r.dataset.stat, r.children[1].textContent])""")
    assert dict(summary) == {
        "incidents opened": "28", "resolved": "1", "still open": "27",
        "time to resolve (median)": "3 h 30 m", "time to resolve (worst)": "3 h 30 m",
        "alerts sent (incidents alerted)": "28 (Slack webhook 28)",
        "game days landed after ready_by 06:00": "1 of 30", "game days not landed": "1",
    }

    # landing time: 2026-03-25 landed 06:40, after ready_by; 2026-03-27 never landed; ready_by drawn
    points = page.evaluate("""Object.fromEntries(Array.from(document.querySelectorAll(
        'svg.landing[data-table="player_daily_cache"] .landing-point')).map(p =>
        [p.dataset.date, [p.dataset.state, p.querySelector('title').textContent]]))""")
    assert points["2026-03-25"] == ["late", "2026-03-25: landed 06:40, after ready_by 06:00"]
    assert points["2026-03-27"] == ["not-landed", "2026-03-27: not landed"]
    assert points["2026-03-24"][0] == "on-time"
    assert page.evaluate("document.querySelectorAll('svg.landing line.ready-by').length") == 2
    assert page.evaluate("document.querySelectorAll('script, link, img, iframe').length") == 0
    assert_offline_and_clean(page, dashboard)


def messages(webhook) -> list[str]:
    return ["\n".join(block.get("text", {}).get("text", "") for block in message["json"]["blocks"])
            for message in webhook.received]


def weekly_section(message: dict) -> list[str]:
    return [block["text"]["text"] for block in message["json"]["blocks"]
            if block.get("text", {}).get("text", "").startswith(WEEKLY)]


def test_a_monday_weekly_run_adds_the_7_day_summary_to_the_digest_and_no_other_run_does(demo, run_suite, webhook,
                                                                                       tmp_path):
    history = tmp_path / "h.duckdb"
    common = (f"--database={demo.path}", f"--history={history}", "--date=2026-03-29", "--days=7",
              f"--slack-webhook={webhook.url}")
    ready = "is_production_ready = TRUE"
    assert demo.scalar("SELECT bool_and(is_production_ready) FROM (SELECT * FROM nba_precompute.player_daily_cache "
                       "WHERE cache_date = '2026-03-28' ORDER BY player_lookup LIMIT 15)")
    demo.affect_rows(dt.date(2026, 3, 28), 15, "is_production_ready = FALSE")   # 93.3 %: ERROR
    # Sunday 10:00 New York: the week's incidents open; no review on a Sunday
    with freeze_time("2026-03-29 14:00:00"):
        sunday = run_suite(*common)
    assert sunday.ret == 1
    assert len(webhook.received) == 1 and weekly_section(webhook.received[0]) == []
    demo.affect_rows(dt.date(2026, 3, 28), 15, ready)
    # Monday 09:00 New York, the same week: production readiness of 2026-03-28 resolved after 23 h
    with freeze_time("2026-03-30 13:00:00"):
        monday = run_suite(*common)
    assert monday.ret == 1
    assert len(webhook.received) == 2
    (review,) = weekly_section(webhook.received[1])
    # the counts agree with what the two runs' results JSON say of the week's incidents
    counts = {}
    for table in ("player_daily_cache", "player_composite_factors"):
        opened = {(i["dimension"], i["date"]) for run in (sunday, monday) for i in run.results["incidents"]
                  if i["table"] == table and i["event"] == "opened"}
        resolved = {(i["dimension"], i["date"]) for i in monday.results["incidents"]
                    if i["table"] == table and i["event"] == "resolved"}
        counts[table] = (len(opened), sorted(resolved))
    # the fixed readiness, and the anomaly its drop raised on the same date
    assert counts == {"player_daily_cache": (10, [("anomalies", "2026-03-28"), ("production_readiness", "2026-03-28")]),
                      "player_composite_factors": (6, [])}
    assert review.split("\n") == [
        "*Weekly ops review* · 2026-03-23 … 2026-03-29",
        "• *player_daily_cache*: 10 incidents opened, 2 resolved (median 23 h 0 m, worst 23 h 0 m), 8 still open; "
        "10 alerted (webhook 10); 1 of 7 game days landed after ready_by 06:00, 1 not landed",
        "• *player_composite_factors*: 6 incidents opened, 0 resolved, 6 still open; 6 alerted (webhook 6); "
        "1 of 7 game days landed after ready_by 06:00, 1 not landed",
    ]
    # the section sits before the rerun command, and the digest still lists what is not OK
    texts = [block.get("text", {}).get("text", "") for block in webhook.received[1]["json"]["blocks"]]
    assert texts[texts.index(review) + 1].startswith("*Rerun*") and texts[2].startswith("*Checks not OK*")
    # a quiet Monday (nothing changed, within repeat_after): the review still goes out
    with freeze_time("2026-03-30 14:00:00"):
        assert run_suite(*common).ret == 1
    assert len(webhook.received) == 3 and len(weekly_section(webhook.received[2])) == 1
    # Tuesday, the same --days=7 (a day after the alerts: repeated): a digest, without the review
    with freeze_time("2026-03-31 14:00:00"):
        assert run_suite(*common).ret == 1
    assert len(webhook.received) == 4 and weekly_section(webhook.received[3]) == []
    # Monday with --days=1: no review either
    with freeze_time("2026-04-06 14:00:00"):
        run_suite(f"--database={demo.path}", f"--history={history}", "--date=2026-03-29",
                  f"--slack-webhook={webhook.url}")
    assert all(WEEKLY not in text for text in messages(webhook)[4:])


# -- the pure parts ------------------------------------------------------------------------------

TABLE = TableConfig(name="t", table="d.t", date_column="d", player_column="p", thresholds={}, partition_expiration_days=30)
DAY, TODAY = dt.date(2026, 3, 1), dt.date(2026, 3, 31)


def test_cells_tell_not_landed_expired_and_never_judged_apart_from_a_skip():
    def verdict(severity: str, message: str, **values) -> dict:
        return {"verdict:coverage": {"severity": severity, "message": message}, **values}

    assert cell_of(verdict("ERROR", "bad", row_count=3, games_scheduled=2), "coverage", TABLE, DAY, TODAY) == \
        ("ERROR", "bad")
    assert cell_of(verdict("SKIPPED", "no rows for this date: see coverage", row_count=0, games_scheduled=2),
                   "coverage", TABLE, DAY, TODAY).state == NOT_LANDED
    assert cell_of(verdict("SKIPPED", "not landed yet (no rows yet)", row_count=9, games_scheduled=2,
                           landing_pending=True), "coverage", TABLE, DAY, TODAY).state == NOT_LANDED
    assert cell_of(verdict("SKIPPED", "no games scheduled", row_count=0, games_scheduled=0), "coverage", TABLE, DAY,
                   TODAY).state == "SKIPPED"
    assert cell_of(verdict("SKIPPED", "0 records found: the date is past the partition expiration"), "coverage",
                   TABLE, DAY, TODAY).state == EXPIRED
    # nothing recorded: expired when older than the partition expiration, else never judged
    assert cell_of({}, "coverage", TABLE, dt.date(2026, 2, 28), TODAY).state == EXPIRED
    assert cell_of({}, "coverage", TABLE, dt.date(2026, 3, 1), TODAY) == (NEVER_JUDGED, "never judged")


def test_the_summary_counts_the_incidents_of_its_dates_and_each_channel_that_recorded_one():
    at = dt.datetime(2026, 3, 2, 9, tzinfo=dt.timezone.utc)
    hours = dt.timedelta(hours=1)
    states = {
        Incident("t", "coverage", DAY): IncidentState("OK", at, at, "ERROR", "", at + 2 * hours,
                                                      {"pagerduty": {"dedup_key": "k"}}),
        Incident("t", "arrival", DAY): IncidentState("OK", at, None, None, "", at + 10 * hours),
        Incident("t", "schema", DAY): IncidentState("OK", at, at, "ERROR", "", at + 3 * hours,
                                                    {"pagerduty": {"dedup_key": "j"}, "slack_bot": {"ts": "1.2"}}),
        Incident("t", "uniqueness", DAY): IncidentState("ERROR", at, at, "ERROR", ""),
        Incident("t", "coverage", DAY - dt.timedelta(days=1)): IncidentState("ERROR", at, at, "ERROR", ""),  # before
        Incident("u", "coverage", DAY): IncidentState("ERROR", at, at, "ERROR", ""),                        # another table
    }
    late = dt.datetime(2026, 3, 1, 11, 40, tzinfo=dt.timezone.utc)   # 06:40 New York
    landings = {DAY: LandingDay(True, late), DAY + dt.timedelta(days=1): LandingDay(True, None),
                DAY + dt.timedelta(days=2): LandingDay(False, None), DAY + dt.timedelta(days=3): None}
    summary = summarize(TABLE, [DAY + dt.timedelta(days=n) for n in range(4)], states, landings, "America/New_York")
    assert summary._replace(channels={}) == (4, 3, 1, 3 * hours, 10 * hours, 3, {}, 2, 1, 1)
    assert summary.channels == {"pagerduty": 2, "slack_bot": 1} and summary.alerts == 6


def test_the_dashboard_read_takes_only_its_names_from_either_history_store(bigquery_emulator, tmp_path):
    from feature_store_health.history.bigquery_store import BigQueryHistory
    from feature_store_health.history.duckdb_store import DuckDBHistory
    from feature_store_health.history.records import RunInfo, history_rows, record_row
    from feature_store_health.reporting.dashboard_data import DASHBOARD_NAMES

    info = RunInfo("r1", dt.datetime(2026, 4, 1, tzinfo=dt.timezone.utc), "duckdb", "src", "x")
    rows = history_rows(info, "t", DAY, {"row_count": 5, "null_pct_points": 1.5})
    rows += [record_row(info, "t", DAY, "incident:coverage", {"severity": "ERROR"}),
             record_row(info, "t", DAY, "verdict:schema", {"severity": "OK"}),
             record_row(info, "t", DAY, "reprocess", {"sent": True})]
    client = bigquery_emulator.client("dashboard")
    client.create_dataset("ops", exists_ok=True)
    stores = [DuckDBHistory(tmp_path / "h.duckdb"), BigQueryHistory(lambda: client, "dashboard.ops.history", {}, 30, str)]
    for store in stores:
        store.write(rows)
        assert set(store.read(["t"], DAY, DAY, "src")[("t", DAY)]) == \
            {"row_count", "null_pct_points", "incident:coverage", "verdict:schema", "reprocess"}
        assert store.read(["t"], DAY, DAY, "src", DASHBOARD_NAMES) == \
            {("t", DAY): {"row_count": 5, "incident:coverage": {"severity": "ERROR"}, "verdict:schema": {"severity": "OK"}}}


def test_a_rerun_of_a_past_date_leaves_the_calendar_and_the_open_incidents_of_the_daily_runs(demo, run_suite,
                                                                                             tmp_path):
    history, reports = tmp_path / "h.duckdb", tmp_path / "reports"
    common = (f"--database={demo.path}", f"--history={history}", f"--reports-dir={reports}")
    dashboard = reports / "dashboard.html"

    def shown() -> tuple[str, int]:
        import re

        page = dashboard.read_text()
        (dates,) = re.findall(r"Check dates (\S+ … \S+),", page)
        return dates, page.count('class="open-incident"')

    with freeze_time("2026-03-27 14:00:00"):   # the morning of 2026-03-27: its coverage incident opens
        today = run_suite(*common, "--date=2026-03-27", "-m", "coverage")
    assert today.ret == 1
    assert shown() == ("2025-12-28 … 2026-03-27", 2)   # both tables
    with freeze_time("2026-03-27 15:00:00"):   # a backfill check of January, later that morning
        backfill = run_suite(*common, "--date=2026-01-05", "-m", "coverage")
    assert backfill.ret == 0
    assert shown() == ("2025-12-28 … 2026-03-27", 2)   # not 2025-10-08 … 2026-01-05, no incident open
