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
