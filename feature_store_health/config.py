"""The configuration file: read, merged over the defaults, validated (a ``[[tables]]`` entry in
config_tables.py, the value checks in config_values.py, the types in config_types.py).

Defaults live in ``health.toml`` beside this module. A user file is merged over them key by
key, so it only needs the keys it changes. Everything is validated here, before any query:
identifiers are checked against a strict pattern because they are formatted into SQL.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Any, TYPE_CHECKING

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.levels import parse_new_levels, untracked
from feature_store_health.config_tables import _table, _thresholds
# the types are config_types.py's, named here too: `from feature_store_health.config import TableConfig`
from feature_store_health.config_types import (
    MAX_REPEAT_AFTER_HOURS, SOURCE_FEATURES, BaselineConfig, ConfigError, HealthConfig, HistoryConfig,
    PredictionsConfig, ScheduleConfig, SlackConfig, SourceConfig, TableConfig,
)
from feature_store_health.config_values import (
    _TABLE_REF, MAX_EXPIRATION_DAYS, _columns, _is_number, _no_unknown_keys, _section, _time, _timezone,
)

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
