"""source_consistency: the cache's stat features recomputed from player_game_summary (SPEC §9).

The defects are written into a healthy warehouse with SQL over its own box scores, the way a
broken Phase 4 would write them, so the check is tried against the rule and not against the
demo generator's code: DNPs counted, a window off by one game, a feature copied from another
column, players dropped.
"""

from __future__ import annotations

import datetime as dt

import pytest

from feature_store_health.checks.dimensions import DIMENSIONS, JudgeContext
from feature_store_health.config import load_config

from conftest import table_entry

DATE = dt.date(2026, 2, 5)  # healthy: 252 rows, 225 expected players
ROWS = 252
PLAYED = "s.points IS NOT NULL AND (s.points > 0 OR s.minutes_played IS NOT NULL)"


def window(condition: str = PLAYED) -> str:
    """Every cache row of the date with its player's season games before it (those meeting
    ``condition``), most recent first."""
    return f"""
        SELECT c.player_lookup, s.game_date, s.points, s.minutes_played, s.usage_rate,
               ROW_NUMBER() OVER (PARTITION BY c.player_lookup ORDER BY s.game_date DESC) AS recency
        FROM nba_precompute.player_daily_cache AS c
        JOIN nba_analytics.player_game_summary AS s
          ON s.player_lookup = c.player_lookup AND s.game_date < c.cache_date AND s.season_year = 2025
        WHERE c.cache_date = DATE '{DATE}' AND {condition}"""


def update_from(warehouse, select: str, assignments: str, players: str = "TRUE") -> None:
    warehouse.execute(f"""
        UPDATE nba_precompute.player_daily_cache AS c SET {assignments}
        FROM ({select}) AS w
        WHERE c.cache_date = ? AND c.player_lookup = w.player_lookup AND ({players})""", [DATE])


def dnp_counted(warehouse, players: int) -> list[str]:
    """The platform's old bug for ``players`` players who sat out a game: DNP rows read as played
    games with 0 points and 0 minutes in every window and in the season count."""
    chosen = [row[0] for row in _fetch(warehouse, f"""
        SELECT DISTINCT player_lookup FROM ({window("NOT (" + PLAYED + ")")}) ORDER BY player_lookup LIMIT {players}""")]
    everything = window("TRUE")
    select = f"""
        SELECT player_lookup,
               AVG(IF(recency <= 5, COALESCE(points, 0), NULL)) AS l5,
               AVG(IF(recency <= 10, COALESCE(points, 0), NULL)) AS l10,
               AVG(COALESCE(points, 0)) AS season,
               STDDEV_SAMP(IF(recency <= 10, COALESCE(points, 0), NULL)) AS sd10,
               AVG(IF(recency <= 10, COALESCE(minutes_played, 0), NULL)) AS min10,
               COUNT(*) AS games
        FROM ({everything}) GROUP BY player_lookup"""
    names = ", ".join(f"'{name}'" for name in chosen)
    update_from(warehouse, select, "points_avg_last_5 = ROUND(w.l5, 4), points_avg_last_10 = ROUND(w.l10, 4), "
                "points_avg_season = ROUND(w.season, 4), points_std_last_10 = ROUND(w.sd10, 4), "
                "minutes_avg_last_10 = ROUND(w.min10, 4), games_played_season = w.games",
                f"c.player_lookup IN ({names})")
    return chosen


