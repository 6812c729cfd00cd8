"""The one aggregate query per monitored table: every metric, every date of the run.

Written once in BigQuery Standard SQL. Dates are query parameters (``@start_date``,
``@end_date``), never formatted in; the date filters prune partitions. Identifiers come from
the validated configuration. The DuckDB backend transpiles this same text with sqlglot.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

from feature_store_health.checks.metrics import Metric, Source

__all__ = ["AggregateQuery", "SAMPLE_ROWS", "build_aggregate_query", "build_sample_query", "key_text", "row_date",
           "sql_hash"]

SAMPLE_ROWS = 20  # offending rows shown per failing check


class AggregateQuery(NamedTuple):
    """The SQL and the metrics it returns, one row per date in the parameter window."""

    table: str
    sql: str
    metrics: tuple[Metric, ...]

    def values_by_date(self, rows: Iterable[Mapping[str, Any]]) -> dict[dt.date, dict[str, Any]]:
        """Metric values per date, with each metric's empty value where its source had no rows."""
        result = {}
        for row in rows:
            result[row_date(row)] = {
                metric.name: metric.empty_value if row[metric.name] is None else row[metric.name]
                for metric in self.metrics
            }
        return result


def row_date(row: Mapping[str, Any], column: str = "check_date") -> dt.date:
    """A result row's ``check_date`` (or another date ``column``) as a date (a backend may return a datetime)."""
    value = row[column]
    return value.date() if isinstance(value, dt.datetime) else value


