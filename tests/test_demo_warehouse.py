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
