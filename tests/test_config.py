"""The configuration file: defaults match the runbook, overrides merge, invalid input is named."""

from __future__ import annotations

import datetime as dt

import pytest

from feature_store_health.config import ConfigError, load_config


def test_defaults_match_the_runbook():
    config = load_config()
    table = config.tables[0]
    assert (table.name, table.table, table.date_column) == (
        "player_daily_cache", "nba_precompute.player_daily_cache", "cache_date")
    assert table.critical_features == (
        "points_avg_last_10", "minutes_avg_last_10", "usage_rate_last_10", "ts_pct_last_10")
    assert table.thresholds["production_readiness"] == {"warning_below": 98, "error_below": 95, "critical_below": 90}
    assert table.thresholds["null_rates"] == {"warning_above": 2, "error_above": 5, "critical_above": 10}
    assert table.thresholds["staleness"] == {"warning_above": 24, "error_above": 48, "critical_above": 72}
    assert table.thresholds["coverage"] == {"warning_min_rows_per_team": 10, "error_teams_without_rows_above": 0,
                                            "critical_teams_without_rows_pct_above": 25}
    assert table.thresholds["quality_tiers"] == {"warning_above": 2, "error_above": 5, "critical_above": 10,
                                                 "null_warning_above": 2}
    assert table.team_column == "team_abbr"
    assert str(config.deadline_time) == "09:00:00" and config.timezone == "America/New_York"


def test_user_file_overrides_only_what_it_names(tmp_path):
    path = tmp_path / "health.toml"
    path.write_text('[thresholds.staleness]\nwarning_above = 12\n[deadline]\ntime = "08:30"\n')
    config = load_config(path)
    assert config.tables[0].thresholds["staleness"] == {"warning_above": 12, "error_above": 48, "critical_above": 72}
    assert str(config.deadline_time) == "08:30:00"
    assert config.path == path


def test_per_table_thresholds_override_the_defaults(tmp_path):
    path = tmp_path / "health.toml"
    path.write_text(
        '[[tables]]\nname = "cache_v2"\ntable = "my-project-1.nba_precompute.player_daily_cache_v2"\n'
        'date_column = "cache_date"\nplayer_column = "player_lookup"\nproduction_ready_column = "is_production_ready"\n'
        'quality_tier_column = "quality_tier"\npoor_tier = "POOR"\nquality_tiers = ["GOOD", "POOR"]\n'
        'completeness_column = "all_windows_complete"\nprocessed_at_column = "processed_at"\n'
        'critical_features = ["points_avg_last_10"]\n[tables.thresholds.null_rates]\ncritical_above = 20\n'
    )
    table = load_config(path).tables[0]
    assert table.name == "cache_v2"
    assert table.thresholds["null_rates"] == {"warning_above": 2, "error_above": 5, "critical_above": 20}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[thresholds.null_rate]\nwarning_above = 1\n", "unknown key thresholds.null_rate"),
        ("[thresholds.null_rates]\nwarn = 1\n", "unknown key thresholds.null_rates.warn"),
        ("[thresholds.null_rates]\nwarning_above = 'two'\n", "thresholds.null_rates.warning_above must be a finite number, got 'two'"),
        ('[schedule]\ntable = "nba_reference.nba_schedule; DROP TABLE x"\n', "schedule.table = 'nba_reference.nba_schedule; DROP TABLE x' is not a dataset.table reference"),
        ('[predictions]\nactive_column = "is active"\n', "predictions.active_column = 'is active' is not a column name"),
        ('[deadline]\ntimezone = "Mars/Olympus"\n', "deadline.timezone = 'Mars/Olympus' is not an IANA time zone"),
        ('[deadline]\ntime = "9am"\n', "deadline.time = '9am' is not a time like '09:00'"),
        ("not toml = = 1", "not valid TOML"),
        ("[slack]\nrepeat_after_hours = 0\n", "slack.repeat_after_hours must be a positive finite number, got 0"),
        ("[slack]\nrepeat_after_hours = 'daily'\n",
         "slack.repeat_after_hours must be a positive finite number, got 'daily'"),
        ("[slack]\nrepeat_after_hours = 9000\n", "slack.repeat_after_hours must be at most 8760 (a year), got 9000"),
        ("[slack]\nrepeat_every = 24\n", "unknown key slack.repeat_every"),
    ],
)
def test_invalid_config_names_the_key(tmp_path, text, message):
    path = tmp_path / "health.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=None) as error:
        load_config(path)
    assert message in str(error.value)
    assert str(path) in str(error.value)


def test_slack_repeat_after_hours_defaults_to_a_day(tmp_path):
    assert load_config().slack.repeat_after_hours == 24
    path = tmp_path / "health.toml"
    path.write_text("[slack]\nrepeat_after_hours = 6.5\n")
    slack = load_config(path).slack
    assert (slack.repeat_after_hours, slack.max_attempts) == (6.5, 4)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "absent.toml")