def sql_hash(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()[:16]


def build_aggregate_query(table: Any, config: Any, metrics: Iterable[Metric], learned: str | None = None,
                          rows: Mapping[Source, str] | None = None) -> AggregateQuery:
    """Render one SELECT computing ``metrics`` for ``table`` (a TableConfig) per date. ``learned``:
    the one-row ``learned`` CTE that metrics reading ``learned.*`` need (checks/learned.py);
    ``rows``: the row-level subquery of the PAIRS and TEAM_VALUES sources (checks/dimensions/continuity.py)."""
    unique = tuple(dict.fromkeys(metrics))  # a metric two checks need is computed once
    names = [metric.name for metric in unique]
    if len(set(names)) != len(names):
        raise ValueError(f"two different metrics share a name: {sorted(names)}")
    by_source = {source: [m for m in unique if m.source is source] for source in Source}
    window = "BETWEEN @start_date AND @end_date"

    ctes = []
    reads_learned = any("learned." in metric.sql for metric in unique)
    if reads_learned:
        if learned is None:
            raise ValueError("metrics read learned values, and no learned CTE was given")
        ctes.append(learned)
    rows = rows or {}

    def with_learned(source_metrics: list[Metric]) -> str:
        return " CROSS JOIN learned" if any("learned." in metric.sql for metric in source_metrics) else ""

    if by_source[Source.FEATURES]:
        ctes.append(
            f"features AS (\n"
            f"  SELECT {table.date_column} AS check_date,\n{_select(by_source[Source.FEATURES])}\n"
            f"  FROM `{table.table}`{with_learned(by_source[Source.FEATURES])}\n"
            f"  WHERE {table.date_column} {window}\n"
            f"  GROUP BY check_date\n)"
        )
    for source in (Source.PAIRS, Source.TEAM_VALUES):
        if by_source[source]:
            ctes.append(
                f"{source.value} AS (\n"
                f"  SELECT check_date,\n{_select(by_source[source])}\n"
                f"  FROM (\n{rows[source]}\n  ) AS {source.value}_rows{with_learned(by_source[source])}\n"
                f"  GROUP BY check_date\n)"
            )
    if by_source[Source.SCHEDULE]:
        schedule = config.schedule
        ctes.append(
            f"schedule AS (\n"
            f"  SELECT check_date,\n{_select(by_source[Source.SCHEDULE])}\n"
            f"  FROM (\n"
            f"    SELECT {schedule.date_column} AS check_date, {schedule.game_id_column} AS game_id, team\n"
            f"    FROM `{schedule.table}`, UNNEST([{schedule.home_team_column}, {schedule.away_team_column}]) AS team\n"
            f"    WHERE {schedule.date_column} {window}\n"
            f"  )\n"
            f"  GROUP BY check_date\n)"
        )
    if by_source[Source.PREDICTIONS]:
        predictions = config.predictions
        ctes.append(
            f"predictions AS (\n"
            f"  SELECT check_date,\n{_select(by_source[Source.PREDICTIONS])}\n"
            f"  FROM (\n"
            f"    SELECT {predictions.date_column} AS check_date, {predictions.active_column} AS is_active\n"
            f"    FROM `{predictions.table}`\n"
            f"    WHERE {predictions.date_column} {window}\n"
            f"  )\n"
            f"  GROUP BY check_date\n)"
        )
    if by_source[Source.DUPLICATES]:
        ctes.append(
            f"duplicates AS (\n"
            f"  SELECT check_date,\n{_select(by_source[Source.DUPLICATES])}\n"
            f"  FROM (\n"
            f"    SELECT check_date, key_text, copies,\n"
            f"      ROW_NUMBER() OVER (PARTITION BY check_date ORDER BY key_text) AS position\n"
            f"    FROM (\n"
            f"      SELECT {table.date_column} AS check_date, {key_text(table.unique_key)} AS key_text, COUNT(*) AS copies\n"
            f"      FROM `{table.table}`\n"
            f"      WHERE {table.date_column} {window}\n"
            f"      GROUP BY check_date, key_text\n"
            f"      HAVING COUNT(*) > 1\n"
            f"    )\n"
            f"  )\n"
            f"  GROUP BY check_date\n)"
        )
    if by_source[Source.FINGERPRINTS]:
        # one row: the recorded baseline days before the run's window, "date/rows/latest µs" each
        ctes.append(
            f"fingerprints AS (\n"
            f"  SELECT\n{_select(by_source[Source.FINGERPRINTS])}\n"
            f"  FROM (\n"
            f"    SELECT {table.date_column} AS day, COUNT(*) AS day_rows,\n"
            f"      {f'MAX({table.processed_at_column})' if table.processed_at_column else 'NULL'} AS day_landed\n"
            f"    FROM `{table.table}`\n"
            f"    WHERE {table.date_column} BETWEEN @baseline_start AND DATE_SUB(@start_date, INTERVAL 1 DAY)\n"
            f"    GROUP BY day\n"
            f"  )\n)"
        )
    if by_source[Source.SCHEDULE_SPAN]:
        # the whole schedule, not the window: whether it has games after a date at all (a day
        # off) or stopped loading before it. Its date column only: a few bytes per game.
        ctes.append(
            f"schedule_span AS (\n"
            f"  SELECT\n{_select(by_source[Source.SCHEDULE_SPAN])}\n"
            f"  FROM (SELECT {config.schedule.date_column} AS game_date FROM `{config.schedule.table}`)\n)"
        )
    joins = "".join(
        f"\nCROSS JOIN {source.value}" if source in (Source.FINGERPRINTS, Source.SCHEDULE_SPAN, Source.LEARNED)
        else f"\nLEFT JOIN {source.value} USING (check_date)"
        for source in Source if by_source[source]
    )
    columns = ",\n".join(f"  {metric.sql} AS {metric.name}" if metric.source is Source.LEARNED
                          else f"  {metric.source.value}.{metric.name}" for metric in unique)
    sql = (
        "WITH " + ",\n".join(ctes) + "\n"
        f"SELECT\n  check_date,\n{columns}\n"
        f"FROM UNNEST(GENERATE_DATE_ARRAY(@start_date, @end_date)) AS check_date{joins}\n"
        "ORDER BY check_date"
    )
    return AggregateQuery(table=table.name, sql=sql, metrics=unique)


def key_text(columns: Sequence[str]) -> str:
    """A table's key as one text (NULL spelled out), for counting and showing duplicated keys."""
    parts = [f"IFNULL(CAST({column} AS STRING), 'NULL')" for column in columns]
    return parts[0] if len(parts) == 1 else "CONCAT(" + ", ' / ', ".join(parts) + ")"


def _select(metrics: list[Metric]) -> str:
    return ",\n".join(f"    {metric.sql} AS {metric.name}" for metric in metrics)


def build_sample_query(table: Any, rules: Sequence[Any], columns: Iterable[str]) -> str:
    """Up to SAMPLE_ROWS rows per date and per reason (``rules``: a dimension's SampleRules), so a
    date failing on POOR rows shows POOR rows even when NULL-tier rows outnumber them. A row
    matching two reasons appears under each; ``sample_reason`` is the rule's index. The reasons
    are computed beside the columns, so a predicate may use a window (a duplicated key)."""
    selected = ", ".join(dict.fromkeys(column for column in (table.player_column, *columns, table.processed_at_column)
                                       if column))
    reasons = ", ".join(f"IF({rule.predicate}, {index}, NULL)" for index, rule in enumerate(rules))
    return (
        f"SELECT check_date, sample_reason, {selected}\n"
        f"FROM (\n"
        f"  SELECT {table.date_column} AS check_date, {selected}, [{reasons}] AS sample_reasons\n"
        f"  FROM `{table.table}`\n"
        f"  WHERE {table.date_column} BETWEEN @start_date AND @end_date\n"
        f") AS candidates, UNNEST(candidates.sample_reasons) AS sample_reason\n"
        f"WHERE sample_reason IS NOT NULL\n"
        f"QUALIFY ROW_NUMBER() OVER (PARTITION BY check_date, sample_reason ORDER BY {table.player_column}) <= {SAMPLE_ROWS}\n"
        f"ORDER BY check_date, sample_reason, {table.player_column}"
    )
