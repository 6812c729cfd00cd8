"""Every column, every day: the schema contract, duplicate keys, value ranges, the column profile,
and the two blind spots (playing teams without rows, partly unpopulated quality tiers)."""

from __future__ import annotations

import datetime as dt

import pytest

from feature_store_health.checks.dimensions import DIMENSIONS, JudgeContext
from feature_store_health.config import load_config

DATE = dt.date(2026, 2, 5)  # healthy: 252 rows, 18 teams playing
TABLE = load_config().tables[0]
AS_OF = dt.datetime(2026, 2, 5, 14, 0, tzinfo=dt.timezone.utc)
PLAYING = ["BKN", "BOS", "CHA", "CHI", "DAL", "DEN", "DET", "GSW", "IND", "LAC", "MIA", "MIL", "MIN", "NOP",
           "ORL", "SAS", "TOR", "UTA"]


def coverage(with_rows: list[str], rows: int = 252):
    values = {"row_count": rows, "games_scheduled": 9, "teams_playing": 18,
              "teams_scheduled": ",".join(PLAYING), "teams_with_rows": ",".join(with_rows)}
    return DIMENSIONS["coverage"].judge(values, TABLE, TABLE.thresholds["coverage"], JudgeContext(AS_OF))


@pytest.mark.parametrize(("missing", "severity"), [
    ([], "OK"),
    (["BOS"], "ERROR"),
    (["BOS", "LAL"], "ERROR"),            # LAL is not playing: only BOS counts
    (["BOS", "CHA", "DAL", "DEN"], "ERROR"),           # 22.2 %: not more than a quarter
    (["BOS", "CHA", "DAL", "DEN", "DET"], "CRITICAL"),  # 27.8 %
])
def test_playing_teams_without_rows(missing, severity):
    judgement = coverage([team for team in PLAYING if team not in missing])
    assert judgement.severity.value == severity
    named = sorted(set(missing) & set(PLAYING))
    assert judgement.details["teams_without_rows"] == named
    if named:
        assert judgement.message.endswith(f"{len(named)} of 18 playing teams have no rows "
                                          f"({100 * len(named) / 18:.1f}%): {', '.join(named)}")


def test_playing_teams_without_rows_outrank_a_low_per_team_average():
    judgement = coverage([team for team in PLAYING if team not in ("BOS", "CHA")], rows=150)
    assert judgement.severity.value == "ERROR"  # not the WARNING of 8.3 rows per team


def test_two_playing_teams_without_rows_end_to_end(warehouse, run_suite):
    home, away = warehouse.execute_one("SELECT home_team_abbr, away_team_abbr FROM nba_reference.nba_schedule "
                                       "WHERE game_date = ? ORDER BY game_id LIMIT 1", [DATE])
    warehouse.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND team_abbr IN (?, ?)",
                      [DATE, home, away])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("coverage")
    assert verdict["severity"] == "ERROR"
    named = sorted([home, away])
    assert verdict["details"]["teams_without_rows"] == named
    assert verdict["message"].endswith(f"but 2 of 18 playing teams have no rows (11.1%): {', '.join(named)}")
    assert run.ret == 1


def test_tiers_null_on_a_third_of_rows_end_to_end(warehouse, run_suite):
    warehouse.affect_rows(DATE, 84, "quality_tier = NULL")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("quality_tiers")
    assert verdict["severity"] == "WARNING"
    assert verdict["details"]["tier_null_pct"] == 33.33
    assert "quality_tier NULL on 33.3% of rows (84/252)" in verdict["message"]
    assert run.ret == 0
    assert run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--fail-on=warning").ret == 1
