"""Which columns a verdict's finding concerns: the columns whose values made it not OK.

Read from the verdict's details, per dimension. A dimension may say it outright with
``details["columns_affected"]`` (a list of column names): that wins, for any dimension. A
table-level finding (coverage, staleness, a tier or readiness shortfall, anomalies on rows per
team or the landing time, source_consistency's roster check) concerns no column: () — it touches
every model reading the table. An OK or SKIPPED verdict concerns nothing.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, TYPE_CHECKING

from feature_store_health.checks.verdict import Severity, Verdict

if TYPE_CHECKING:
    from feature_store_health.config_types import TableConfig

__all__ = ["COLUMNS_AFFECTED", "TABLE_LEVEL", "concerned_columns"]

COLUMNS_AFFECTED = "columns_affected"   # the key a dimension's details may name its columns under
# the built-in dimensions whose findings never concern a column: a column mute of one would never
# silence anything (alerting/mutes.py refuses it)
TABLE_LEVEL = frozenset({"arrival", "coverage", "production_readiness", "quality_tiers", "completeness",
                         "downstream_usage", "staleness", "uniqueness"})


def _null_rates(details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> list[str]:
    from feature_store_health.checks.dimensions.null_rates import failing

    return list(failing(details, limits, table))   # the features over a limit


def _value_ranges(details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> list[str]:
    # the columns with rows out of range, worst first, then those that could not be read
    return [*details.get("columns_out_of_range", ()), *details.get("not_evaluated_columns", {})]


def _anomalies(details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> list[str]:
    # a flagged metric "mean:minutes_avg_last_10" is about its column; "rows_per_team",
    # "landing_time" and the "pct_*" shares are about the table
    return [drift["metric"].partition(":")[2] for drift in details.get("drifts", ())
            if drift.get("flagged") and ":" in drift["metric"]]


def _source_consistency(details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> list[str]:
    from feature_store_health.checks.dimensions.source_consistency import failing_reasons

    if "mismatch" not in failing_reasons(details, limits, table):
        return []   # the roster check alone: players without a row, no column
    mismatches = details.get("mismatches", {})
    return sorted((feature for feature, count in mismatches.items() if count), key=lambda f: -mismatches[f])


def _schema(details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> list[str]:
    # a column not in the contract is read by no model (their features are the contract's columns)
    return [*details.get("missing", ()), *(change["column"] for change in details.get("retyped", ()))]


_BY_DIMENSION: dict[str, Callable[[Mapping[str, Any], Mapping[str, float], "TableConfig"], list[str]]] = {
    "null_rates": _null_rates,
    "value_ranges": _value_ranges,
    "anomalies": _anomalies,
    "source_consistency": _source_consistency,
    "schema": _schema,
}


def concerned_columns(verdict: Verdict, table: "TableConfig") -> tuple[str, ...]:
    """The columns ``verdict`` is not OK about, each once, in the order its details give them."""
    if verdict.severity in (Severity.OK, Severity.SKIPPED):
        return ()
    details = verdict.details or {}
    if COLUMNS_AFFECTED in details:
        return tuple(dict.fromkeys(details[COLUMNS_AFFECTED] or ()))
    rule = _BY_DIMENSION.get(verdict.dimension)
    if rule is None:
        return ()
    return tuple(dict.fromkeys(rule(details, verdict.threshold, table)))
