"""Which columns the checks flagged, per table and date: what the column profile leads with.

A column is flagged when a check that is not OK names it: the schema (missing, retyped, not in
the contract), value_ranges (rows out of range), null_rates (a critical feature over its limit),
quality_tiers (the tier NULL on too many rows).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Iterable

from feature_store_health.checks.verdict import Severity, Verdict

if TYPE_CHECKING:
    from feature_store_health.run import HealthRun

__all__ = ["flagged_columns", "verdicts_by_table_date"]


def verdicts_by_table_date(run: "HealthRun") -> dict[tuple[str, dt.date], list[Verdict]]:
    """The run's verdicts grouped once by (table, date): reports look a date up, never rescan."""
    groups: dict[tuple[str, dt.date], list[Verdict]] = {}
    for verdict in run.verdicts:
        groups.setdefault((verdict.table, verdict.check_date), []).append(verdict)
    return groups


def flagged_columns(run: "HealthRun", table: str, verdicts: Iterable[Verdict]) -> dict[str, list[str]]:
    """Column -> why it is flagged, from one table and date's verdicts that are not OK."""
    flags: dict[str, list[str]] = {}
    for verdict in verdicts:
        if verdict.severity in (Severity.OK, Severity.SKIPPED, Severity.NOT_EVALUATED):
            continue
        details = verdict.details
        if verdict.dimension == "schema":
            for column in details.get("missing", ()):
                flags.setdefault(column, []).append("missing")
            for change in details.get("retyped", ()):
                flags.setdefault(change["column"], []).append(f"retyped to {change['live']} (contract {change['contract']})")
            for column in details.get("extra", ()):
                flags.setdefault(column, []).append("not in the contract")
        elif verdict.dimension == "value_ranges":
            for column in details.get("columns_out_of_range", ()):
                entry = details["columns"][column]
                flags.setdefault(column, []).append(
                    f"{entry['out_of_range']} rows ({entry['pct']}%) outside {entry['valid']}")
        elif verdict.dimension == "null_rates":
            rows = details.get("rows") or 0
            for column, count in details.get("null_count", {}).items():
                if rows and count and 100.0 * count / rows > verdict.threshold.get("warning_above", 100):
                    flags.setdefault(column, []).append(f"{details['null_pct'][column]}% NULL")
        elif verdict.dimension == "quality_tiers" and details.get("tier_null"):
            limit = verdict.threshold.get("null_warning_above", 100)
            if details.get("tier_null_pct", 0) > limit or details.get("tier_null") == details.get("rows"):
                column = run.table(table).quality_tier_column
                flags.setdefault(column, []).append(f"{details['tier_null_pct']}% NULL")
    return flags
