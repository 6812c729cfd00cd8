"""The configuration's value checks: identifiers (formatted into SQL, so strictly matched), key
sets, lists, numbers, times and time zones. Each raises ConfigError naming the key."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Mapping

from feature_store_health.config_types import ConfigError

_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$")
# [project.]dataset.table; project ids may hold dashes, dataset and table names may not.
_TABLE_REF = re.compile(r"^(?:[a-z][a-z0-9-]{4,29}[a-z0-9]\.)?[A-Za-z_][A-Za-z0-9_]{0,1023}\.[A-Za-z_][A-Za-z0-9_]{0,1023}$")


# A value compared as a SQL string literal (a quality tier): printable, no quote or backslash,
# with a letter or digit so that its alias (tier_slug) is not empty.
_VALUE = re.compile(r"^(?=.*[A-Za-z0-9])[^'\\\x00-\x1f\x7f]{1,100}$")
MAX_EXPIRATION_DAYS = 36_600  # a century


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


def positive_numbers(raw: Mapping[str, Any], keys: tuple[str, ...], prefix: str) -> dict[str, float]:
    """Those of ``keys`` that ``raw`` sets, each a positive finite number (a time limit, in seconds)."""
    found = {}
    for key in keys:
        if key in raw:
            value = raw[key]
            if not _is_number(value) or value <= 0:
                raise ConfigError(f"{prefix}{key} must be a positive finite number, got {value!r}")
            found[key] = float(value)
    return found


def whole_numbers(raw: Mapping[str, Any], keys: tuple[str, ...], prefix: str, high: int = 100) -> dict[str, int]:
    """Those of ``keys`` that ``raw`` sets, each a whole number from 1 to ``high`` (attempts, requests)."""
    found = {}
    for key in keys:
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
                raise ConfigError(f"{prefix}{key} must be a whole number from 1 to {high}, got {value!r}")
            found[key] = value
    return found
