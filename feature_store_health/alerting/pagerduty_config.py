"""``[pagerduty]``: the opt-in PagerDuty Events API v2 channel's settings (alerting/pagerduty.py).

The routing key is never in the config: only the name of the environment variable that holds
it, so the file can be committed. A bad value is a ConfigError naming the key (exit 4).
"""

from __future__ import annotations

import re
import urllib.parse
from typing import Any, NamedTuple

from feature_store_health.config_types import ConfigError
from feature_store_health.config_values import _no_unknown_keys, positive_numbers, whole_numbers

__all__ = ["DEFAULT_EVENTS_URL", "PagerDutyConfig", "SEVERITIES", "parse_pagerduty"]

DEFAULT_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
# what may page: a NOT_EVALUATED check ranks with ERROR (as in the incidents) and pages with it
SEVERITIES = ("WARNING", "ERROR", "CRITICAL")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_SOURCE_LIMIT = 255


class PagerDutyConfig(NamedTuple):
    routing_key_env: str                           # the environment variable holding the routing key
    events_url: str = DEFAULT_EVENTS_URL
    severities: tuple[str, ...] = ("ERROR", "CRITICAL")
    source: str = "feature-store-health"           # payload.source: where PagerDuty says it came from
    timeout_seconds: float = 10.0                  # per attempt
    total_seconds: float = 30.0                    # all the run's events and their attempts together
    max_attempts: int = 4


def parse_pagerduty(raw: Any) -> PagerDutyConfig | None:
    """``[pagerduty]``: None when the section is absent. Raises ConfigError naming the key."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("[pagerduty] must be a table")
    _no_unknown_keys(raw, set(PagerDutyConfig._fields), "pagerduty.")
    env = raw.get("routing_key_env")
    if env is None:
        raise ConfigError('pagerduty.routing_key_env is required: the name of the environment variable holding the '
                          'routing key, e.g. routing_key_env = "PAGERDUTY_ROUTING_KEY" (never the key itself)')
    if not isinstance(env, str) or not _ENV_NAME.match(env):
        # never echoed: a routing key pasted here by mistake must not reach the console
        raise ConfigError("pagerduty.routing_key_env must be an environment variable name (letters, digits, _), "
                          'e.g. "PAGERDUTY_ROUTING_KEY"; put the routing key itself in that variable')
    config = PagerDutyConfig(routing_key_env=env)
    if "events_url" in raw:
        config = config._replace(events_url=_url(raw["events_url"]))
    if "severities" in raw:
        config = config._replace(severities=_severities(raw["severities"]))
    if "source" in raw:
        source = raw["source"]
        if not isinstance(source, str) or not source.strip() or len(source) > _SOURCE_LIMIT:
            raise ConfigError(f"pagerduty.source must be a non-empty text of at most {_SOURCE_LIMIT} characters, "
                              f"got {source!r}")
        config = config._replace(source=source.strip())
    return config._replace(**positive_numbers(raw, ("timeout_seconds", "total_seconds"), "pagerduty."),
                           **whole_numbers(raw, ("max_attempts",), "pagerduty."))


def _url(value: Any) -> str:
    try:   # a port out of range, an unclosed bracket: a config error, never a traceback
        parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
        if parts is not None:
            parts.port  # noqa: B018  raises on a port that is no number or out of range
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
        raise ConfigError(f"pagerduty.events_url must be an http(s) URL, e.g. {DEFAULT_EVENTS_URL!r}, got {value!r}")
    return value


def _severities(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"pagerduty.severities must be a non-empty list of {', '.join(SEVERITIES)}, got {value!r}")
    names = tuple(dict.fromkeys(item.strip().upper() for item in value))
    wrong = [name for name in names if name not in SEVERITIES]
    if wrong:
        raise ConfigError(f"pagerduty.severities: {wrong[0]!r} is not one of {', '.join(SEVERITIES)} "
                          "(NOT_EVALUATED pages with ERROR)")
    return tuple(name for name in SEVERITIES if name in names)
