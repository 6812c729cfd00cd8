"""The configuration file: monitored tables, their columns, critical features and thresholds.

Defaults live in ``health.toml`` beside this module. A user file is merged over them key by
key, so it only needs the keys it changes. Everything is validated here, before any query:
identifiers are checked against a strict pattern because they are formatted into SQL.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import tomllib
from pathlib import Path
from typing import Any, Mapping, NamedTuple, TYPE_CHECKING

from feature_store_health.checks.dimensions import DIMENSIONS, tier_slug
from feature_store_health.checks.levels import parse_new_levels, untracked
from feature_store_health.config_distributions import DISTRIBUTION_KEYS, parse_distributions

if TYPE_CHECKING:
    from feature_store_health.alerting.remediation import RemediationConfig

__all__ = [
    "ConfigError",
    "HealthConfig",
    "PredictionsConfig",
    "ScheduleConfig",
    "SlackConfig",
    "SOURCE_FEATURES",
    "SourceConfig",
    "TableConfig",
    "BaselineConfig",
    "DEFAULT_CONFIG_PATH",
    "HistoryConfig",
    "load_config",
]

DEFAULT_CONFIG_PATH = Path(__file__).with_name("health.toml")

_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$")
# [project.]dataset.table; project ids may hold dashes, dataset and table names may not.
_TABLE_REF = re.compile(r"^(?:[a-z][a-z0-9-]{4,29}[a-z0-9]\.)?[A-Za-z_][A-Za-z0-9_]{0,1023}\.[A-Za-z_][A-Za-z0-9_]{0,1023}$")


# A value compared as a SQL string literal (a quality tier): printable, no quote or backslash,
# with a letter or digit so that its alias (tier_slug) is not empty.
_VALUE = re.compile(r"^(?=.*[A-Za-z0-9])[^'\\\x00-\x1f\x7f]{1,100}$")
MAX_EXPIRATION_DAYS = 36_600  # a century


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


DEFAULT_ROOT = Path(__file__).resolve().parents[1]  # the checkout, for an editable install


def load_config(path: Path | None = None, root: Path | None = None) -> HealthConfig:
    """Load the defaults, merge ``path`` over them, validate, and return a typed config.

    A relative contract path is looked up beside ``path``, then in ``root`` (pytest's rootdir),
    then in the checkout that holds this package; the first file found is read."""
    raw = _read_toml(DEFAULT_CONFIG_PATH)
    source = DEFAULT_CONFIG_PATH
    if path is not None:
        raw = _merge(raw, _read_toml(path))
        source = path
    folders = tuple(dict.fromkeys(
        folder.resolve() for folder in (path.parent if path is not None else None, root, DEFAULT_ROOT) if folder is not None
    ))
    try:
        return _build(raw, source, folders)
    except ConfigError as exc:
        raise ConfigError(f"config {source}: {exc}") from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"config {path} is a directory; give the path of a TOML file") from None
    except OSError as exc:
        raise ConfigError(f"config {path}: cannot read it: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config {path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config {path}: not valid TOML: {exc}") from None


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _build(raw: dict[str, Any], source: Path, folders: tuple[Path, ...]) -> HealthConfig:
    _no_unknown_keys(raw, {"deadline", "schedule", "predictions", "thresholds", "tables", "slack", "runbook",
                           "history", "baseline", "remediation", "models", "mutes", "pagerduty"}, "")
    deadline = _section(raw, "deadline", {"time", "timezone"})
    default_thresholds = _thresholds(raw.get("thresholds", {}), "thresholds")
    tables = raw.get("tables")
    if not isinstance(tables, list) or not tables:
        raise ConfigError("tables: at least one [[tables]] entry is required")
    table_configs = tuple(
        _table(entry, default_thresholds, f"tables[{index}]", folders) for index, entry in enumerate(tables)
    )
    names = [table.name for table in table_configs]
    if len(set(names)) != len(names):
        raise ConfigError(f"tables: names must be unique, got {names}")
    baseline = _baseline(raw.get("baseline", {}))
    for index, table in enumerate(table_configs):
        minimum = table.thresholds["arrival"]["minimum_landings"]
        if minimum > baseline.game_days:
            raise ConfigError(f"tables[{index}].thresholds.arrival.minimum_landings ({minimum:g}) is more than "
                              f"baseline.game_days ({baseline.game_days}), the landings ever read: arrival would be "
                              "judged against ready_by alone forever")
    by_name = {table.name: table for table in table_configs}
    for index, level in enumerate(baseline.new_levels):
        if level.table not in names:
            raise ConfigError(f"baseline.new_levels[{index}].table = {level.table!r} is not a monitored table "
                              f"({', '.join(names)})")
        table = by_name[level.table]
        problem = untracked(level, table.contract, table.schedule_driven_columns)
        if problem is not None:
            raise ConfigError(f"baseline.new_levels[{index}].metric = {level.metric!r}: {problem}")
    return HealthConfig(
        path=source,
        deadline_time=_time(deadline.get("time"), "deadline.time"),
        timezone=_timezone(deadline.get("timezone"), "deadline.timezone"),
        schedule=_schedule(raw),
        predictions=PredictionsConfig(
            **_columns(_section(raw, "predictions", {"table", "date_column", "active_column"}), "predictions")
        ),
        tables=table_configs,
        slack=_slack(raw.get("slack", {})),
        runbook_url=_runbook(raw.get("runbook", {})),
        history=_history(raw.get("history", {})),
        baseline=baseline,
        remediation=_remediation(raw.get("remediation"), table_configs),
        models=_models(raw.get("models"), table_configs),
        mutes=_mutes(raw.get("mutes"), table_configs),
        pagerduty=_pagerduty(raw.get("pagerduty")),
    )


def _pagerduty(raw: Any) -> Any:
    """``[pagerduty]`` (alerting/pagerduty_config.py); None when absent: the channel is never imported."""
    if raw is None:
        return None
    from feature_store_health.alerting.pagerduty_config import parse_pagerduty

    return parse_pagerduty(raw)


def _mutes(raw: Any, tables: tuple[TableConfig, ...]) -> tuple[Any, ...]:
    """``[[mutes]]``: validated against the tables, the dimensions and the contracts (alerting/mutes.py)."""
    if raw is None:
        return ()
    from feature_store_health.alerting.mutes import MuteError, parse_mutes

    try:
        return parse_mutes(raw, tables, DIMENSIONS)
    except MuteError as exc:
        raise ConfigError(str(exc)) from None


def _models(raw: Any, tables: tuple[TableConfig, ...]) -> tuple[Any, ...]:
    """``[[models]]``: each consumer's features, validated against the tables' contracts (models.py)."""
    from feature_store_health.models import parse_models

    try:
        return parse_models(raw, tables)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _remediation(raw: Any, tables: tuple[TableConfig, ...]) -> "RemediationConfig | None":
    """``[remediation]``, validated beside the request it configures (alerting/remediation.py). A
    guard column named in it that no monitored table's contract has as BOOL would switch its
    guard off unseen: a config error (the defaults may be absent: a table without them has no
    such guard, and --dry-run says so)."""
    if raw is None:   # not configured: the channel's code is never imported
        return None
    from feature_store_health.alerting.remediation import parse_remediation

    config = parse_remediation(raw)
    if config is None:
        return None
    for key in ("circuit_breaker_column", "manual_override_column"):
        column = getattr(config, key)
        if key in raw and not any((table.contract or {}).get(column) in ("BOOL", "BOOLEAN") for table in tables):
            raise ConfigError(f"remediation.{key} = {column!r} is no BOOL column in any monitored table's contract; "
                              "name the table's guard column (e.g. circuit_breaker_active) or leave the key out")
    return config


def _schedule(raw: dict[str, Any]) -> ScheduleConfig:
    section = dict(_section(raw, "schedule", set(ScheduleConfig._fields)))
    season = {key: _month_day(section.pop(key), f"schedule.{key}") for key in ("season_start", "season_end")}
    if season["season_start"] == season["season_end"]:
        raise ConfigError("schedule.season_start and schedule.season_end must differ")
    return ScheduleConfig(**_columns(section, "schedule"), **season)


def _month_day(value: Any, key: str) -> str:
    """A month-day ``MM-DD`` (any year's: 02-29 included)."""
    try:
        if not isinstance(value, str) or not re.fullmatch(r"\d\d-\d\d", value):
            raise ValueError
        dt.date.fromisoformat(f"2000-{value}")
    except ValueError:
        raise ConfigError(f'{key} must be a month-day MM-DD, e.g. "06-30", got {value!r}') from None
    return value


def _history(raw: Any) -> HistoryConfig:
    if not isinstance(raw, dict):
        raise ConfigError("[history] must be a table")
    _no_unknown_keys(raw, set(HistoryConfig._fields), "history.")
    path = raw.get("path")
    if path is not None and (not isinstance(path, str) or not path.strip()):
        raise ConfigError(f"history.path must be a file path, got {path!r}")
    table = raw.get("bigquery_table", HistoryConfig.bigquery_table)
    if not isinstance(table, str) or not _TABLE_REF.match(table):
        raise ConfigError(f"history.bigquery_table must be [project.]dataset.table, got {table!r}")
    return HistoryConfig(path=path, bigquery_table=table)


def _baseline(raw: Any) -> BaselineConfig:
    if not isinstance(raw, dict):
        raise ConfigError("[baseline] must be a table")
    _no_unknown_keys(raw, set(BaselineConfig._fields), "baseline.")
    raw = dict(raw)
    try:
        levels = parse_new_levels(raw.pop("new_levels", []))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    for key, value in raw.items():
        whole = key.endswith("days")
        if not _is_number(value) or value <= 0 or (whole and not isinstance(value, int)):
            raise ConfigError(f"baseline.{key} must be a positive {'whole number' if whole else 'finite number'}, "
                              f"got {value!r}")
    config = BaselineConfig(**raw, new_levels=levels)
    if config.minimum_game_days > config.game_days:
        raise ConfigError(f"baseline.minimum_game_days ({config.minimum_game_days}) is more than "
                          f"baseline.game_days ({config.game_days})")
    if config.lookback_days > MAX_EXPIRATION_DAYS:
        raise ConfigError(f"baseline.lookback_days must be at most {MAX_EXPIRATION_DAYS}")
    return config


def _runbook(raw: Any) -> str | None:
    """``[runbook] url``: where the runbook is published (links add ``#<dimension id>``)."""
    if not isinstance(raw, dict):
        raise ConfigError("[runbook] must be a table")
    _no_unknown_keys(raw, {"url"}, "runbook.")
    url = raw.get("url")
    if url is None:
        return None
    if not isinstance(url, str) or not url.strip() or any(char.isspace() for char in url.strip()):
        raise ConfigError(f"runbook.url must be a URL or a path without spaces, got {url!r}")
    return url.strip()


def _slack(raw: Any) -> SlackConfig:
    if not isinstance(raw, dict):
        raise ConfigError("[slack] must be a table")
    _no_unknown_keys(raw, {"timeout_seconds", "total_seconds", "max_attempts", "repeat_after_hours",
                           *_SLACK_BOT_KEYS}, "slack.")
    bot = _slack_bot(raw)
    raw = {key: value for key, value in raw.items() if key not in _SLACK_BOT_KEYS}
    for key, value in raw.items():
        if not _is_number(value) or value <= 0:
            raise ConfigError(f"slack.{key} must be a positive finite number, got {value!r}")
    if "max_attempts" in raw and not isinstance(raw["max_attempts"], int):
        raise ConfigError(f"slack.max_attempts must be a whole number, got {raw['max_attempts']!r}")
    if raw.get("repeat_after_hours", 0) > MAX_REPEAT_AFTER_HOURS:  # a timedelta must hold it
        raise ConfigError(f"slack.repeat_after_hours must be at most {MAX_REPEAT_AFTER_HOURS} (a year), "
                          f"got {raw['repeat_after_hours']!r}")
    return SlackConfig(**raw, **bot)


_SLACK_BOT_KEYS = ("channel", "bot_token_env", "api_url")


def _slack_bot(raw: dict[str, Any]) -> dict[str, str]:
    """The bot's keys of [slack]: a channel (ID or #name), the token's variable name, the API base."""
    found = {}
    channel = raw.get("channel")
    if channel is not None:
        if not isinstance(channel, str) or not channel.strip() or any(char.isspace() for char in channel.strip()):
            raise ConfigError(f"slack.channel must be a channel ID or #name, e.g. \"C0123\" or \"#feature-store\", "
                              f"got {channel!r}")
        found["channel"] = channel.strip()
    name = raw.get("bot_token_env")
    if name is not None:
        # never echoed: a token pasted here instead of its variable's name is a secret
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ConfigError("slack.bot_token_env must name the environment variable that holds the bot token "
                              "(e.g. \"SLACK_BOT_TOKEN\"), not the token itself")
        found["bot_token_env"] = name
    url = raw.get("api_url")
    if url is not None:
        if not isinstance(url, str) or not re.fullmatch(r"https?://\S+", url.strip()):
            raise ConfigError(f"slack.api_url must be an http(s) URL, e.g. \"https://slack.com/api/\", got {url!r}")
        found["api_url"] = url.strip().rstrip("/") + "/"   # the SDK joins the method name onto it
    return found


def _section(raw: dict[str, Any], name: str, keys: set[str]) -> dict[str, Any]:
    section = raw.get(name)
    if not isinstance(section, dict):
        raise ConfigError(f"[{name}] section is missing")
    _no_unknown_keys(section, keys, f"{name}.")
    missing = keys - section.keys()
    if missing:
        raise ConfigError(f"{name}: missing {', '.join(sorted(missing))}")
    return section


def _no_unknown_keys(section: Mapping[str, Any], allowed: set[str], prefix: str) -> None:
    unknown = sorted(set(section) - allowed)
    if unknown:
        raise ConfigError(f"unknown key {prefix}{unknown[0]} (allowed: {', '.join(sorted(allowed))})")


def _columns(section: dict[str, Any], prefix: str) -> dict[str, str]:
    """Validate identifiers: ``table`` is a [project.]dataset.table reference, the rest are columns."""
    checked = {}
    for key, value in section.items():
        if not isinstance(value, str):
            raise ConfigError(f"{prefix}.{key} must be a string")
        pattern = _TABLE_REF if key == "table" else _COLUMN
        if not pattern.match(value):
            what = "a dataset.table reference" if key == "table" else "a column name"
            raise ConfigError(f"{prefix}.{key} = {value!r} is not {what}")
        checked[key] = value
    return checked


_TABLE_KEYS = {
    "name", "table", "date_column", "player_column", "production_ready_column",
    "quality_tier_column", "poor_tier", "quality_tiers", "completeness_column",
    "processed_at_column", "critical_features", "thresholds",
    "insufficient_data_reason_column", "data_quality_issues_column", "partition_expiration_days",
    "team_column", "contract", "unique_key", "value_ranges", "profile_exclude",
    "schedule_driven_columns", "early_season_column", "early_season_max_pct", "completeness_min_pct", "source",
    "downstream_usage", "ready_by", "ready_margin_minutes", *DISTRIBUTION_KEYS,
}
_OPTIONAL_TABLE_KEYS = {"thresholds", "insufficient_data_reason_column", "data_quality_issues_column",
                        "production_ready_column", "quality_tier_column", "poor_tier", "quality_tiers",
                        "completeness_column", "completeness_min_pct", "processed_at_column", "critical_features",
                        "partition_expiration_days", "team_column", "contract", "unique_key", "value_ranges",
                        "profile_exclude", "schedule_driven_columns", "early_season_column",
                        "early_season_max_pct", "source", "downstream_usage", "ready_by", "ready_margin_minutes",
                        *DISTRIBUTION_KEYS}


def _table(entry: Any, defaults: dict[str, dict[str, float]], prefix: str, folders: tuple[Path, ...]) -> TableConfig:
    if not isinstance(entry, dict):
        raise ConfigError(f"{prefix} must be a table")
    _no_unknown_keys(entry, _TABLE_KEYS, f"{prefix}.")
    missing = _TABLE_KEYS - _OPTIONAL_TABLE_KEYS - entry.keys()
    if missing:
        raise ConfigError(f"{prefix}: missing {', '.join(sorted(missing))}")
    name = entry["name"]
    if not isinstance(name, str) or not _COLUMN.match(name):
        raise ConfigError(f"{prefix}.name = {name!r} must be a simple name (letters, digits, _)")
    expiration = entry.get("partition_expiration_days")
    if expiration is not None and (isinstance(expiration, bool) or not isinstance(expiration, int)
                                   or not 1 <= expiration <= MAX_EXPIRATION_DAYS):
        raise ConfigError(f"{prefix}.partition_expiration_days must be a whole number of days from 1 to "
                          f"{MAX_EXPIRATION_DAYS}, got {expiration!r}")
    column_keys = {key for key in _TABLE_KEYS if key == "table" or key.endswith("_column")}
    columns = _columns({key: entry[key] for key in column_keys if key in entry}, prefix)
    features = (_string_list(entry["critical_features"], f"{prefix}.critical_features", _COLUMN)
                if "critical_features" in entry else ())
    _unique(features, str.lower, f"{prefix}.critical_features", "the same column (names ignore case)")
    tiers = _string_list(entry["quality_tiers"], f"{prefix}.quality_tiers", None) if "quality_tiers" in entry else ()
    _unique(tiers, tier_slug, f"{prefix}.quality_tiers", "the same tier ignoring case and punctuation")
    poor = entry.get("poor_tier")
    if "quality_tier_column" in entry and (poor is None or not tiers):
        raise ConfigError(f"{prefix}: quality_tier_column needs quality_tiers and poor_tier (the tier judged)")
    if poor is not None and poor not in tiers:
        raise ConfigError(f"{prefix}.poor_tier = {poor!r} is not one of quality_tiers {list(tiers)}")
    minimum = entry.get("completeness_min_pct")
    if minimum is not None:
        minimum = _percent(minimum, f"{prefix}.completeness_min_pct")
        if "completeness_column" not in entry:
            raise ConfigError(f"{prefix}.completeness_min_pct needs completeness_column (the % column it applies to)")
    downstream = entry.get("downstream_usage", True)
    if not isinstance(downstream, bool):
        raise ConfigError(f"{prefix}.downstream_usage must be true or false, got {downstream!r}")
    ready_by = _clock(entry.get("ready_by", "06:00"), f"{prefix}.ready_by")
    margin = entry.get("ready_margin_minutes", 30)
    if not _is_number(margin) or not 0 <= margin < 24 * 60:
        raise ConfigError(f"{prefix}.ready_margin_minutes must be minutes from 0 to 1439, got {margin!r}")
    overrides = _thresholds(entry.get("thresholds", {}), f"{prefix}.thresholds")
    thresholds = {dim: {**defaults.get(dim, {}), **overrides.get(dim, {})} for dim in DIMENSIONS}
    for dimension_id, values in thresholds.items():
        DIMENSIONS[dimension_id].validate_thresholds(values, f"{prefix}.thresholds.{dimension_id}")
    _arrival_thresholds(thresholds["arrival"], f"{prefix}.thresholds.arrival")
    contract_path, contract = _contract(entry.get("contract"), folders, f"{prefix}.contract")
    unique_key = (_string_list(entry["unique_key"], f"{prefix}.unique_key", _COLUMN) if "unique_key" in entry
                  else (columns["player_column"],))
    _unique(unique_key, str.lower, f"{prefix}.unique_key", "the same column (names ignore case)")
    value_ranges = _value_ranges(entry.get("value_ranges"), contract, f"{prefix}.value_ranges")
    schedule_driven = (_string_list(entry["schedule_driven_columns"], f"{prefix}.schedule_driven_columns", _COLUMN)
                       if entry.get("schedule_driven_columns") else ())
    distributions = parse_distributions(entry, prefix, contract, value_ranges, unique_key, schedule_driven,
                                        columns.get("team_column"), _string_list, _COLUMN, ConfigError)
    return TableConfig(
        name=name,
        contract=contract,
        contract_path=contract_path,
        unique_key=unique_key,
        profile_exclude=(_string_list(entry["profile_exclude"], f"{prefix}.profile_exclude", _COLUMN)
                         if entry.get("profile_exclude") else ()),
        value_ranges=value_ranges,
        critical_features=features,
        quality_tiers=tiers,
        poor_tier=poor,
        completeness_min_pct=minimum,
        thresholds=thresholds,
        partition_expiration_days=expiration,
        schedule_driven_columns=schedule_driven,
        **distributions._asdict(),
        early_season_max_pct=_percent(entry.get("early_season_max_pct", 10.0), f"{prefix}.early_season_max_pct"),
        source=_source(entry["source"], contract, f"{prefix}.source") if "source" in entry else None,
        downstream_usage=downstream,
        ready_by=ready_by,
        ready_margin_minutes=float(margin),
        **columns,
    )


def _arrival_thresholds(values: Mapping[str, float], key: str) -> None:
    """Percentiles of the recorded landings, the due one no later than the late one; a whole
    number of landings, at least 1."""
    due, late, minimum = values.get("due_pct"), values.get("warning_after_pct"), values.get("minimum_landings")
    for name, value in (("due_pct", due), ("warning_after_pct", late)):
        if value is None or not 0 < value <= 100:
            raise ConfigError(f"{key}.{name} must be a percentile above 0 and at most 100, got {value!r}")
    if due > late:
        raise ConfigError(f"{key}: due_pct ({due:g}) is later than warning_after_pct ({late:g}); due <= warning expected")
    if minimum is None or minimum < 1 or minimum != int(minimum):
        raise ConfigError(f"{key}.minimum_landings must be a whole number of at least 1, got {minimum!r}")


def _source(raw: Any, contract: Mapping[str, str] | None, key: str) -> SourceConfig:
    """``[tables.source]``: where the stat features come from. Every key has the SPEC §9 default."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{key} must be a table, e.g. [tables.source] table = \"nba_analytics.player_game_summary\"")
    _no_unknown_keys(raw, set(SourceConfig._fields), f"{key}.")
    names = {name: value for name, value in raw.items() if name == "table" or name.endswith("_column")}
    config = SourceConfig(**_columns(names, key))
    if "features" in raw:
        features = _string_list(raw["features"], f"{key}.features", _COLUMN)
        unknown = [feature for feature in features if feature not in SOURCE_FEATURES]
        if unknown:
            raise ConfigError(f"{key}.features: {unknown[0]} has no source rule (known: {', '.join(SOURCE_FEATURES)})")
        _unique(features, str.lower, f"{key}.features", "the same column")
        config = config._replace(features=features)
    if contract is not None:
        absent = [feature for feature in config.features if feature not in contract]
        if absent:
            raise ConfigError(f"{key}.features: {absent[0]} is not a column of the table's contract; "
                              "list the features the table has")
    if "tolerance" in raw:
        if not _is_number(raw["tolerance"]) or raw["tolerance"] < 0:
            raise ConfigError(f"{key}.tolerance must be a number >= 0, got {raw['tolerance']!r}")
        config = config._replace(tolerance=float(raw["tolerance"]))
    for name in ("roster_days", "roster_min_games"):
        if name in raw:
            value = raw[name]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 366:
                raise ConfigError(f"{key}.{name} must be a whole number from 1 to 366, got {value!r}")
            config = config._replace(**{name: value})
    return config


def _value_ranges(raw: Any, contract: Mapping[str, str] | None, key: str) -> tuple[Any, ...]:
    """``column = { min = 0, max = 60 }`` or ``{ values = [...] }``; a key with * or ? is a glob over
    the contract's columns ("*_completeness_pct"), a later exact key overriding what a glob set."""
    import fnmatch

    from feature_store_health.checks.dimensions.value_ranges import RangeRule

    if raw is None:
        return ()
    if not isinstance(raw, dict):
        raise ConfigError(f"{key} must be a table of columns, e.g. points_avg_last_10 = {{ min = 0, max = 60 }}")
    rules: dict[str, RangeRule] = {}
    for pattern, spec in raw.items():
        where = f"{key}.{pattern}"
        if not isinstance(spec, dict) or not spec:
            raise ConfigError(f"{where} must be {{ min = …, max = … }} or {{ values = [...] }}")
        _no_unknown_keys(spec, {"min", "max", "values"}, f"{where}.")
        if "values" in spec:
            if set(spec) != {"values"}:
                raise ConfigError(f"{where}: values cannot be combined with min or max")
            values = _string_list(spec["values"], f"{where}.values", None)
            rule = RangeRule(pattern, values=values)
        else:
            bounds = {name: spec.get(name) for name in ("min", "max")}
            for name, bound in bounds.items():
                if bound is not None and not _is_number(bound):
                    raise ConfigError(f"{where}.{name} must be a finite number, got {bound!r}")
            if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
                raise ConfigError(f"{where}: min {bounds['min']} is above max {bounds['max']}")
            rule = RangeRule(pattern, minimum=bounds["min"], maximum=bounds["max"])
        if any(char in pattern for char in "*?["):
            if contract is None:
                raise ConfigError(f"{where}: a pattern needs the table's contract to expand against")
            matched = [column for column in contract if fnmatch.fnmatchcase(column, pattern)]
            if not matched:
                raise ConfigError(f"{where}: the pattern matches no column of the contract")
        else:
            if not _COLUMN.match(pattern):
                raise ConfigError(f"{where}: {pattern!r} is not a column name")
            if contract is not None and pattern not in contract:
                raise ConfigError(f"{where}: {pattern} is not a column of the table's contract")
            matched = [pattern]
        for column in matched:
            rules[column] = rule._replace(column=column)
    return tuple(rules.values())


def _contract(value: Any, folders: tuple[Path, ...], key: str) -> tuple[Path | None, Mapping[str, str] | None]:
    """The contract file (BigQuery JSON schema); a relative path is looked up in ``folders``."""
    from feature_store_health.checks.contract import ContractError, load_contract

    if value is None:
        return None, None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} must be the path of a BigQuery JSON schema file")
    path = Path(value).expanduser()
    if not path.is_absolute():
        candidates = [folder / path for folder in folders]
        found = [candidate for candidate in candidates if candidate.is_file()]
        if not found:
            raise ConfigError(f"{key}: contract file {value} not found (looked in "
                              f"{', '.join(str(folder) for folder in folders)}); give an absolute path or fix it")
        path = found[0]
    try:
        return path, load_contract(path)
    except ContractError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def _string_list(value: Any, key: str, pattern: re.Pattern[str] | None) -> tuple[str, ...]:
    """Column names (``pattern``), or values that reach SQL only as string literals (tiers): those
    must be printable, hold no quote or backslash, and have a letter or digit for their alias."""
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{key} must be a non-empty list of strings")
    for item in value:
        if pattern is not None and not pattern.match(item):
            raise ConfigError(f"{key}: {item!r} is not a column name")
        if pattern is None and not _VALUE.match(item):
            raise ConfigError(f"{key}: {item!r} is not allowed: a value holds at most 100 printable characters, "
                              "no quote or backslash, and at least one letter or digit")
    return tuple(value)


def _unique(values: tuple[str, ...], key_of: Any, key: str, meaning: str) -> None:
    seen: dict[str, str] = {}
    for value in values:
        normal = key_of(value)
        if normal in seen:
            raise ConfigError(f"{key}: {seen[normal]!r} and {value!r} are {meaning}; list each once")
        seen[normal] = value


def _thresholds(raw: Any, prefix: str) -> dict[str, dict[str, float]]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{prefix} must be a table of dimensions")
    _no_unknown_keys(raw, set(DIMENSIONS), f"{prefix}.")
    result: dict[str, dict[str, float]] = {}
    for dimension_id, values in raw.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{prefix}.{dimension_id} must be a table of thresholds")
        allowed = set(DIMENSIONS[dimension_id].threshold_keys)
        _no_unknown_keys(values, allowed, f"{prefix}.{dimension_id}.")
        for key, number in values.items():
            if not _is_number(number):
                raise ConfigError(f"{prefix}.{dimension_id}.{key} must be a finite number, got {number!r}")
        result[dimension_id] = dict(values)
    return result


def _percent(value: Any, key: str) -> float:
    if not _is_number(value) or not 0 <= value <= 100:
        raise ConfigError(f"{key} must be a percentage from 0 to 100, got {value!r}")
    return float(value)


def _is_number(value: Any) -> bool:
    """An int or a finite float: TOML admits nan and inf, which would compare false with everything."""
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


def _time(value: Any, key: str) -> dt.time:
    if isinstance(value, dt.time) and value.tzinfo is None:  # a TOML local time: ready_by = 06:00:00
        return value
    try:
        return dt.time.fromisoformat(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} = {value!r} is not a time like '09:00'") from None


def _clock(value: Any, key: str) -> dt.time:
    """A wall-clock time "HH:MM" in the deadline time zone: no offset (it would be ignored)."""
    if isinstance(value, dt.time) and value.tzinfo is None:
        return value
    try:
        if not isinstance(value, str) or not re.fullmatch(r"\d\d:\d\d(:\d\d)?", value, re.ASCII):
            raise ValueError
        return dt.time.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"{key} = {value!r} is not a time like '06:00' (wall clock in deadline.timezone, "
                          "no offset)") from None


def _timezone(value: Any, key: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (TypeError, ValueError, ZoneInfoNotFoundError):
        raise ConfigError(f"{key} = {value!r} is not an IANA time zone like 'America/New_York'") from None
    return value
