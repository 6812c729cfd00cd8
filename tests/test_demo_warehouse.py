"""The demo warehouse: laid out as the contracts say, deterministic, the team's published week, its
team-level columns and its distribution incidents."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from decimal import Decimal
from pathlib import Path
from statistics import mean, median, stdev

import duckdb
import pytest

from feature_store_health.warehouse import demo_warehouse_path

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "fixtures" / "schema"


def test_tables_follow_the_contracts(healthy_warehouse_file):
    connection = duckdb.connect(str(healthy_warehouse_file), read_only=True)
    for contract in sorted(SCHEMA.glob("*.json")):
        dataset, table = contract.stem.split(".")
        columns = connection.execute(
            "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
            "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position", [dataset, table],
        ).fetchall()
        fields = json.loads(contract.read_text())
        assert [name for name, _, _ in columns] == [field["name"] for field in fields]
        for (name, data_type, nullable), field in zip(columns, fields):
            assert (nullable == "NO") == (field.get("mode") == "REQUIRED"), name
            assert data_type.endswith("[]") == (field.get("mode") == "REPEATED"), name
    cache_columns = connection.execute(
        "SELECT count(*) FROM information_schema.columns WHERE table_name = 'player_daily_cache'").fetchone()[0]
    assert cache_columns == 76


def test_published_healthy_week(healthy_warehouse_file):
    connection = duckdb.connect(str(healthy_warehouse_file), read_only=True)
    rows = connection.execute(
        "SELECT cache_date, count(*), count(DISTINCT player_lookup) FROM nba_precompute.player_daily_cache "
        "WHERE cache_date BETWEEN '2026-02-01' AND '2026-02-05' GROUP BY 1 ORDER BY 1").fetchall()
    assert [(count, players) for _, count, players in rows] == [(303, 303), (125, 125), (307, 307), (218, 218), (252, 252)]
    active = connection.execute(
        "SELECT count(*) FROM nba_predictions.player_prop_predictions WHERE game_date = '2026-02-05' AND is_active"
    ).fetchone()[0]
    assert active == 914
    # processed around 02:00 New York time (07:00 UTC in February)
    hours = connection.execute(
        "SELECT min(hour(processed_at)), max(hour(processed_at)) FROM nba_precompute.player_daily_cache").fetchone()
    assert hours[0] >= 6 and hours[1] <= 7


def test_generation_is_deterministic_and_seeded_by_date(tmp_path, demo_generator, healthy_warehouse_file):
    """A warehouse of one day holds exactly the rows the longer one holds for that day."""
    single = tmp_path / "one-day.duckdb"
    demo_generator.build_warehouse(single, dt.date(2026, 2, 5), dt.date(2026, 2, 5))
    digest = (
        "SELECT md5(string_agg(player_lookup || points_avg_last_10 || coalesce(quality_tier, '') "
        "|| processed_at, ',' ORDER BY player_lookup)) FROM nba_precompute.player_daily_cache WHERE cache_date = '2026-02-05'"
    )
    one = duckdb.connect(str(single), read_only=True).execute(digest).fetchone()[0]
    week = duckdb.connect(str(healthy_warehouse_file), read_only=True).execute(digest).fetchone()[0]
    assert one == week


def test_no_games_in_the_all_star_break(demo_generator):
    season = demo_generator.Season()
    assert all(not season.games[dt.date(2026, 2, day)] for day in range(13, 19))
    assert season.games[dt.date(2026, 2, 12)] and season.games[dt.date(2026, 2, 19)]
    counts = [len(games) for games in season.games.values() if games]
    assert min(counts) >= 4 and max(counts) <= 15


def test_a_late_night_and_a_night_that_never_lands(tmp_path, demo_generator):
    """2026-03-25: Phase 4 started late, the cache landing at 06:40 New York and the composite
    factors after 07:00, past the 06:00 read; 2026-03-27: nothing landed though 5 games were
    scheduled. The night after both (2026-03-28) holds exactly the rows version 4 held."""
    assert {dt.date(2026, 3, 25), dt.date(2026, 3, 27)} <= set(demo_generator.INCIDENTS)
    path = tmp_path / "late-nights.duckdb"
    demo_generator.build_warehouse(path, dt.date(2026, 3, 25), dt.date(2026, 3, 28))
    connection = duckdb.connect(str(path), read_only=True)

    def count_and_landing(table: str, date_column: str, day: str) -> tuple[int, dt.datetime | None]:
        count, latest = connection.execute(
            f"SELECT count(*), max(processed_at) FROM {table} WHERE {date_column} = ?", [day]).fetchone()
        # TIMESTAMP columns hold UTC (the contracts' TIMESTAMP); the landing is judged in New York
        return count, latest and latest.replace(tzinfo=dt.timezone.utc).astimezone(demo_generator.NEW_YORK)

    def predictions(day: str) -> tuple[int, int, dt.datetime | None]:
        return connection.execute(
            "SELECT count(*), count(*) FILTER (WHERE is_active), min(created_at) FILTER (WHERE is_active) "
            "FROM nba_predictions.player_prop_predictions WHERE game_date = ?", [day]).fetchone()

    def games(day: str) -> int:
        return connection.execute("SELECT count(*) FROM nba_reference.nba_schedule WHERE game_date = ?", [day]).fetchone()[0]

    cache, composite = "nba_precompute.player_daily_cache", "nba_precompute.player_composite_factors"
    # the late night: the same rows as on time (version 4: 219 and 219 rows, 929 predictions of
    # which 825 active), later
    rows, landed = count_and_landing(cache, "cache_date", "2026-03-25")
    assert rows == 219 and landed.strftime("%Y-%m-%d %H:%M") == "2026-03-25 06:40"
    rows, composite_landed = count_and_landing(composite, "game_date", "2026-03-25")
    assert rows == 219
    assert dt.time(7, 0) <= composite_landed.time() <= dt.time(7, 15) and composite_landed.date() == dt.date(2026, 3, 25)
    total, active, first_active = predictions("2026-03-25")
    assert (total, active) == (929, 825)
    assert first_active.replace(tzinfo=dt.timezone.utc) > landed  # Phase 5 waited for the late features
    # the night that never landed: games scheduled, nothing written
    assert games("2026-03-27") == 5
    assert count_and_landing(cache, "cache_date", "2026-03-27") == (0, None)
    assert count_and_landing(composite, "game_date", "2026-03-27") == (0, None)
    assert predictions("2026-03-27") == (0, 0, None)
    # the healthy nights around them, as version 4 wrote them (measured on it): counts, landing
    # (UTC) and a digest of every column of every row but the team-level ones, drawn per team since
    # version 6 (team_pace_last_10, team_off_rating_last_10, and the composite's pace_context
    # that quotes the pace); version 5 held these rows exactly (its digests of every column
    # were version 4's: 8fd46601..., fd062ea8..., cf705577..., b2929d0a...)
    digest = ("SELECT count(*), max(processed_at), md5(string_agg(t::VARCHAR, '|' ORDER BY player_lookup)) "
              "FROM (SELECT * EXCLUDE ({}) FROM {}) t WHERE {} = ?")
    per_team = {cache: "team_pace_last_10, team_off_rating_last_10", composite: "pace_context"}
    for day, cache_v4, composite_v4, predictions_v4 in (
        ("2026-03-26", (164, dt.datetime(2026, 3, 26, 6, 8, 25, 109878), "b1626fa119adbf38b7f72f3756c52c44"),
         (164, dt.datetime(2026, 3, 26, 6, 37, 49, 944935), "eea81ea05d7be0d2b84d783e4e8ae171"), 619),
        ("2026-03-28", (223, dt.datetime(2026, 3, 28, 6, 2, 22, 151957), "eea3793ee4534186d8c5317b6e0ffde5"),
         (223, dt.datetime(2026, 3, 28, 6, 31, 49, 436158), "4cf879d8948da1d631bbc379613534b9"), 929),
    ):
        assert connection.execute(digest.format(per_team[cache], cache, "cache_date"), [day]).fetchone() == cache_v4, day
        assert connection.execute(digest.format(per_team[composite], composite, "game_date"), [day]).fetchone() \
            == composite_v4, day
        assert predictions(day)[0] == predictions_v4, day


def test_team_columns_are_one_value_per_team_and_date():
    """team_pace_last_10 and team_off_rating_last_10 are the team's: one value for every player of a
    team on a date (the continuity dimension's hard rule), moving a little from one date to the next."""
    path = demo_warehouse_path(ROOT)   # the full season, as data_tests read it
    assert path.name == "demo-6.duckdb"
    connection = duckdb.connect(str(path), read_only=True)
    team_dates = ("SELECT DISTINCT cache_date, team_abbr, team_pace_last_10 AS pace, team_off_rating_last_10 AS rating "
                  "FROM nba_precompute.player_daily_cache")
    groups, values, dates = connection.execute(
        f"SELECT count(DISTINCT (cache_date, team_abbr)), count(*), count(DISTINCT cache_date) FROM ({team_dates})").fetchone()
    assert (groups, values, dates) == (2336, 2336, 165)   # every (team, date) of the season: one value each
    low_pace, high_pace, low_rating, high_rating, pace_step, rating_step = connection.execute(
        "SELECT min(pace), max(pace), min(rating), max(rating), max(abs(pace_step)), max(abs(rating_step)) FROM ("
        "SELECT *, pace - lag(pace) OVER w AS pace_step, rating - lag(rating) OVER w AS rating_step FROM (" + team_dates
        + ") WINDOW w AS (PARTITION BY team_abbr ORDER BY cache_date))").fetchone()
    # inside value_ranges (80-120, 80-140); from one of a team's dates to the next its pace moves
    # 0.36 at the median, 2.17 at most (its rating 3.09 at most)
    assert (float(low_pace), float(high_pace), float(low_rating), float(high_rating)) == (93.97, 104.81, 103.46, 123.09)
    assert (float(pace_step), float(rating_step)) == (2.17, 3.09)


CACHE_TABLE = "nba_precompute.player_daily_cache"


@pytest.fixture(scope="module")
def unplanted(demo_generator) -> dict[dt.date, dict[str, object]]:
    """Each distribution incident's column as the date's rows would hold it without the incident."""
    season = demo_generator.Season()
    return {day: {row["player_lookup"]: row for row in season.day_rows(day, plant=False)[0]}
            for day in demo_generator.DISTRIBUTION_INCIDENTS}


def planted(season_file: Path, day: dt.date, column: str) -> dict[str, object]:
    connection = duckdb.connect(str(season_file), read_only=True)
    rows = connection.execute(f"SELECT player_lookup, team_abbr, {column} FROM {CACHE_TABLE} WHERE cache_date = ?",
                              [day]).fetchall()
    return {lookup: (team, float(value) if isinstance(value, Decimal) else value) for lookup, team, value in rows}


def incident(demo_generator, shape: str) -> tuple[dt.date, str]:
    (day, column), = [(day, column) for day, (table, column, kind) in demo_generator.DISTRIBUTION_INCIDENTS.items()
                      if kind == shape and table == "player_daily_cache"]
    return day, column


def test_distribution_incidents_are_dated_incidents(demo_generator):
    assert {shape for _, _, shape in demo_generator.DISTRIBUTION_INCIDENTS.values()} == {
        "spread", "mix", "subgroup", "permutation", "tail_clip"}
    for day, (_, column, _) in demo_generator.DISTRIBUTION_INCIDENTS.items():
        assert column in demo_generator.INCIDENTS[day]
        assert day not in demo_generator.NO_GAME_DAYS | demo_generator.NEVER_LANDED | set(demo_generator.LATE_NIGHTS)


def test_spread_incident(demo_generator, season_file, unplanted):
    day, column = incident(demo_generator, "spread")
    today = [value for _, value in planted(season_file, day, column).values()]
    before = [value for _, value in planted(season_file, dt.date(2026, 1, 8), column).values()]
    reference = [row[column] for row in unplanted[day].values()]
    # stddev x1.7 about an unchanged median: against the day before, and against the rows unplanted
    assert (round(stdev(today), 2), round(stdev(before), 2), round(stdev(reference), 2)) == (14.22, 8.54, 8.37)
    assert stdev(today) / stdev(before) >= 1.6 and abs(stdev(today) / stdev(reference) - 1.7) < 0.001
    assert round(median(today), 3) == round(median(reference), 3) == 30.685
    assert abs(median(today) / median(before) - 1) < 0.05   # 30.41 the day before


def test_mix_incident(demo_generator, season_file, unplanted):
    day, column = incident(demo_generator, "mix")
    today = Counter(value for _, value in planted(season_file, day, column).values())
    reference = Counter(row[column] for row in unplanted[day].values())
    assert reference == {"paint": 42, "3pt": 56, "mid_range": 40}   # paint 30.4 % of 138 rows
    assert today == {"paint": 21, "3pt": 77, "mid_range": 40}       # ... halved: 15.2 %


def test_subgroup_incident(demo_generator, season_file, unplanted):
    day, column = incident(demo_generator, "subgroup")
    today = planted(season_file, day, column)
    teams = sorted({team for team, _ in today.values()})
    assert len(teams) == 16
    for half, factor in ((teams[0::2], 1.35), (teams[1::2], 0.72)):
        lookups = [lookup for lookup, (team, _) in today.items() if team in half]
        ratio = sum(today[lookup][1] for lookup in lookups) / sum(unplanted[day][lookup][column] for lookup in lookups)
        assert abs(ratio - factor) < 0.001, (half, ratio)
    # the day's mean barely moves: 22.70 -> 23.29
    reference = [row[column] for row in unplanted[day].values()]
    assert (round(mean(reference), 2), round(mean(value for _, value in today.values()), 2)) == (22.70, 23.29)


def test_permutation_incident(demo_generator, season_file, unplanted):
    day, column = incident(demo_generator, "permutation")
    today = planted(season_file, day, column)
    assert sorted(value for _, value in today.values()) == sorted(row[column] for row in unplanted[day].values())
    # each player's value against their previous row (within 7 days): a healthy day moves it by at
    # most 1.0 for every player (noise of 0.5 a day); the permuted day moves most players further
    connection = duckdb.connect(str(season_file), read_only=True)
    moves = connection.execute(
        f"SELECT t.cache_date = ? AS permuted, count(*), count(*) FILTER (WHERE t.{column} <> p.{column}), "
        f"count(*) FILTER (WHERE abs(t.{column} - p.{column}) > 1.0) FROM {CACHE_TABLE} t "
        f"ASOF JOIN {CACHE_TABLE} p ON t.player_lookup = p.player_lookup AND t.cache_date > p.cache_date "
        "WHERE t.cache_date - p.cache_date <= 7 AND p.cache_date <> ? GROUP BY 1 ORDER BY 1", [day, day]).fetchall()
    (_, _, _, healthy_jumps), (_, players, differ, jumps) = moves
    assert healthy_jumps == 0
    assert (players, differ, jumps) == (154, 154, 131)   # all 154 differ, 85 % by more than any healthy day


def test_tail_clip_incident(demo_generator, season_file, unplanted):
    day, column = incident(demo_generator, "tail_clip")
    connection = duckdb.connect(str(season_file), read_only=True)
    top, continuous, discrete, at_top = connection.execute(
        f"SELECT max({column}), quantile_cont({column}, 0.9), quantile_disc({column}, 0.9), "
        f"count(*) FILTER (WHERE {column} = (SELECT max({column}) FROM {CACHE_TABLE} WHERE cache_date = ?)) "
        f"FROM {CACHE_TABLE} WHERE cache_date = ?", [day, day]).fetchone()
    assert float(top) == float(continuous) == float(discrete) == 0.674 and at_top == 27
    assert max(row[column] for row in unplanted[day].values()) == 0.699
    today = planted(season_file, day, column)
    unchanged = [lookup for lookup, (_, value) in today.items() if value == unplanted[day][lookup][column]]
    assert len(unchanged) == 257 - 26   # the 26 rows above 0.674 clipped to it, no other row touched
