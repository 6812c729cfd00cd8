"""schema: the live columns and types against the table's contract (``fixtures/schema/…``).

A missing column that a check reads is CRITICAL, another missing column or a changed type is an
ERROR, a column the contract does not name is a WARNING. Read from metadata (DuckDB's
information_schema, BigQuery's table resource): no data read, no bytes billed. The table's
structure is the same on every date of a run, so every date gets the same finding.
"""

from __future__ import annotations

from typing import Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import Dimension, Judgement, JudgeContext, Values
from feature_store_health.checks.metrics import Metric
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["DIMENSION"]


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    return ()  # judged from the table's metadata, not from the aggregate query


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    report = ctx.schema
    if report is None or report.contract is None:
        return Judgement(Severity.SKIPPED, None, "no contract configured for this table: nothing to compare", {})
    missing, retyped, extra = report.missing, report.retyped, report.extra
    read = [column for column in missing if report.read_by.get(column)]
    details = {
        "columns_live": len(report.live), "columns_contract": len(report.contract),
        "missing": list(missing),
        "missing_read_by_checks": {column: list(report.read_by[column]) for column in read},
        "retyped": [{"column": column, "contract": expected, "live": live} for column, expected, live in retyped],
        "extra": list(extra),
    }
    parts = []
    if read:
        parts.append("missing, read by checks: " + ", ".join(
            f"{column} ({', '.join(report.read_by[column])})" for column in read))
    others = [column for column in missing if column not in read]
    if others:
        parts.append("missing: " + ", ".join(others))
    if retyped:
        parts.append("retyped: " + ", ".join(f"{column} {live} (contract {expected})" for column, expected, live in retyped))
    if extra:
        parts.append("not in the contract: " + ", ".join(extra))
    if read:
        severity = Severity.CRITICAL
    elif others or retyped:
        severity = Severity.ERROR
    elif extra:
        severity = Severity.WARNING
    else:
        return Judgement(Severity.OK, 0, f"{len(report.live)} columns as the contract says", details)
    return Judgement(severity, len(missing) + len(retyped) + len(extra), f"{report.table}: " + "; ".join(parts), details)


DIMENSION = Dimension(
    "schema", "Schema", "live columns and types against the table's contract",
    (), metrics, judge,
    applies=lambda table: table.contract is not None,
)
