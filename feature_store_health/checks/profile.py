"""The column profile: per date, for every column of the table's contract, computed in the same
one aggregate query as the dimensions.

Every column: NULL count. Numbers: mean, stddev, min, max, median (approximate), zero count.
Booleans: TRUE count. Text: approximate distinct count. Timestamps and dates: min and max. Arrays
(REPEATED): rows with a non-empty array. A column that is missing gets no entry; a retyped one
gets its NULL count only (its values are not of the contract's kind). Metrics the dimensions
already compute (NULL counts of critical features, MIN/MAX of ranged columns) are shared.
"""

from __future__ import annotations

from typing import Any, Mapping, TYPE_CHECKING

from feature_store_health.checks.contract import kind
from feature_store_health.checks.dimensions.null_rates import null_metric
from feature_store_health.checks.dimensions.value_ranges import column_max, column_min
from feature_store_health.checks.metrics import Metric, Source

if TYPE_CHECKING:
    from feature_store_health.checks.contract import SchemaReport
    from feature_store_health.config_types import TableConfig

__all__ = ["APPROXIMATE", "column_stats", "profile_columns", "profile_metrics", "stddev_metric"]

# Which numbers are approximate (APPROX_QUANTILES, APPROX_COUNT_DISTINCT): a backend may differ
APPROXIMATE = ("median", "distinct")


def _stat(name: str, column: str, sql: str, empty: Any = None) -> Metric:
    return Metric(Source.FEATURES, f"{name}__{column}", sql, empty_value=empty, columns=(column,))


def stddev_metric(column: str) -> Metric:
    """A numeric column's standard deviation (the profile's; drift reads it for its spread message)."""
    return _stat("stddev", column, f"STDDEV_SAMP({column})")


def _stats(column: str, column_kind: str) -> dict[str, Metric]:
    """The profile's statistics of one column, by the kind of its type."""
    stats = {"nulls": null_metric(column)}
    if column_kind == "number":
        stats |= {
            "mean": _stat("mean", column, f"AVG({column})"),
            "stddev": stddev_metric(column),
            "min": column_min(column),
            # the 50th of 100 quantiles, not the middle of 2: the BigQuery emulator reads OFFSET one
            # element late, which costs a percentile here instead of giving the maximum
            "median": _stat("median", column, f"APPROX_QUANTILES({column}, 100)[OFFSET(50)]"),
            "max": column_max(column),
            "zeros": _stat("zeros", column, f"COUNTIF({column} = 0)", 0),
        }
    elif column_kind == "bool":
        stats["true"] = _stat("true", column, f"COUNTIF({column})", 0)
    elif column_kind == "text":
        stats["distinct"] = _stat("distinct", column, f"APPROX_COUNT_DISTINCT({column})", 0)
    elif column_kind in ("timestamp", "date"):
        stats |= {"min": column_min(column), "max": column_max(column)}
    elif column_kind == "array":
        stats["nonempty"] = _stat("nonempty", column, f"COUNTIF(ARRAY_LENGTH({column}) > 0)", 0)
    return stats


def profile_columns(table: "TableConfig", schema: "SchemaReport | None") -> dict[str, dict[str, Metric]]:
    """Column -> its statistics' metrics, for the contract's columns the profile covers (or the live
    columns when the table has no contract). A retyped column keeps its NULL count only."""
    columns = table.contract if table.contract is not None else (schema.live if schema is not None else {})
    profiled = {}
    for column, column_type in columns.items():
        if column in table.profile_exclude:
            continue
        if schema is not None and not schema.usable(column):
            if schema.problem(column) and column.lower() in (name.lower() for name in schema.live):
                profiled[column] = {"nulls": null_metric(column)}  # retyped: its NULLs still count
            continue
        profiled[column] = _stats(column, kind(column_type))
    return profiled


def profile_metrics(table: "TableConfig", schema: "SchemaReport | None") -> tuple[Metric, ...]:
    return tuple(metric for stats in profile_columns(table, schema).values() for metric in stats.values())


def column_stats(table: "TableConfig", schema: "SchemaReport | None", values: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The profile of one date: column -> {"type", "nulls", "null_pct", and its statistics}."""
    rows = values.get("row_count", 0)
    types = table.contract if table.contract is not None else (schema.live if schema is not None else {})
    profile = {}
    for column, stats in profile_columns(table, schema).items():
        entry: dict[str, Any] = {"type": types.get(column)}
        for name, metric in stats.items():
            value = values.get(metric.name)
            entry[name] = round(value, 6) if isinstance(value, float) else value
        entry["null_pct"] = round(100.0 * entry["nulls"] / rows, 2) if rows and entry.get("nulls") is not None else None
        profile[column] = entry
    return profile
