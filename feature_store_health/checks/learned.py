"""What drift and continuity learn from the baseline before they count: a numeric column's bin
edges (the baseline's quantiles) and a slow column's usual per-player move (its |Δ| limit).

They enter the table's one aggregate query as a one-row ``learned`` CTE, in one of two forms:

- **literal**, from the history: the values a run learned and recorded (``learned`` record of the
  table), reused for ``refresh_days`` days, so a run reads no earlier day for them;
- **computed** in the query itself, when the history has none (a first run, ``--no-history``) or
  they are older than ``refresh_days``: from the days of the lookback before the run's first date
  (``@learn_start`` .. ``@learn_end``), each edge the median over those days of that day's own
  quantile, and each limit the median of the days' 99th percentile of |Δ|. Medians over days, so
  one bad day in the lookback moves neither. The query then also counts every baseline day under
  the new edges (its window reaches back to the lookback's start), and the run records them.

The day's counts are comparable with a baseline day's only under the same learned values: each
fetched day records the ``learned_id`` it was counted with.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import math
from typing import Any, Mapping, NamedTuple

__all__ = ["EDGE_QUANTILES", "JUMP_QUANTILE", "LEARNED_ID", "LEARNED_RECORD", "Learned", "computed_cte", "edge",
           "from_record", "from_values", "literal_cte", "output_names"]

# deciles, with the outer two split at the 5th and 95th percentiles so a clipped tail shows
EDGE_QUANTILES = (0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 100)
JUMP_QUANTILE = 99
LEARNED_RECORD = "learned"     # the history record holding a table's learned values
LEARNED_ID = "learned_id"      # the metric naming the learned values a day's counts were made with


@functools.lru_cache(maxsize=64)
def _learned_id(edges: tuple[tuple[str, tuple[float | None, ...]], ...], jumps: tuple[tuple[str, float | None], ...]) -> str:
    text = json.dumps({"edges": {k: list(v) for k, v in edges}, "jumps": dict(jumps)}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def edge(index: int, column: str) -> str:
    return f"learned.e{index}__{column}"


def jump(column: str) -> str:
    return f"learned.jump__{column}"


class Learned(NamedTuple):
    edges: Mapping[str, tuple[float | None, ...]]   # drift column -> its EDGE_QUANTILES edges
    jumps: Mapping[str, float | None]               # continuity column -> its |Δ| limit
    learned_on: dt.date                             # the first date of the run that learned them
    window: tuple[str, str]                         # the days they were learned from (ISO)

    @property
    def id(self) -> str:
        """A hash of the edges and limits: asked for by every baseline day of every check, so
        computed once per distinct value (a NamedTuple cannot cache it on itself)."""
        return _learned_id(tuple(sorted((k, tuple(v)) for k, v in self.edges.items())),
                           tuple(sorted(self.jumps.items())))

    def record(self) -> dict[str, Any]:
        return {"id": self.id, "edges": {k: list(v) for k, v in self.edges.items()}, "jumps": dict(self.jumps),
                "learned_on": self.learned_on.isoformat(), "window": list(self.window)}

    def covers(self, drift_columns, continuity_columns) -> bool:
        """Whether these columns were learned for: all listed, and something learned of them. A
        lookback without rows (a first run at the season's start) learns nothing: not reused. One
        column with no value (all NULL in the lookback) does not make every run learn again."""
        if not (set(drift_columns) <= set(self.edges) and set(continuity_columns) <= set(self.jumps)):
            return False
        values = [value for column in drift_columns for value in self.edges[column]]
        values += [self.jumps[column] for column in continuity_columns]
        return not values or any(value is not None for value in values)


def from_record(payload: Mapping[str, Any] | None) -> Learned | None:
    """A recorded ``learned`` record back (None when absent or not readable)."""
    try:
        edges = {column: tuple(None if value is None else float(value) for value in values)
                 for column, values in payload["edges"].items()}
        if any(len(values) != len(EDGE_QUANTILES) for values in edges.values()):
            return None
        jumps = {column: None if value is None else float(value) for column, value in payload["jumps"].items()}
        learned = Learned(edges, jumps, dt.date.fromisoformat(payload["learned_on"]), tuple(payload["window"]))
    except (KeyError, TypeError, ValueError, AttributeError):
        return None
    return learned if learned.id == payload.get("id") else None


def output_names(column: str, kind: str) -> str:
    return f"learned_{kind}__{column}"


def output_metrics(drift_columns, continuity_columns):
    """What the query returns of the learned values (one row's worth, on every row)."""
    from feature_store_health.checks.metrics import Metric, Source

    # an array holds no NULL on BigQuery: an edge not learned (no value in the lookback) is NaN
    metrics = [Metric(Source.LEARNED, output_names(column, "edges"),
                      "[" + ", ".join(f"IFNULL({edge(index, column)}, CAST('NaN' AS FLOAT64))"
                                      for index in range(len(EDGE_QUANTILES))) + "]",
                      empty_value=(), columns=(column,)) for column in drift_columns]
    # each with its column: a column the live table lacks is not learned, so not returned either
    metrics += [Metric(Source.LEARNED, output_names(column, "jump"), jump(column), empty_value=None,
                       columns=(column,)) for column in continuity_columns]
    return metrics


def from_values(values: Mapping[str, Any], drift_columns, continuity_columns, learned_on: dt.date,
                window: tuple[str, str]) -> Learned:
    """The learned values a query returned (computed form), rounded so the literal form repeats them."""
    def number(value: Any) -> float | None:
        if value is None:
            return None
        value = float(value)
        return float(f"{value:.10g}") if math.isfinite(value) else None

    edges = {column: tuple(number(value) for value in (values.get(output_names(column, "edges")) or ()))
             for column in drift_columns}
    edges = {column: found if len(found) == len(EDGE_QUANTILES) else (None,) * len(EDGE_QUANTILES)
             for column, found in edges.items()}
    jumps = {column: number(values.get(output_names(column, "jump"))) for column in continuity_columns}
    return Learned(edges, jumps, learned_on, window)


def _literal(value: float | None) -> str:
    return "CAST(NULL AS FLOAT64)" if value is None else f"CAST({value!r} AS FLOAT64)"


def literal_cte(learned: Learned, drift_columns, continuity_columns) -> str:
    parts = [f"{_literal(learned.edges[column][index])} AS e{index}__{column}"
             for column in drift_columns for index in range(len(EDGE_QUANTILES))]
    parts += [f"{_literal(learned.jumps[column])} AS jump__{column}" for column in continuity_columns]
    return "learned AS (\n  SELECT " + ",\n    ".join(parts or ["1 AS nothing"]) + "\n)"


def _median_of(expression: str) -> str:
    # the 50th of 100 quantiles, as the profile's median (the emulator reads OFFSET one element late)
    return f"APPROX_QUANTILES({expression}, 100)[OFFSET(50)]"


QUANTILE_STEPS = 20   # a day's quantiles in 5 % steps, one array per column and day: one sort, not 11


def _day_quantiles(column: str) -> str:
    """A day's 5 % quantiles of a column (one APPROX_QUANTILES), its minimum and maximum exactly."""
    return (f"APPROX_QUANTILES(CAST({column} AS FLOAT64), {QUANTILE_STEPS}) AS qs__{column}, "
            f"CAST(MIN({column}) AS FLOAT64) AS q0__{column}, CAST(MAX({column}) AS FLOAT64) AS q{len(EDGE_QUANTILES) - 1}__{column}")


def _edge_of_day(index: int, column: str) -> str:
    """Edge ``index`` of a day: its minimum, maximum, or an element of its quantile array."""
    q = EDGE_QUANTILES[index]
    if q in (0, 100):
        return f"q{index}__{column}"
    return f"qs__{column}[OFFSET({q * QUANTILE_STEPS // 100})]"


def computed_cte(table: Any, drift_columns, continuity_columns, pairs_sql: str | None) -> str:
    """The learned values computed from the days of @learn_start .. @learn_end (``pairs_sql``: the
    continuity pairs of those days, checks/dimensions/continuity.pairs_rows_sql)."""
    selects, sources = [], []
    if drift_columns:
        per_day = ",\n      ".join(_day_quantiles(column) for column in drift_columns)
        selects.append(",\n    ".join(f"{_median_of(_edge_of_day(index, column))} AS e{index}__{column}"
                                      for column in drift_columns for index in range(len(EDGE_QUANTILES))))
        sources.append(
            f"(\n    SELECT {table.date_column} AS learn_day,\n      {per_day}\n"
            f"    FROM `{table.table}`\n"
            f"    WHERE {table.date_column} BETWEEN @learn_start AND @learn_end\n"
            f"    GROUP BY learn_day\n  ) AS edge_days")
    if continuity_columns and pairs_sql:
        per_day = ",\n      ".join(f"APPROX_QUANTILES(CAST(ABS({column} - prev__{column}) AS FLOAT64), 100)[OFFSET({JUMP_QUANTILE})]"
                                   f" AS p__{column}" for column in continuity_columns)
        selects.append(",\n    ".join(f"{_median_of(f'p__{column}')} AS jump__{column}" for column in continuity_columns))
        sources.append(
            f"(\n    SELECT check_date AS learn_day,\n      {per_day}\n"
            f"    FROM ({pairs_sql})\n"
            f"    GROUP BY learn_day\n  ) AS jump_days")
    if not selects:
        return "learned AS (SELECT 1 AS nothing)"
    parts = [f"(SELECT\n    {select}\n  FROM {source}) AS learned_{index}"
             for index, (select, source) in enumerate(zip(selects, sources))]
    return "learned AS (\n  SELECT * FROM " + "\n  CROSS JOIN ".join(parts) + "\n)"
