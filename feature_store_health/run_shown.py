"""What the reports and the alerts show beside the verdicts: the offending rows of a failing
check (one query per dimension, on first need), the most common issue values, the column profile
and the per-date trend, all from metrics already fetched.

A part of the run state (``HealthRun`` mixes it in).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, TYPE_CHECKING

from feature_store_health.backends.base import BackendError
from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.plan import ISSUE_METRICS
from feature_store_health.checks.query import build_sample_query
from feature_store_health.checks.trend import TrendRow, trend_row
from feature_store_health.checks.verdict import Verdict

if TYPE_CHECKING:
    from feature_store_health.config_types import TableConfig

__all__ = ["Shown"]


class Shown:
    """Samples, issue counts, profile and trend of a HealthRun (its tables, metrics and history)."""

    def samples(self, table_name: str, dimension_id: str) -> list[dict[str, Any]] | str:
        """Offending rows of a failing dimension (at most SAMPLE_ROWS per date and reason), each with
        its ``sample_reason`` key: one query per dimension, on first need. A failure to fetch them
        is returned as text, never raised."""
        key = (table_name, dimension_id)
        if key not in self._samples:
            table = self._tables[table_name]
            dimension = DIMENSIONS[dimension_id]
            rules = dimension.sample_rules(table)
            if dimension.sample_query is not None:
                try:
                    self.metrics(table.name)   # the learned values the query compares with
                    sql = dimension.sample_query(table, self.learned_cte(table), self.schema(table.name).usable)
                    rows = self._run(table, sql, f"samples:{dimension_id}")
                except BackendError as exc:
                    self._samples[key] = f"samples unavailable: {exc}"
                else:
                    self._samples[key] = rows
            elif not rules:
                self._samples[key] = []
            else:
                sql = build_sample_query(table, rules, dimension.sample_columns(table))
                try:
                    rows = self._run(table, sql, f"samples:{dimension_id}")
                except BackendError as exc:
                    self._samples[key] = f"samples unavailable: {exc}"
                else:
                    self._samples[key] = [{**row, "sample_reason": rules[row["sample_reason"]].reason} for row in rows]
        return self._samples[key]

    def failing_samples(self, verdict: Verdict) -> list[dict[str, Any]] | str:
        """The sampled rows that made ``verdict`` fail: its date, the reasons that failed, each row once."""
        table = self._tables[verdict.table]
        dimension = DIMENSIONS[verdict.dimension]
        reasons = dimension.reasons_failing(verdict.details, verdict.threshold, table)
        if dimension.sample_rows is not None:  # its own query returned them with the date's values
            try:
                values = self.own_values(table.name, dimension.id)[verdict.check_date]
            except BackendError as exc:
                return f"samples unavailable: {exc}"
            return dimension.sample_rows(values, table, reasons)
        samples = self.samples(verdict.table, verdict.dimension)
        if isinstance(samples, str):
            return samples
        if dimension.sample_query is not None:   # the player, the previous date, the columns it flagged
            affected = (verdict.details or {}).get("columns_affected") or ()
            keep = {table.player_column, "prev_date", *affected, *(f"prev__{column}" for column in affected)}
            return [{name: value for name, value in row.items() if name in keep}
                    for row in samples if row["check_date"] == verdict.check_date]
        if dimension.reasons_are_columns:  # the player, the failing columns, when it was processed
            keep = {table.player_column, *reasons, *((table.processed_at_column,) if table.processed_at_column else ())}
        shown: list[dict[str, Any]] = []
        times_shown: Counter = Counter()
        for reason in reasons:  # the failing reasons' rows, in the order the dimension lists them
            in_reason: Counter = Counter()
            for row in samples:
                if row["check_date"] == verdict.check_date and row["sample_reason"] == reason:
                    columns = {name: value for name, value in row.items() if name not in ("check_date", "sample_reason")
                               and (not dimension.reasons_are_columns or name in keep)}
                    # a row matching two reasons is shown once; identical copies (duplicates) each
                    key = tuple(map(repr, columns.values()))
                    in_reason[key] += 1
                    if in_reason[key] > times_shown[key]:
                        times_shown[key] += 1
                        shown.append(columns)
        return shown

    def issue_counts(self, table_name: str) -> dict[str, list[tuple[str, int]]]:
        """Occurrences of each insufficient_data_reason / data_quality_issues value in the window,
        most common first, from the values the one aggregate query returned per date."""
        table = self._tables[table_name]
        by_date = self.metrics(table_name)
        counts = {}
        for config_key, metric in ISSUE_METRICS.items():
            column = getattr(table, config_key)
            if column:
                counter = Counter(value for values in by_date.values() for value in values.get(metric) or ())
                counts[column] = sorted(counter.items(), key=lambda item: (-item[1], item[0]))
        return counts

    def table(self, table_name: str) -> TableConfig:
        return self._tables[table_name]

    def profile(self, table_name: str) -> dict[dt.date, dict[str, dict[str, Any]]]:
        """The column profile per date (from the metrics already fetched), computed once for the
        results JSON and the HTML report alike."""
        if table_name not in self._profiles:
            from feature_store_health.checks.profile import column_stats

            table = self._tables[table_name]
            schema, by_date = self.schema(table_name), self.metrics(table_name)
            self._profiles[table_name] = {check_date: column_stats(table, schema, by_date[check_date])
                                          for check_date in self.settings.dates}
        return self._profiles[table_name]

    def trend(self, table_name: str) -> list[TrendRow]:
        """Per-date profile of a table for the reports (from the metrics already fetched); a date
        whose partition has expired is taken from the metric history when it holds it."""
        table = self._tables[table_name]
        by_date = self.metrics(table_name)
        rows = []
        for check_date in self.settings.dates:
            values, from_history = by_date[check_date], False
            if not values.get("row_count") and self.expired(table, check_date):
                values, from_history = self.values_on(table_name, check_date)
            rows.append(trend_row(table, check_date, values)._replace(from_history=from_history))
        return rows

