"""drift and continuity fooled on purpose: one odd row, a lasting incident over many morning runs.
Each scenario a copy of the demo warehouse changed with SQL, run end to end."""

from __future__ import annotations

import re
import shutil

import duckdb
import pytest

from conftest import ROOT
from feature_store_health.warehouse import demo_warehouse_path

CACHE_TABLE = "nba_precompute.player_daily_cache"


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_warehouse_path(ROOT), path)
    return path


def test_a_counter_down_by_one_from_a_healthy_previous_row_is_a_decrease(run_suite, warehouse, tmp_path):
    """walkerbanchero's games_played_season: 51, then 52 on 2026-02-23, and on 02-26 written as 51
    (one less than his previous row). That is the level of the row before the previous one, but the
    previous row was no bad row (up by one after a game): no recovery, a decrease. The offending
    rows list him first, with both values, before the 105 players up by one as usual."""
    from test_reports import check_cards

    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(f"UPDATE {CACHE_TABLE} SET games_played_season = 51 "
                           "WHERE cache_date = DATE '2026-02-26' AND player_lookup = 'walkerbanchero'")
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse}", "--no-history", "--date=2026-02-26", "-m", "continuity",
                    f"--reports-dir={reports}", "--fail-on=warning")
    continuity = run.verdict("continuity")
    assert continuity["severity"] == "WARNING"
    assert continuity["message"] == "games_played_season decreased for 1 of 106 players"
    card = check_cards(next(reports.glob("*/*/report.html")))["test_health.py::test_continuity[player_daily_cache-2026-02-26]"]
    rows = re.findall(r"<tr>(.*?)</tr>", card[card.index("Offending rows"):])
    assert [re.sub(r"<[^>]+>", " ", cell).strip() for cell in re.findall(r"<td>(.*?)</td>", rows[1])] == [
        "2026-02-23", "walkerbanchero", "52", "51"]


def _spread(warehouse, first: str, last: str, column: str = "three_pt_rate_last_10", factor: float = 1.7) -> None:
    """``column`` x``factor`` about each day's median from ``first`` to ``last`` (the demo's spread shape)."""
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            f"UPDATE {CACHE_TABLE} SET {column} = ROUND(LEAST(100, GREATEST(0, m + {factor} * ({column} - m))), 2) "
            f"FROM (SELECT cache_date AS d, MEDIAN({column}) AS m FROM {CACHE_TABLE} GROUP BY 1) AS day "
            f"WHERE cache_date = day.d AND cache_date BETWEEN DATE '{first}' AND DATE '{last}'")


def test_a_lasting_incident_stays_flagged_after_its_clean_days_leave_the_lookback(run_suite, warehouse, tmp_path):
    """three_pt_rate_last_10's spread x1.7 from 2026-02-22 to 03-17, checked every morning, with a
    30-day lookback of 10 game days: from 03-12 fewer than 7 clean days of that column are left in
    it. Drift goes on judging the column against the level the incident left (carried from day to
    day, as anomalies'), so the incident's own days never become its baseline; fixed on 03-18, it
    is OK again that day."""
    import datetime as dt

    config = tmp_path / "health.toml"
    config.write_text((ROOT / "feature_store_health" / "health.toml").read_text().replace(
        "game_days = 30\n", "game_days = 10\n").replace("lookback_days = 45\n", "lookback_days = 30\n"))
    _spread(warehouse, "2026-02-22", "2026-03-17")
    args = [f"--database={warehouse}", f"--history={tmp_path / 'history.duckdb'}", f"--health-config={config}",
            "-m", "drift"]
    seen, messages = {}, {}
    day = dt.date(2026, 2, 21)
    while day <= dt.date(2026, 3, 19):
        drift = run_suite(*args, f"--date={day}").verdict("drift")
        column = next((entry for entry in drift["details"].get("columns", ())
                       if entry["column"] == "three_pt_rate_last_10"), None)
        seen[day.isoformat()] = (drift["severity"], column and column["baseline_days"], column and "level" in column)
        messages[day.isoformat()] = drift["message"]
        day += dt.timedelta(days=1)
    incident = {day: found for day, found in seen.items() if "2026-02-22" <= day <= "2026-03-17"}
    assert [day for day, found in incident.items() if found[0] not in ("WARNING", "ERROR", "CRITICAL")] == []
    assert all(found[2] for found in incident.values()), seen
    # fewer than 7 clean days of the column left in the lookback: judged against the carried level alone
    assert seen["2026-03-11"][1] == 7 and seen["2026-03-12"][1] == 0 and seen["2026-03-17"][1] == 0
    assert messages["2026-03-17"] == ("1 of 18 columns off their usual distribution: three_pt_rate_last_10: rows > "
                                      "49.8 (above the usual max) 31.6 % of rows, expected 0.0–1.7 % (score 28.1, "
                                      "off since 2026-02-22)")
    assert seen["2026-03-18"] == ("OK", 0, False)
    # released: the next day the column waits for clean days, named, never judged against the incident's
    assert seen["2026-03-19"] == ("OK", None, None)
    assert messages["2026-03-19"].endswith("; without a baseline in the same bins yet: three_pt_rate_last_10")


def test_a_refresh_of_the_learned_bins_during_a_lasting_incident_keeps_the_incidents_bins(run_suite, warehouse,
                                                                                          tmp_path):
    """learned_refresh_days = 7 while three_pt_rate_last_10's spread is x1.7 from 2026-02-22 to
    03-06: the bins of 02-21 are due again on 02-28, in the incident. Learned again then, the
    lookback's bad days would set the new bins and the carried level (of the old bins) would be
    dropped: the incident healed. The bins the incident is judged in are kept (and recorded again,
    so they stay within the history's reach) while it lasts; learned again once it is over."""
    import datetime as dt

    config = tmp_path / "health.toml"
    config.write_text((ROOT / "feature_store_health" / "health.toml").read_text().replace(
        "learned_refresh_days = 28\n", "learned_refresh_days = 7\n"))
    _spread(warehouse, "2026-02-22", "2026-03-06")
    args = [f"--database={warehouse}", f"--history={tmp_path / 'history.duckdb'}", f"--health-config={config}",
            "-m", "drift"]
    seen, learned = {}, {}
    day = dt.date(2026, 2, 21)
    while day <= dt.date(2026, 3, 8):
        run = run_suite(*args, f"--date={day}")
        seen[day.isoformat()] = run.verdict("drift")["severity"]
        learned[day.isoformat()] = run.results["learned"]["player_daily_cache"]["id"]
        day += dt.timedelta(days=1)
    incident = {day: severity for day, severity in seen.items() if "2026-02-22" <= day <= "2026-03-06"}
    assert [day for day, severity in incident.items() if severity not in ("WARNING", "ERROR", "CRITICAL")] == [], seen
    # the bins of the first run throughout the incident, past the refresh due on 02-28
    assert {learned[day] for day in incident} == {learned["2026-02-21"]}, learned
    assert seen["2026-03-07"] == "OK"
