"""A ``[[tables]]`` entry of the configuration: its columns, contract, thresholds, source and
value ranges, validated into a TableConfig (config.py reads the file and the other sections)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from feature_store_health.checks.dimensions import DIMENSIONS, tier_slug
from feature_store_health.config_distributions import DISTRIBUTION_KEYS, parse_distributions
from feature_store_health.config_types import SOURCE_FEATURES, ConfigError, SourceConfig, TableConfig
from feature_store_health.config_values import (
    _COLUMN, MAX_EXPIRATION_DAYS, _clock, _columns, _is_number, _no_unknown_keys, _percent,
    _string_list, _unique,
)

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
