"""uniqueness: keys written more than once on a date (default ``player_lookup`` within the date).

A duplicated row counts twice in every join downstream. Any duplicate is an ERROR (configurable);
the message names the key and a few duplicated values, the report shows the duplicated rows.
"""

from __future__ import annotations

from typing import Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import (
    BASE, Dimension, Judgement, JudgeContext, SampleRule, Values, band, nothing_to_judge,
)
from feature_store_health.checks.metrics import Metric, Source

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["DIMENSION"]


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    key = tuple(table.unique_key)
    return (
        *BASE,
        Metric(Source.DUPLICATES, "duplicate_keys", "COUNT(*)", columns=key),
        Metric(Source.DUPLICATES, "duplicate_rows", "SUM(copies - 1)", columns=key),
        # the first five duplicated keys of the date (STRING_AGG skips the NULLs past them)
        Metric(Source.DUPLICATES, "duplicate_key_examples", "STRING_AGG(IF(position <= 5, key_text, NULL), ' | ')",
               empty_value="", columns=key),
    )


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    if (skip := nothing_to_judge(values, ctx)) is not None:
        return skip
    rows, keys, extra = values["row_count"], values["duplicate_keys"], values["duplicate_rows"]
    key = " + ".join(table.unique_key)
    examples = sorted(example for example in values["duplicate_key_examples"].split(" | ") if example)
    details = {"key": list(table.unique_key), "rows": rows, "duplicated_keys": keys, "duplicate_rows": extra,
               "examples": examples}
    severity = band(extra, limits, "above")
    if not keys:
        return Judgement(severity, 0, f"every {key} once per date ({rows} rows)", details)
    shown = ", ".join(examples) + (", …" if keys > len(examples) else "")
    return Judgement(severity, extra,
                     f"{extra} duplicate rows: {keys} {key} value{'s' if keys != 1 else ''} written more than once "
                     f"({shown})", details)


def rules(table: "TableConfig") -> tuple[SampleRule, ...]:
    partition = ", ".join([table.date_column, *table.unique_key])
    return (SampleRule("duplicate", f"COUNT(*) OVER (PARTITION BY {partition}) > 1"),)


DIMENSION = Dimension(
    "uniqueness", "Uniqueness", "keys written more than once per date",
    ("warning_above", "error_above", "critical_above"), metrics, judge,
    rules,
    lambda table: tuple(table.unique_key),
    applies=lambda table: bool(table.unique_key),
)
