"""The configuration's types: what a loaded health.toml is (config.py reads and validates it).

Apart from the parser, so a check, a report or a channel can name a TableConfig without importing
the parser and the dimensions it validates against (no import circle between config and checks).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Mapping, NamedTuple, TYPE_CHECKING

if TYPE_CHECKING:
    from feature_store_health.alerting.remediation import RemediationConfig

__all__ = ["BaselineConfig", "ConfigError", "HealthConfig", "HistoryConfig", "MAX_REPEAT_AFTER_HOURS", "PredictionsConfig",
           "SOURCE_FEATURES", "ScheduleConfig", "SlackConfig", "SourceConfig", "TableConfig"]


class ConfigError(ValueError):
    """The configuration file is unreadable or says something invalid; the message names the key."""


class ScheduleConfig(NamedTuple):
    table: str
    date_column: str
    game_id_column: str
    home_team_column: str
    away_team_column: str
    season_column: str = "season_year"   # source_consistency: the season a date belongs to
    # the season's first and last month-day (MM-DD): a date in it with no game on or after it in
    # the schedule is unknown (the schedule stopped loading), out of it the off-season
    season_start: str = "10-01"
    season_end: str = "06-30"


# The source rule (SPEC §9): each stat feature the cache derives from the box scores, as
# (source stat, the most recent played games it covers (None: the season), aggregate)
SOURCE_FEATURES = {
    "points_avg_last_5": ("points", 5, "AVG"),
    "points_avg_last_10": ("points", 10, "AVG"),
    "points_avg_season": ("points", None, "AVG"),
    "points_std_last_10": ("points", 10, "STDDEV_SAMP"),
    "minutes_avg_last_10": ("minutes", 10, "AVG"),
    "usage_rate_last_10": ("usage_rate", 10, "AVG"),
    "ts_pct_last_10": ("ts_pct", 10, "AVG"),
    "games_played_season": (None, None, "COUNT"),
}


class SourceConfig(NamedTuple):
    """source_consistency: the table a monitored table's stat features are derived from, its
    columns, and how the comparison is made (SPEC §9)."""

    table: str = "nba_analytics.player_game_summary"
    date_column: str = "game_date"
    player_column: str = "player_lookup"
    team_column: str = "team_abbr"
    season_column: str = "season_year"
    points_column: str = "points"
    minutes_column: str = "minutes_played"
    usage_rate_column: str = "usage_rate"
    ts_pct_column: str = "ts_pct"
    features: tuple[str, ...] = tuple(SOURCE_FEATURES)  # the monitored table's columns compared
    tolerance: float = 0.01          # a stored value matches when within this of the recomputed one
    roster_days: int = 14            # roster check: played for a team in this many days before the date
    roster_min_games: int = 3        # ... with at least this many played games this season


class PredictionsConfig(NamedTuple):
    table: str
    date_column: str
    active_column: str


class TableConfig(NamedTuple):
    """One monitored table: where it is, which columns each dimension reads, its thresholds."""

    name: str
    table: str
    date_column: str
    player_column: str
    thresholds: Mapping[str, Mapping[str, float]]
    # each dimension applies when its columns are named (SPEC §11); unnamed: not collected
    production_ready_column: str | None = None       # production_readiness
    quality_tier_column: str | None = None           # quality_tiers (with poor_tier and quality_tiers)
    poor_tier: str | None = None
    quality_tiers: tuple[str, ...] = ()
    completeness_column: str | None = None           # completeness: a boolean column, or a % column
    completeness_min_pct: float | None = None        # ... complete when >= this (a % column)
    processed_at_column: str | None = None           # staleness
    critical_features: tuple[str, ...] = ()          # null_rates
    insufficient_data_reason_column: str | None = None
    data_quality_issues_column: str | None = None   # a REPEATED STRING column
    team_column: str | None = None                  # coverage: teams playing with no rows
    contract: Mapping[str, str] | None = None       # column -> type, from the contract file (schema)
    contract_path: Path | None = None
    unique_key: tuple[str, ...] = ()                # uniqueness: the key within a date
    profile_exclude: tuple[str, ...] = ()           # contract columns the column profile leaves out
    value_ranges: tuple[Any, ...] = ()              # value_ranges: RangeRule per column
    partition_expiration_days: int | None = None    # older dates may hold no rows, and that is fine
    # anomalies: columns whose level follows the schedule (games, minutes in the last N days): a
    # break moves them legitimately, so only their NULL % is compared with the baseline
    schedule_driven_columns: tuple[str, ...] = ()
    # anomalies: a date with more than early_season_max_pct % of rows flagged here is still settling
    # (rolling windows filling): not judged, and never part of a baseline
    early_season_column: str | None = None
    early_season_max_pct: float = 10.0
    source: SourceConfig | None = None               # source_consistency
    downstream_usage: bool = True                    # judge the date's predictions on this table
    # arrival: when downstream (Phase 5) reads the date's rows (deadline time zone), and the margin
    # before it when the go/no-go decides
    ready_by: dt.time = dt.time(6, 0)
    ready_margin_minutes: float = 30.0
    # drift and continuity (config_distributions.py): the columns each judges
    drift_columns: tuple[str, ...] = ()
    category_columns: tuple[str, ...] = ()
    continuity_columns: tuple[str, ...] = ()
    continuity_counters: tuple[str, ...] = ()
    team_columns: tuple[str, ...] = ()


MAX_REPEAT_AFTER_HOURS = 8760


class SlackConfig(NamedTuple):
    timeout_seconds: float = 10.0
    total_seconds: float = 30.0
    max_attempts: int = 4
    # an incident alerted and unchanged since is not alerted again before this many hours
    repeat_after_hours: float = 24.0
    # the Slack bot's incident threads (alerting/slack_bot.py): on when a channel is set and the
    # environment variable named here holds a bot token; the Web API base is for loopback tests
    channel: str | None = None
    bot_token_env: str = "SLACK_BOT_TOKEN"
    api_url: str = "https://slack.com/api/"


class HistoryConfig(NamedTuple):
    """Where runs are recorded: a DuckDB file (embedded backend) or a BigQuery table."""

    path: str | None = None                 # None: history.duckdb in the run archive folder
    bigquery_table: str = "feature_store_health.metric_history"


class BaselineConfig(NamedTuple):
    """How a date's baseline is drawn and how much spread a metric is allowed at least."""

    game_days: int = 30              # the previous game days a date is compared with
    minimum_game_days: int = 7       # fewer: the anomalies check is SKIPPED, never OK
    lookback_days: int = 45          # calendar days searched for those game days
    floor_pct_points: float = 1.0    # % metrics (ready, complete, POOR, NULL %): spread at least this
    floor_rows: float = 2.0          # ... and at least this many rows' worth of the day's rows
    floor_relative: float = 0.03     # means, medians, stddevs, rows per team: at least 3 % of the median
    # drift's bin edges and continuity's |Δ| limits (checks/learned.py) are learned again after this many days
    learned_refresh_days: int = 28
    floor_rows_per_team: float = 0.5
    floor_landing_hours: float = 0.5
    new_levels: tuple[Any, ...] = ()  # NewLevel: "this metric's new level starts on this date"

    @property
    def refresh_days(self) -> int:
        """How long learned values are reused: learned_refresh_days, at most lookback_days (the
        history is read back that far: an older learned record is never seen)."""
        return min(self.learned_refresh_days, self.lookback_days)


class HealthConfig(NamedTuple):
    path: Path
    deadline_time: dt.time
    timezone: str
    schedule: ScheduleConfig
    predictions: PredictionsConfig
    tables: tuple[TableConfig, ...]
    slack: SlackConfig = SlackConfig()
    runbook_url: str | None = None   # base of the runbook links; None: docs/runbook.md in the rootdir
    history: HistoryConfig = HistoryConfig()
    baseline: BaselineConfig = BaselineConfig()
    remediation: "RemediationConfig | None" = None   # [remediation]: the reprocess request; None: off
    models: tuple[Any, ...] = ()     # [[models]]: ModelConfig per consumer (feature_store_health/models.py)
    mutes: tuple[Any, ...] = ()      # [[mutes]]: Mute per entry (alerting/mutes.py); their length is checked per run
    pagerduty: Any = None            # [pagerduty]: PagerDutyConfig (alerting/pagerduty_config.py); None: off
