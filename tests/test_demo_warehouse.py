"""The demo warehouse: laid out as the contracts say, deterministic, the team's published week."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb

SCHEMA = Path(__file__).resolve().parents[1] / "fixtures" / "schema"


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
    # (UTC) and a digest of every column of every row
    digest = "SELECT count(*), max(processed_at), md5(string_agg(t::VARCHAR, '|' ORDER BY player_lookup)) FROM {} t WHERE {} = ?"
    for day, cache_v4, composite_v4, predictions_v4 in (
        ("2026-03-26", (164, dt.datetime(2026, 3, 26, 6, 8, 25, 109878), "8fd46601702144ffc0fce14b55077f04"),
         (164, dt.datetime(2026, 3, 26, 6, 37, 49, 944935), "fd062ea8d3eba4e0ba9d7a0bcd5e1481"), 619),
        ("2026-03-28", (223, dt.datetime(2026, 3, 28, 6, 2, 22, 151957), "cf705577fb5bde420b082c5419f94ba5"),
         (223, dt.datetime(2026, 3, 28, 6, 31, 49, 436158), "b2929d0a3be5628567714364f5d3d94f"), 929),
    ):
        assert connection.execute(digest.format(cache, "cache_date"), [day]).fetchone() == cache_v4, day
        assert connection.execute(digest.format(composite, "game_date"), [day]).fetchone() == composite_v4, day
        assert predictions(day)[0] == predictions_v4, day
