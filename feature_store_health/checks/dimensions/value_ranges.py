"""value_ranges: % rows outside a column's valid range; the worst column decides.

Ranges come from the table's ``[tables.value_ranges]`` (a minimum, a maximum, or a list of valid
values); NULL is never out of range (NULLs are null_rates' job). A ranged column that is missing
or retyped is named as not evaluated; the other columns are still judged.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import (
    BASE, Dimension, Judgement, JudgeContext, SampleRule, Values, band, judged_value, nothing_to_judge, pct, shown,
    sql_string,
)
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["DIMENSION", "RangeRule", "column_max", "column_min"]


class RangeRule(NamedTuple):
    """A column's valid values: ``minimum``..``maximum`` (either may be None), or one of ``values``."""

    column: str
    minimum: float | None = None
    maximum: float | None = None
    values: tuple[str, ...] | None = None

    @property
    def outside(self) -> str:
        """BigQuery predicate true for a non-NULL value outside the range (NULL stays NULL: not counted)."""
        if self.values is not None:
            return f"{self.column} NOT IN ({', '.join(sql_string(value) for value in self.values)})"
        bounds = []
        if self.minimum is not None:
            bounds.append(f"{self.column} < {self.minimum!r}")
        if self.maximum is not None:
            bounds.append(f"{self.column} > {self.maximum!r}")
        return "(" + " OR ".join(bounds) + ")"

    @property
    def valid(self) -> str:
        if self.values is not None:
            return "one of " + ", ".join(self.values)
        if self.maximum is None:
            return f">= {self.minimum:g}"
        if self.minimum is None:
            return f"<= {self.maximum:g}"
        return f"{self.minimum:g}–{self.maximum:g}"


def _metric_name(column: str) -> str:
    return f"out_of_range__{column}"


def column_min(column: str) -> Metric:
    """MIN of a column; the column profile shares it."""
    return Metric(Source.FEATURES, f"min__{column}", f"MIN({column})", empty_value=None, columns=(column,))


def column_max(column: str) -> Metric:
    return Metric(Source.FEATURES, f"max__{column}", f"MAX({column})", empty_value=None, columns=(column,))


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    metrics = list(BASE)
    for rule in table.value_ranges:
        metrics.append(Metric(Source.FEATURES, _metric_name(rule.column), f"COUNTIF({rule.outside})", columns=(rule.column,)))
        if rule.values is None:
            metrics += [column_min(rule.column), column_max(rule.column)]
    return tuple(metrics)


def _observed(values: Values, rule: RangeRule) -> str:
    low, high = values.get(f"min__{rule.column}"), values.get(f"max__{rule.column}")
    return f"{low:g}–{high:g}" if isinstance(low, (int, float)) and isinstance(high, (int, float)) else "n/a"


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    if (skip := nothing_to_judge(values, ctx)) is not None:
        return skip
    rows = values["row_count"]
    columns: dict[str, dict[str, Any]] = {}
    not_evaluated: dict[str, str] = {}
    for rule in table.value_ranges:
        count = values.get(_metric_name(rule.column))
        if count is None:  # the column is missing or retyped: its metric was left out of the query
            problem = ctx.schema.problem(rule.column) if ctx.schema is not None else None
            not_evaluated[rule.column] = problem or "not in the query"
            continue
        share = pct(count, rows)
        columns[rule.column] = {"out_of_range": count, "pct": judged_value(share, limits), "valid": rule.valid,
                                "observed": _observed(values, rule)}
    details: dict[str, Any] = {"rows": rows, "columns": columns, "not_evaluated_columns": not_evaluated}
    unevaluated = (f"; not evaluated: {', '.join(f'{column} ({problem})' for column, problem in not_evaluated.items())}"
                   if not_evaluated else "")
    if not columns:
        return Judgement(Severity.NOT_EVALUATED, None, "not evaluated: no ranged column can be read" + unevaluated, details)
    ranked = sorted(columns, key=lambda column: -columns[column]["out_of_range"])
    worst = ranked[0]
    count = columns[worst]["out_of_range"]
    share = pct(count, rows)
    details["worst_column"] = worst if count else None
    details["columns_out_of_range"] = [column for column in ranked if columns[column]["out_of_range"]]
    if not count:
        return Judgement(band(share, limits, "above"), 0.0,
                         f"{len(columns)} columns within their valid ranges ({rows} rows){unevaluated}", details)
    others = len(details["columns_out_of_range"]) - 1
    rule = next(rule for rule in table.value_ranges if rule.column == worst)
    observed = "" if rule.values is not None else f", observed {columns[worst]['observed']}"
    message = (f"{worst}: {count} of {rows} rows ({shown(share, limits)}%) outside {rule.valid}{observed}"
               + (f"; {others} more column{'s' if others != 1 else ''} out of range" if others else "") + unevaluated)
    return Judgement(band(share, limits, "above"), judged_value(share, limits), message, details)


def rules(table: "TableConfig") -> tuple[SampleRule, ...]:
    return tuple(SampleRule(rule.column, rule.outside) for rule in table.value_ranges)


def failing(details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> tuple[str, ...]:
    """The columns with rows out of range, worst first."""
    return tuple(details.get("columns_out_of_range", ()))


DIMENSION = Dimension(
    "value_ranges", "Value Ranges", "% rows outside a column's valid range, worst column decides",
    ("warning_above", "error_above", "critical_above"), metrics, judge,
    rules,
    lambda table: tuple(rule.column for rule in table.value_ranges),
    failing,
    applies=lambda table: bool(table.value_ranges),
    partial=True,
    reasons_are_columns=True,
)