def test_a_table_entry_names_only_the_columns_it_has(warehouse, run_suite, tmp_path):
    """Dimensions by configuration: no readiness flag, no tier, completeness as a % column with a
    minimum. What is not named is not collected, and the HTML says so."""
    config = tmp_path / "minimal.toml"
    config.write_text(
        '[[tables]]\nname = "cache_minimal"\ntable = "nba_precompute.player_daily_cache"\ndate_column = "cache_date"\n'
        'player_column = "player_lookup"\nprocessed_at_column = "processed_at"\n'
        'completeness_column = "completeness_percentage"\ncompleteness_min_pct = 95\n')
    warehouse.affect_rows(dt.date(2026, 2, 5), 6, "completeness_percentage = 90")
    reports = tmp_path / "reports"
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--health-config={config}",
                    f"--reports-dir={reports}")
    assert [c["dimension"] for c in run.results["checks"]] == [
        "arrival", "coverage", "completeness", "downstream_usage", "staleness", "uniqueness", "anomalies"]
    completeness = run.verdict("completeness")
    assert (completeness["severity"], completeness["value"]) == ("WARNING", 97.62)
    assert completeness["message"] == "97.6% rows with completeness_percentage >= 95 (246/252)"
    page = next(reports.glob("*/*/report.html")).read_text()
    assert ("Not configured for cache_minimal: Production Readiness, NULL Rates, Quality Tiers, Schema, "
            "Value Ranges") in page
    assert "Traceback" not in run.stdout


@pytest.mark.parametrize(("entry", "message"), [
    ('quality_tier_column = "quality_tier"\n', "quality_tier_column needs quality_tiers and poor_tier"),
    ("completeness_min_pct = 90\n", "completeness_min_pct needs completeness_column"),
    ('completeness_column = "completeness_percentage"\ncompleteness_min_pct = 120\n',
     "completeness_min_pct must be a percentage from 0 to 100, got 120"),
])
def test_half_configured_dimensions_are_config_errors(tmp_path, entry, message):
    from feature_store_health.config import ConfigError, load_config

    path = tmp_path / "half.toml"
    path.write_text('[[tables]]\nname = "t"\ntable = "d.t"\ndate_column = "d"\nplayer_column = "p"\n' + entry)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_the_production_example_sets_each_tables_partition_expiry():
    """docs/production.example.toml: the default tables restated, with BigQuery's partition expiry."""
    from pathlib import Path

    config = load_config(Path(__file__).resolve().parents[1] / "docs" / "production.example.toml")
    assert [(table.name, table.partition_expiration_days) for table in config.tables] == [
        ("player_daily_cache", 30), ("player_composite_factors", 90)]
    default = load_config()
    for production, table in zip(config.tables, default.tables):  # the rest as the defaults say
        assert production._replace(partition_expiration_days=None) == table


def test_the_default_config_monitors_two_tables_each_with_its_own_dimensions():
    from feature_store_health.checks.plan import applicable_dimensions

    cache, composite = load_config().tables
    assert cache.source is not None and cache.source.table == "nba_analytics.player_game_summary"
    assert cache.source.features == ("points_avg_last_5", "points_avg_last_10", "points_avg_season",
                                     "points_std_last_10", "minutes_avg_last_10", "usage_rate_last_10",
                                     "ts_pct_last_10", "games_played_season")
    assert (cache.source.tolerance, cache.source.roster_days, cache.source.roster_min_games) == (0.01, 14, 3)
    assert cache.thresholds["source_consistency"] == {"warning_above": 0.5, "error_above": 2, "critical_above": 10,
                                                      "roster_warning_above": 2, "roster_error_above": 5}
    assert applicable_dimensions(composite) == ["arrival", "coverage", "null_rates", "completeness", "staleness", "schema",
                                                "uniqueness", "value_ranges", "anomalies", "drift"]
    assert (composite.table, composite.date_column) == ("nba_precompute.player_composite_factors", "game_date")
    assert (composite.completeness_column, composite.completeness_min_pct) == ("data_completeness_pct", 90)
    assert composite.thresholds["completeness"] == {"warning_below": 97, "error_below": 93, "critical_below": 85}
    assert composite.thresholds["null_rates"] == cache.thresholds["null_rates"]  # the rest: the defaults


@pytest.mark.parametrize(("source", "message"), [
    ('features = ["points_avg_last_7"]', "points_avg_last_7 has no source rule"),
    ("tolerance = -1", "tolerance must be a number >= 0"),
    ("roster_days = 0", "roster_days must be a whole number from 1 to 366"),
    ('table = "no dots"', "is not a dataset.table reference"),
    ('player = "x"', "unknown key tables\\[0\\].source.player"),
])
def test_a_bad_source_section_is_named(tmp_path, source, message):
    path = tmp_path / "source.toml"
    path.write_text('[[tables]]\nname = "t"\ntable = "d.t"\ndate_column = "d"\nplayer_column = "p"\n'
                    f"[tables.source]\n{source}\n")
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_roster_thresholds_out_of_order_are_refused(tmp_path):
    path = tmp_path / "roster.toml"
    path.write_text("[thresholds.source_consistency]\nroster_warning_above = 6\nroster_error_above = 5\n")
    with pytest.raises(ConfigError, match="thresholds out of order"):
        load_config(path)