def _fetch(warehouse, sql: str) -> list[tuple]:
    import duckdb

    connection = duckdb.connect(str(warehouse.path), read_only=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def expected_players(warehouse) -> list[tuple[str, str]]:
    """(player, team) the roster check expects on the date, by its rule, from the box scores."""
    return _fetch(warehouse, f"""
        SELECT s.player_lookup, arg_max(s.team_abbr, s.game_date)
        FROM nba_analytics.player_game_summary AS s
        WHERE s.game_date < DATE '{DATE}' AND s.season_year = 2025 AND {PLAYED}
        GROUP BY s.player_lookup
        HAVING COUNT(*) >= 3 AND MAX(s.game_date) >= DATE '{DATE}' - INTERVAL 14 DAY
           AND arg_max(s.team_abbr, s.game_date) IN (
               SELECT home_team_abbr FROM nba_reference.nba_schedule WHERE game_date = DATE '{DATE}'
               UNION SELECT away_team_abbr FROM nba_reference.nba_schedule WHERE game_date = DATE '{DATE}')
        ORDER BY s.player_lookup""")


# -- end to end, on the healthy demo week ----------------------------------------------------------

def test_dnps_counted_for_some_players_is_an_error_naming_the_features(warehouse, run_suite):
    chosen = dnp_counted(warehouse, 10)  # 10 of 252 rows: 4.0 %
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("source_consistency")
    assert (verdict["severity"], verdict["value"]) == ("ERROR", 3.97)
    assert verdict["details"]["mismatched_rows"] == 10
    assert verdict["details"]["mismatches"]["games_played_season"] == 10  # every one sat out a game
    assert verdict["message"].startswith("4.0% rows differ from nba_analytics.player_game_summary (10/252): worst ")
    worst = verdict["message"].split("worst ", 1)[1].split(" ", 1)[0]
    assert verdict["details"]["mismatches"][worst] == 10
    # a counted DNP also makes games_played_season rise by two in a day: continuity sees the players
    # who had a row the day before (issue 18); every other check of both tables passes
    continuity = run.verdict("continuity")
    assert continuity["severity"] == "ERROR"
    assert continuity["message"].startswith("games_played_season rose by more than one a day for 9 of 248 players")
    others = {(c["table"], c["dimension"]): c["severity"] for c in run.checks(None)
              if c["dimension"] not in ("source_consistency", "continuity")}
    assert set(others.values()) == {"OK"}, others
    assert run.ret == 1
    assert f"e.g. {chosen[0]} " in verdict["message"]  # an example: the first such player, stored vs recomputed


def test_the_severity_follows_the_configured_thresholds(warehouse, run_suite, tmp_path):
    dnp_counted(warehouse, 10)  # 3.97 %
    config = tmp_path / "health.toml"
    config.write_text("[thresholds.source_consistency]\nwarning_above = 1\nerror_above = 5\ncritical_above = 20\n")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--health-config={config}")
    verdict = run.verdict("source_consistency")
    assert verdict["severity"] == "WARNING" and verdict["threshold"]["error_above"] == 5
    # the WARNING does not fail the run: only continuity's ERROR on the same defect does (issue 18)
    assert run.verdict("continuity")["severity"] == "ERROR"
    assert {c["severity"] for c in run.checks(None) if c["dimension"] not in ("source_consistency", "continuity")} \
        == {"OK"}
    assert run.ret == 1
    dnp_counted(warehouse, 60)  # 60 of 252: 23.8 %
    assert run_suite(f"--database={warehouse.path}", "--date=2026-02-05",
                     f"--health-config={config}").verdict("source_consistency")["severity"] == "CRITICAL"


def test_a_window_off_by_one_game(warehouse, run_suite):
    """points_avg_last_10 over the 11 most recent played games, on every row."""
    update_from(warehouse, f"SELECT player_lookup, AVG(IF(recency <= 11, points, NULL)) AS l11 FROM ({window()}) "
                "GROUP BY player_lookup", "points_avg_last_10 = ROUND(w.l11, 4)")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("source_consistency")
    off = verdict["details"]["mismatches"]
    # every player with more than 10 played games (the rest have no 11th), bar an exact tie now and then
    longer = _fetch(warehouse, f"SELECT COUNT(DISTINCT player_lookup) FROM ({window()}) WHERE recency = 11")[0][0]
    assert list(off) == ["points_avg_last_10"] and 0.95 * longer <= off["points_avg_last_10"] <= longer
    assert verdict["severity"] == "CRITICAL"
    assert "worst points_avg_last_10 on " in verdict["message"]
    assert run.verdict("value_ranges")["severity"] == "OK" and run.verdict("null_rates")["severity"] == "OK"


def test_a_feature_copied_from_another_column(warehouse, run_suite):
    warehouse.execute("UPDATE nba_precompute.player_daily_cache SET usage_rate_last_10 = minutes_avg_last_10 "
                      "WHERE cache_date = ?", [DATE])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("source_consistency")
    assert verdict["severity"] == "CRITICAL" and verdict["details"]["mismatches"] == {"usage_rate_last_10": ROWS}
    assert verdict["message"].startswith(
        f"100.0% rows differ from nba_analytics.player_game_summary ({ROWS}/{ROWS}): worst usage_rate_last_10 on {ROWS} rows")


@pytest.mark.parametrize(("dropped", "severity"), [(4, "OK"), (6, "WARNING"), (15, "ERROR")])
def test_dropped_players_are_named_by_the_roster_check(warehouse, run_suite, dropped, severity):
    expected = expected_players(warehouse)
    assert len(expected) == 225
    gone = [player for player, _ in expected[:dropped]]
    warehouse.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND player_lookup IN ("
                      + ", ".join(f"'{player}'" for player in gone) + ")", [DATE])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("source_consistency")
    assert verdict["severity"] == severity  # % of 225 expected: 1.8, 2.7 (> 2), 6.7 (> 5)
    assert (verdict["details"]["missing_players"], verdict["details"]["expected_players"]) == (dropped, 225)
    assert verdict["details"]["missing"] == sorted(gone)
    share = f"{100 * dropped / 225:.1f}"
    assert f"{dropped} of 225 expected players have no row ({share}%): " in verdict["message"]
    assert all(player in verdict["message"] for player in sorted(gone)[:10])
    if dropped > 10:
        assert f"and {dropped - 10} more" in verdict["message"]
    assert run.verdict("coverage")["severity"] == "OK"  # 13+ rows a team: coverage cannot see it


def test_one_query_whatever_the_window(warehouse, run_suite):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=8", "-m", "source_consistency")
    assert [(q["table"], q["purpose"]) for q in run.results["queries"]] == [("player_daily_cache", "source_consistency")]
    assert len(run.checks()) == 8 and {c["severity"] for c in run.checks()} == {"OK"}
    assert run.checks()[0]["date"] == "2026-01-29"  # 2026-01-29: the first date the warehouse holds


def test_a_missing_source_table_is_not_evaluated_never_a_pass(warehouse, run_suite):
    warehouse.execute("DROP TABLE nba_analytics.player_game_summary")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("source_consistency")
    assert verdict["severity"] == "NOT_EVALUATED"
    assert "player_game_summary" in verdict["message"] and "Traceback" not in run.stdout
    others = {c["severity"] for c in run.checks(None) if c["dimension"] != "source_consistency"}
    assert others == {"OK"} and run.ret == 1


# -- the judge ---------------------------------------------------------------------------------------

def judge(mismatched: int = 0, missing: int = 0, rows: int = 200, expected: int = 180, **mismatches: int):
    config = load_config()
    table = config.tables[0]
    values = {"games_scheduled": 8, "row_count": rows, "mismatched_rows": mismatched,
              "mismatches": {feature: mismatches.get(feature, 0) for feature in table.source.features},
              "expected_players": expected, "missing_players": missing,
              "mismatch_samples": [], "missing_sample": [(f"player{n:02d}", "BOS") for n in range(missing)]}
    context = JudgeContext(as_of=dt.datetime(2026, 2, 5, 14, tzinfo=dt.timezone.utc))
    return DIMENSIONS["source_consistency"].judge(values, table, table.thresholds["source_consistency"], context)


@pytest.mark.parametrize(("mismatched", "severity"), [(0, "OK"), (1, "OK"), (2, "WARNING"), (4, "WARNING"),
                                                      (5, "ERROR"), (20, "ERROR"), (21, "CRITICAL")])
def test_share_of_rows_off_bands(mismatched, severity):
    """0.5 % of 200 rows is 1 row: strictly above it warns; above 2 % (4 rows) errs; above 10 % is critical."""
    judgement = judge(mismatched, points_avg_last_10=mismatched)
    assert judgement.severity.value == severity


@pytest.mark.parametrize(("missing", "severity"), [(3, "OK"), (4, "WARNING"), (9, "WARNING"), (10, "ERROR")])
def test_roster_bands(missing, severity):
    """Of 180 expected players: 3.6 is 2 %, 9 is 5 %."""
    assert judge(missing=missing).severity.value == severity


def test_the_worse_of_the_two_findings_decides_and_both_are_told():
    judgement = judge(3, missing=12, ts_pct_last_10=3)
    assert judgement.severity.value == "ERROR"   # the roster (6.7 %) outranks the features (1.5 %)
    assert judgement.value == 6.67
    assert "1.5% rows differ" in judgement.message and "worst ts_pct_last_10 on 3 rows" in judgement.message
    assert "12 of 180 expected players have no row (6.7%): player00" in judgement.message
    assert judgement.message.endswith("and 2 more")


def test_nothing_to_judge_without_games_or_rows():
    assert judge(rows=0).severity.value == "SKIPPED"


# -- the source's own faults: never blamed on the cache ------------------------------------------------

SOURCE = "nba_analytics.player_game_summary"


def unseason_schedule(warehouse, check_date: dt.date, games: int | None = None) -> None:
    """The schedule's season_year NULL for the date's games (all of them, or the first ``games``)."""
    which = "" if games is None else (f" AND game_id IN (SELECT game_id FROM nba_reference.nba_schedule "
                                      f"WHERE game_date = DATE '{check_date}' ORDER BY game_id LIMIT {games})")
    warehouse.execute(f"UPDATE nba_reference.nba_schedule SET season_year = NULL WHERE game_date = ?{which}",
                      [check_date])


def duplicate_box_scores(warehouse, players: int, copies: int = 2, order: str = "") -> list[tuple[str, str]]:
    """A Phase 3 rerun appended instead of replacing: the most recent played game before the date of the
    first ``players`` players of the date's cache (by name, ``order`` DESC for the last ones), ``copies``
    times in all. The cache is left as it was (Phase 4 read the source before the rerun)."""
    chosen = _fetch(warehouse, f"""
        SELECT player_lookup, MAX(game_date) FROM nba_analytics.player_game_summary AS s
        WHERE game_date < DATE '{DATE}' AND season_year = 2025 AND {PLAYED} AND player_lookup IN (
            SELECT player_lookup FROM nba_precompute.player_daily_cache WHERE cache_date = DATE '{DATE}'
            ORDER BY player_lookup {order} LIMIT {players})
        GROUP BY player_lookup ORDER BY player_lookup""")
    for _ in range(copies - 1):
        warehouse.execute("INSERT INTO nba_analytics.player_game_summary SELECT * FROM nba_analytics.player_game_summary "
                          "WHERE (player_lookup, game_date) IN (" + ", ".join(f"('{p}', DATE '{d}')" for p, d in chosen)
                          + ") QUALIFY ROW_NUMBER() OVER (PARTITION BY player_lookup, game_date) = 1")
    return [(player, day.isoformat()) for player, day in chosen]


def test_a_date_the_schedule_gives_no_season_is_not_evaluated_naming_the_schedule(warehouse, run_suite):
    """It read "100.0% rows differ … NULL recomputed" (CRITICAL, the cache blamed) and dropped the roster part."""
    unseason_schedule(warehouse, DATE)
    unseason_schedule(warehouse, DATE - dt.timedelta(days=1), games=1)  # the others still tell that date's season
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=2")
    verdict = run.verdict("source_consistency", "2026-02-05")
    assert verdict["severity"] == "NOT_EVALUATED" and verdict["value"] is None
    assert verdict["message"] == (
        "not evaluated: nba_reference.nba_schedule.season_year is NULL for the 9 games of 2026-02-05: cannot tell "
        f"the date's season, so no window can be recomputed from {SOURCE} and no roster expected")
    assert verdict["details"] == {"games_scheduled": 9, "rows": ROWS, "season_source": "nba_reference.nba_schedule.season_year",
                                  "source": SOURCE}
    assert run.verdict("source_consistency", "2026-02-04")["severity"] == "OK"
    assert run.verdict("source_consistency", "2026-02-04")["message"].startswith("all ")
    assert run.ret == 1


def read_every_copy(warehouse, players: list[str]) -> None:
    """Phase 4 ran after the duplicates landed: the players' rows computed from every copy."""
    update_from(warehouse, f"""
        SELECT player_lookup, AVG(IF(recency <= 5, points, NULL)) AS l5, AVG(IF(recency <= 10, points, NULL)) AS l10,
               AVG(points) AS season, STDDEV_SAMP(IF(recency <= 10, points, NULL)) AS sd10,
               AVG(IF(recency <= 10, minutes_played, NULL)) AS min10, AVG(IF(recency <= 10, usage_rate, NULL)) AS u10,
               AVG(IF(recency <= 10, ts_pct, NULL)) AS ts10, COUNT(*) AS games
        FROM ({window().replace("s.usage_rate,", "s.usage_rate, s.ts_pct,")}) GROUP BY player_lookup""",
                "points_avg_last_5 = ROUND(w.l5, 4), points_avg_last_10 = ROUND(w.l10, 4), "
                "points_avg_season = ROUND(w.season, 4), points_std_last_10 = ROUND(w.sd10, 4), "
                "minutes_avg_last_10 = ROUND(w.min10, 4), usage_rate_last_10 = ROUND(w.u10, 4), "
                "ts_pct_last_10 = ROUND(w.ts10, 4), games_played_season = w.games",
                "c.player_lookup IN (" + ", ".join(f"'{player}'" for player in players) + ")")


@pytest.mark.parametrize("phase4", ["before", "after"])
def test_duplicated_box_scores_are_named_never_a_cache_mismatch(warehouse, run_suite, phase4):
    """Phase 4 ran before the duplicates landed: it read "1.2% rows differ from
    nba_analytics.player_game_summary (3/252)", the cache blamed. After (it read every copy, as the old
    recompute did): "all 252 rows match", the source's fault unseen. Both name the duplicates now."""
    doubled = duplicate_box_scores(warehouse, 3)
    warehouse.execute("INSERT INTO nba_analytics.player_game_summary SELECT * FROM nba_analytics.player_game_summary "
                      f"WHERE player_lookup = '{doubled[0][0]}' AND game_date = DATE '{doubled[0][1]}' LIMIT 1")  # 3 copies
    if phase4 == "after":
        read_every_copy(warehouse, [player for player, _ in doubled])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=2")
    verdict = run.verdict("source_consistency", "2026-02-05")
    assert verdict["severity"] == "NOT_EVALUATED" and verdict["value"] is None
    named = ", ".join(f"{player} on {day} ({copies} copies)" for (player, day), copies in zip(doubled, (3, 2, 2)))
    assert verdict["message"] == (
        f"not evaluated for 3 of {ROWS} rows: {SOURCE} holds 3 duplicated box scores in their players' season before "
        f"the date: {named} (which copy a window reads is undefined: deduplicate the source, then reprocess); "
        f"of the other rows: all {ROWS - 3} rows match {SOURCE} within 0.01; all 225 expected players have a row")
    details = verdict["details"]
    assert details["duplicates"] == [{"player": player, "game_date": day, "copies": copies}
                                     for (player, day), copies in zip(doubled, (3, 2, 2))]
    assert (details["duplicated_rows"], details["duplicated_games"], details["rows"], details["mismatched_rows"]) == \
        (3, 3, ROWS - 3, 0)
    # a copy of a game on 2026-02-04 is in no window of that date's rows (games before the date): it stands
    on_the_day = [player for player, day in doubled if day == "2026-02-04"]
    with_a_row = _fetch(warehouse, "SELECT COUNT(*) FROM nba_precompute.player_daily_cache WHERE cache_date = "
                        "DATE '2026-02-04' AND player_lookup IN (" + ", ".join(f"'{p}'" for p in on_the_day) + ")")
    assert with_a_row == [(2,)]
    earlier = run.verdict("source_consistency", "2026-02-04")
    assert earlier["severity"] == "OK" and earlier["message"].startswith("all ")
    assert run.ret == 1


@pytest.mark.parametrize(("fault", "severity", "value", "told"), [
    ("copied", "CRITICAL", 100.0, f"100.0% rows differ from {SOURCE} ({ROWS - 4}/{ROWS - 4}): worst usage_rate_last_10 "),
    ("dnps", "NOT_EVALUATED", None, f"4.0% rows differ from {SOURCE} (10/{ROWS - 4}): worst "),
])
def test_a_cache_fault_beside_duplicated_box_scores_counts_the_other_rows_only(warehouse, run_suite, fault, severity,
                                                                               value, told):
    """4 players on duplicated box scores (the last by name) beside a cache fault. Every row's usage copied
    from minutes: 248 cache faults, the 4 not counted; a CRITICAL the duplicates do not explain stays
    CRITICAL. DNPs counted for 10 (other) players, an ERROR: it ties with NOT_EVALUATED, which wins."""
    doubled = duplicate_box_scores(warehouse, 4, order="DESC")
    if fault == "copied":
        warehouse.execute("UPDATE nba_precompute.player_daily_cache SET usage_rate_last_10 = minutes_avg_last_10 "
                          "WHERE cache_date = ?", [DATE])
    else:
        assert not {player for player, _ in doubled} & set(dnp_counted(warehouse, 10))
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-m", "source_consistency")
    verdict = run.verdict("source_consistency")
    assert (verdict["severity"], verdict["value"]) == (severity, value)
    mismatched = ROWS - 4 if fault == "copied" else 10
    assert (verdict["details"]["rows"], verdict["details"]["mismatched_rows"]) == (ROWS - 4, mismatched)
    if fault == "copied":
        assert verdict["details"]["mismatches"] == {"usage_rate_last_10": ROWS - 4}
    assert [duplicate["player"] for duplicate in verdict["details"]["duplicates"]] == [player for player, _ in doubled]
    assert verdict["message"].startswith(f"not evaluated for 4 of {ROWS} rows: {SOURCE} holds 4 duplicated box scores")
    assert f"; of the other rows: {told}" in verdict["message"]
    assert run.ret == 1


def test_the_source_faults_cost_no_query(warehouse, run_suite):
    unseason_schedule(warehouse, DATE)
    duplicate_box_scores(warehouse, 3)
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=8", "-m", "source_consistency")
    assert [(q["table"], q["purpose"]) for q in run.results["queries"]] == [("player_daily_cache", "source_consistency")]
    severities = [c["severity"] for c in run.checks()]
    assert severities == ["OK"] * 7 + ["NOT_EVALUATED"]



def unseason_box_scores(warehouse, where: str, column: str = "season_year") -> list[tuple[str, str]]:
    """Phase 3 wrote the box scores ``where`` picks (over ``s``) without their season. Returns (player,
    game date) of those played before the date whose player has a row on it, by player and date."""
    warehouse.execute(f"UPDATE nba_analytics.player_game_summary AS s SET {column} = NULL WHERE ({where})")
    return [(player, day.isoformat()) for player, day in _fetch(warehouse, f"""
        SELECT s.player_lookup, s.game_date FROM nba_analytics.player_game_summary AS s
        WHERE ({where}) AND s.game_date < DATE '{DATE}' AND {PLAYED} AND s.player_lookup IN (
            SELECT player_lookup FROM nba_precompute.player_daily_cache WHERE cache_date = DATE '{DATE}')
        ORDER BY s.player_lookup, s.game_date""")]


def players_not_on(warehouse, team: str) -> list[str]:
    """The date's cache players who are not on ``team``, last by name first."""
    return [row[0] for row in _fetch(warehouse, f"""
        SELECT player_lookup FROM nba_precompute.player_daily_cache
        WHERE cache_date = DATE '{DATE}' AND team_abbr != '{team}' ORDER BY player_lookup DESC""")]


def unseasoned_message(games: list[tuple[str, str]], column: str = "season_year") -> str:
    named = ", ".join(f"{player} on {day}" for player, day in games[:10])
    more = f" and {len(games) - 10} more" if len(games) > 10 else ""
    return (f"{SOURCE}.{column} is NULL for {len(games)} played games in their players' season before the date: "
            f"{named}{more} (whether a window reads them is undefined: fill in their season, then reprocess)")


@pytest.mark.parametrize(("column", "phase4"), [("season_year", "before"), ("season_year", "after"),
                                                ("season", "before")])
def test_box_scores_without_a_season_are_named_never_a_cache_mismatch(warehouse, run_suite, tmp_path, column, phase4):
    """A team's box scores of 2026-02-03 and one player's December game written with no season. Phase 4
    ran before (it read them in): "4.4% rows differ from nba_analytics.player_game_summary (11/252)",
    an ERROR of the cache. After (it left them out, as the recompute did): "all 252 rows match", the
    source's fault unseen. Both name the games now, in the source's season column (also when the source
    config names another), and leave their players' rows out. A game with no season before the
    season's first (by the box scores: the schedule holds only the week) is in no window: it stands."""
    options = [f"--database={warehouse.path}", "--date=2026-02-05", "-m", "source_consistency"]
    if column != "season_year":
        warehouse.execute(f"ALTER TABLE nba_analytics.player_game_summary RENAME COLUMN season_year TO {column}")
        config = tmp_path / "renamed.toml"
        config.write_text(table_entry(extra=f'[tables.source]\nseason_column = "{column}"\n'))
        options.append(f"--health-config={config}")
    december, last_season = players_not_on(warehouse, "BOS")[:2]
    unseasoned = unseason_box_scores(
        warehouse, f"(s.game_date = DATE '2026-02-03' AND s.team_abbr = 'BOS') OR (s.player_lookup = '{december}' AND "
        f"s.game_date = (SELECT MIN(game_date) FROM nba_analytics.player_game_summary WHERE player_lookup = '{december}' "
        f"AND game_date >= DATE '2025-12-01' AND points > 0))", column)
    warehouse.execute(f"INSERT INTO nba_analytics.player_game_summary SELECT * REPLACE (DATE '2025-04-10' AS game_date, "
                      f"NULL AS {column}) FROM nba_analytics.player_game_summary WHERE player_lookup = '{last_season}' "
                      "AND points > 0 ORDER BY game_date LIMIT 1")
    assert len(unseasoned) == 11 and unseasoned[0][0] < december and unseasoned[-1][0] == december
    if phase4 == "after":
        read_every_copy(warehouse, [player for player, _ in unseasoned])
    run = run_suite(*options)
    verdict = run.verdict("source_consistency")
    assert (verdict["severity"], verdict["value"]) == ("NOT_EVALUATED", None)
    assert verdict["message"] == (
        f"not evaluated for 11 of {ROWS} rows: {unseasoned_message(unseasoned, column)}; of the other rows: "
        f"all {ROWS - 11} rows match {SOURCE} within 0.01; all 225 expected players have a row")
    details = verdict["details"]
    assert details["no_season"] == [{"player": player, "game_date": day} for player, day in unseasoned]
    assert (details["no_season_source"], details["no_season_rows"], details["no_season_games"], details["rows"],
            details["mismatched_rows"], details["not_compared_rows"]) == (f"{SOURCE}.{column}", 11, 11, ROWS - 11, 0, 11)
    assert "duplicates" not in details and run.ret == 1


def test_both_faults_of_the_box_scores_at_once_and_a_cache_fault_beside_them(warehouse, run_suite):
    """Duplicated box scores for 3 players, one of them with a game without a season too, and BOS's
    2026-02-03 without a season: each fault named, each player's row left out once; usage copied
    from minutes on every row, a CRITICAL the source's faults do not explain, stays CRITICAL."""
    doubled = duplicate_box_scores(warehouse, 3)
    first = doubled[0][0]
    unseasoned = unseason_box_scores(
        warehouse, f"(s.game_date = DATE '2026-02-03' AND s.team_abbr = 'BOS') OR (s.player_lookup = '{first}' AND "
        f"s.game_date = (SELECT MIN(game_date) FROM nba_analytics.player_game_summary WHERE player_lookup = '{first}' "
        "AND points > 0))")
    assert first not in {player for player, _ in doubled[1:]} and len(unseasoned) == 11
    warehouse.execute("UPDATE nba_precompute.player_daily_cache SET usage_rate_last_10 = minutes_avg_last_10 "
                      "WHERE cache_date = ?", [DATE])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "-m", "source_consistency")
    verdict = run.verdict("source_consistency")
    left_out = 3 + 10  # the 3 duplicated, BOS's 10 (the first player's two faults: one row)
    assert (verdict["severity"], verdict["value"]) == ("CRITICAL", 100.0)
    named = ", ".join(f"{player} on {day} (2 copies)" for player, day in doubled)
    out = {player for player, _ in doubled + unseasoned}
    example = next(player for player in reversed(players_not_on(warehouse, "")) if player not in out)
    message, shown_example = verdict["message"].split(", e.g. ")
    assert message == (
        f"not evaluated for {left_out} of {ROWS} rows: {SOURCE} holds 3 duplicated box scores in their players' "
        f"season before the date: {named} (which copy a window reads is undefined: deduplicate the source, then "
        f"reprocess); {unseasoned_message(unseasoned)}; of the other rows: 100.0% rows differ from {SOURCE} "
        f"({ROWS - left_out}/{ROWS - left_out}): worst usage_rate_last_10 on {ROWS - left_out} rows")
    assert shown_example.startswith(f"{example} ") and shown_example.endswith("; all 225 expected players have a row")
    details = verdict["details"]
    assert (details["not_compared_rows"], details["duplicated_rows"], details["no_season_rows"], details["rows"]) == \
        (left_out, 3, 11, ROWS - left_out)
    assert details["mismatches"] == {"usage_rate_last_10": ROWS - left_out}
    assert run.ret == 1
