"""Severities and verdicts: what a judged check says, and nothing that could read as a false pass."""

from __future__ import annotations

import datetime as dt
import enum
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple

__all__ = ["STATUS_COLORS", "STATUS_ICONS", "Severity", "Verdict", "describe_thresholds", "overall_status", "worst"]


class Severity(enum.Enum):
    """Outcome of one check. NOT_EVALUATED (query failed, table missing) is an error, never a pass.

    SKIPPED means there was nothing to judge (no games scheduled, no rows for the date):
    the check is neither a pass nor a failure and is reported as such.
    """

    OK = "OK"
    WARNING = "WARNING"
    ERROR = "ERROR"
    CRITICAL = "CRITICAL"
    NOT_EVALUATED = "NOT_EVALUATED"
    SKIPPED = "SKIPPED"

    @property
    def icon(self) -> str:
        return _ICONS[self]

    @property
    def rank(self) -> int:
        """How bad: 0 (OK, SKIPPED) to 3 (CRITICAL); NOT_EVALUATED ranks with ERROR."""
        return _RANK[self.value]

    def fails(self, fail_on: str) -> bool:
        """Whether this outcome fails the run under ``--fail-on`` (``error`` or ``warning``)."""
        if self in (Severity.ERROR, Severity.CRITICAL, Severity.NOT_EVALUATED):
            return True
        return self is Severity.WARNING and fail_on == "warning"


_RANK = {"OK": 0, "SKIPPED": 0, "WARNING": 1, "ERROR": 2, "NOT_EVALUATED": 2, "CRITICAL": 3}


def worst(*severities: "Severity") -> "Severity":
    """The most severe of ``severities`` (the first among equals)."""
    return max(severities, key=lambda severity: _RANK[severity.value])


_ICONS = {
    Severity.OK: "✅",
    Severity.WARNING: "⚠️",
    Severity.ERROR: "❌",
    Severity.CRITICAL: "🚨",
    Severity.NOT_EVALUATED: "💥",
    Severity.SKIPPED: "➖",
}


class Verdict(NamedTuple):
    """One dimension of one table on one date, judged against its thresholds."""

    table: str
    check_date: dt.date
    dimension: str
    severity: Severity
    value: float | int | None
    threshold: Mapping[str, Any]
    message: str
    details: Mapping[str, Any] = MappingProxyType({})

    def threshold_text(self) -> str:
        """Thresholds as people read them: ``warning < 98 · error < 95 · critical < 90``."""
        return describe_thresholds(self.threshold)

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "date": self.check_date.isoformat(),
            "dimension": self.dimension,
            "severity": self.severity.value,
            "value": self.value,
            "threshold": dict(self.threshold),
            "message": self.message,
            "details": dict(self.details),
        }


_COMPARATORS = {"below": "<", "above": ">"}


# threshold keys that are not a plain ``{level}_{below|above}`` limit, as people read them
_SPECIAL_THRESHOLDS = {
    "warning_min_rows_per_team": "warning < {limit} rows per team playing",
    "error_teams_without_rows_above": "error > {limit} playing teams without rows",
    "critical_teams_without_rows_pct_above": "critical > {limit}% of playing teams without rows",
    "null_warning_above": "warning if NULL on > {limit}% of rows",
}


def describe_thresholds(threshold: Mapping[str, Any]) -> str:
    parts = []
    for key, limit in threshold.items():
        if key in _SPECIAL_THRESHOLDS:
            parts.append(_SPECIAL_THRESHOLDS[key].format(limit=f"{limit:g}"))
            continue
        level, _, rule = key.partition("_")
        parts.append(f"{level} {_COMPARATORS.get(rule, rule)} {limit:g}")
    return " · ".join(parts) if parts else "no thresholds"


# INCOMPLETE: the run stopped (interrupted, -x, --setup-only) before every collected check was judged;
# whatever the judged checks say, such a run never reads HEALTHY.
STATUS_ICONS = {"HEALTHY": "✅", "DEGRADED": "⚠️", "UNHEALTHY": "❌", "CRITICAL": "🚨", "INCOMPLETE": "⏸️"}
STATUS_COLORS = {"HEALTHY": "#1a7f37", "DEGRADED": "#9a6700", "UNHEALTHY": "#cf222e", "CRITICAL": "#8b0000",
                 "INCOMPLETE": "#6e40c9"}


def overall_status(severities: list[Severity]) -> str:
    """HEALTHY / DEGRADED (warnings) / UNHEALTHY (errors or checks that could not run) / CRITICAL."""
    if Severity.CRITICAL in severities:
        return "CRITICAL"
    if Severity.ERROR in severities or Severity.NOT_EVALUATED in severities:
        return "UNHEALTHY"
    if Severity.WARNING in severities:
        return "DEGRADED"
    return "HEALTHY"
