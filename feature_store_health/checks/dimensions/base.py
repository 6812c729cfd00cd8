"""What every dimension is made of: the Dimension record, judgements, severity bands, and the
number formatting that keeps a message on the same side of a threshold as its verdict.

Judging is a pure function of already-fetched metric values, thresholds and a JudgeContext,
so every rule is testable without a database. Thresholds come from the configuration file.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Iterable, Mapping, NamedTuple, TYPE_CHECKING

from feature_store_health.checks.game_days import LAST_GAME
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.verdict import Severity
from feature_store_health.config_types import ConfigError

if TYPE_CHECKING:
    from feature_store_health.checks.contract import SchemaReport
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = [
    "BASE", "Dimension", "GAMES", "JudgeContext", "Judgement", "ROWS", "SampleRule", "TEAMS", "Values",
    "band", "count_true", "early_season_metric", "settling", "settling_metrics", "judged_value", "nothing_to_judge", "optional", "pct", "share_of_true_rows", "shown",
    "sql_string",
]

Values = Mapping[str, Any]


class JudgeContext(NamedTuple):
    """What a judgement needs besides metric values."""

    as_of: dt.datetime  # timezone-aware: the time staleness is measured at
    # the date is older than the table's partition expiration: missing rows are expired, not lost
    expired: bool = False
    # the live columns against the table's contract (None: no contract configured)
    schema: "SchemaReport | None" = None
    # anomalies: the date, the previous game days' tracked metrics (newest first: (date,
    # {metric: Observation})) or why there are none (the history could not be read), the
    # [baseline] settings, the deadline time zone and the table's profile_columns
    check_date: dt.date | None = None
    baseline: Any = None
    profile_plan: Any = None
    baseline_error: str | None = None
    baseline_config: Any = None
    timezone: str = "America/New_York"
    # anomalies: what the baseline left out and why (days judged failed, flagged metrics, new levels)
    baseline_notes: Mapping[str, Any] | None = None
    # anomalies: older days' observations of the metrics short of clean baseline values, and the
    # metrics flagged on the last game day with their incident's level from before it began
    baseline_fill: Any = None
    baseline_carried: Any = None
    # anomalies: the date's first recorded landing (None: never recorded); a later one is a reprocess
    first_landing: dt.datetime | None = None
    # the schedule table, for messages, and why it cannot tell whether check_date is a game day
    # (None: it can, see checks/game_days.py); a date with no games is a day off only then
    schedule_table: str = "the schedule"
    schedule_gap: str | None = None
    # arrival: the last game days' landings and the date's first recorded landing (ArrivalContext)
    arrival: Any = None
    # drift and continuity: the learned bins and limits, the baseline days' counts (DistributionContext)
    distributions: Any = None


class Judgement(NamedTuple):
    severity: Severity
    value: float | int | None
    message: str
    details: Mapping[str, Any]


class SampleRule(NamedTuple):
    """One reason a row can make a dimension fail: a key and the BigQuery predicate selecting it."""

    reason: str
    predicate: str


class Dimension(NamedTuple):
    id: str
    label: str
    description: str
    threshold_keys: tuple[str, ...]
    metrics: Callable[["TableConfig", "HealthConfig"], tuple[Metric, ...]]
    judge: Callable[[Values, "TableConfig", Mapping[str, float], JudgeContext], Judgement]
    # the reasons a row can make this dimension fail, for the report's offending-row samples
    sample_rules: Callable[["TableConfig"], tuple[SampleRule, ...]] = lambda table: ()
    # the columns a sample of those rows shows
    sample_columns: Callable[["TableConfig"], tuple[str, ...]] = lambda table: ()
    # which of those reasons made a judged check fail (from its details and thresholds); all by default
    failing_reasons: Callable[[Mapping[str, Any], Mapping[str, float], "TableConfig"], tuple[str, ...]] | None = None
    # whether the table's configuration gives this dimension what it needs (else it is not collected)
    applies: Callable[["TableConfig"], bool] = lambda table: True
    # judges the columns it can read and names the others (value_ranges), instead of NOT_EVALUATED
    partial: bool = False
    # each sample reason is a column: a sample row shows the player, the failing columns, processed_at
    reasons_are_columns: bool = False
    # a dimension judged from a query of its own (one per run, every date), not from the table's
    # aggregate query: (table, config) -> the query, with its values_by_date and the columns it reads
    own_query: Callable[["TableConfig", "HealthConfig"], Any] | None = None
    # with own_query: the offending rows of a date, from its values (values, table, failing reasons)
    sample_rows: Callable[[Mapping[str, Any], "TableConfig", tuple[str, ...]], list] | None = None
    # offending rows from a query of their own (continuity: each player beside their previous row):
    # (table, the learned CTE, whether the live table serves a column) -> SQL returning check_date
    # and the columns to show, worst first
    sample_query: Callable[["TableConfig", str, Callable[[str], bool]], str] | None = None

    def reasons_failing(self, details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> tuple[str, ...]:
        if self.failing_reasons is None:
            return tuple(rule.reason for rule in self.sample_rules(table))
        return self.failing_reasons(details, limits, table)

    def columns(self, table: "TableConfig", config: "HealthConfig") -> tuple[str, ...]:
        """The monitored table's columns this dimension reads (its metrics' or its own query's)."""
        if self.own_query is not None:
            return self.own_query(table, config).columns
        return tuple(dict.fromkeys(column for metric in self.metrics(table, config) for column in metric.columns))

    def validate_thresholds(self, values: Mapping[str, float], key: str) -> None:
        """Severity bands must be ordered: a WARNING limit is never stricter than an ERROR one."""
        spread = values.get("minimum_spread")
        if spread is not None and spread <= 0:   # drift's scores are in units of it
            raise ConfigError(f"{key}.minimum_spread must be above 0, got {spread!r}")
        for prefix, direction in (("", "below"), ("", "above"), ("roster_", "above"), ("rule_", "above")):
            limits = [values.get(f"{prefix}{level}_{direction}") for level in ("warning", "error", "critical")]
            present = [limit for limit in limits if limit is not None]
            ordered = sorted(present, reverse=direction == "below")
            if present != ordered:
                raise ConfigError(
                    f"{key}: thresholds out of order {dict(zip(('warning', 'error', 'critical'), limits))}; "
                    f"{'critical <= error <= warning' if direction == 'below' else 'warning <= error <= critical'} expected"
                )


def band(value: float, thresholds: Mapping[str, float], direction: str) -> Severity:
    """Severity of ``value`` against ``{level}_{direction}`` limits; strict comparisons, worst first."""
    for severity in (Severity.CRITICAL, Severity.ERROR, Severity.WARNING):
        limit = thresholds.get(f"{severity.value.lower()}_{direction}")
        if limit is None:
            continue
        if (value < limit) if direction == "below" else (value > limit):
            return severity
    return Severity.OK


def _places(value: float, limits: Iterable[float], minimum: int) -> int:
    """The fewest decimals (at least ``minimum``) at which ``value`` shows on its own side of every
    limit: 97.97 % against a limit of 98 is "97.97", never "98.0"."""
    def side(a: float, b: float) -> int:
        return (a > b) - (a < b)

    numeric = [limit for limit in limits if isinstance(limit, (int, float))]
    for places in range(minimum, 13):
        rounded = float(f"{value:.{places}f}")
        if all(side(rounded, limit) == side(value, limit) for limit in numeric):
            return places
    return 12


def shown(value: float, limits: Mapping[str, float] | Iterable[float], minimum: int = 1) -> str:
    """``value`` for a message, with enough decimals to show which side of each limit it is on."""
    numbers = limits.values() if isinstance(limits, Mapping) else limits
    return f"{value:.{_places(value, list(numbers), minimum)}f}"


def judged_value(value: float, limits: Mapping[str, float]) -> float:
    """The judged value for the results JSON: 2 decimals, more where 2 would land on a limit."""
    return round(value, _places(value, list(limits.values()), 2))


def sql_string(value: str) -> str:
    """A BigQuery string literal; the configuration admits no quote, backslash or control character."""
    if any(char in value for char in "'\\") or any(ord(char) < 32 for char in value):
        raise ValueError(f"{value!r} cannot be a SQL string literal")
    return f"'{value}'"


def slug(value: str) -> str:
    """A value's safe form for SQL aliases: lowercase letters, digits and _ only."""
    return re.sub(r"[^a-z0-9]+", "_", value.lower()).strip("_")


# -- metrics shared between dimensions ---------------------------------------------------------

ROWS = Metric(Source.FEATURES, "row_count", "COUNT(*)")
GAMES = Metric(Source.SCHEDULE, "games_scheduled", "COUNT(DISTINCT game_id)")
TEAMS = Metric(Source.SCHEDULE, "teams_playing", "COUNT(DISTINCT team)")
# every dimension needs the rows and the games of the date, and whether a date without games is
# known to be a day off (the schedule's last game)
BASE = (ROWS, GAMES, LAST_GAME)


def early_season_metric(column: str) -> Metric:
    return Metric(Source.FEATURES, "early_season_count", count_true(column), columns=(column,))


def settling_metrics(table: "TableConfig") -> tuple[Metric, ...]:
    """What tells whether a date is still settling (its early-season rows): anomalies, drift and
    continuity judge no such date."""
    return (early_season_metric(table.early_season_column),) if table.early_season_column else ()


def settling(values: Values, table: "TableConfig") -> float | None:
    """The % of the date's rows flagged early season, when above the table's limit (else None)."""
    rows, early = values.get("row_count") or 0, values.get("early_season_count")
    if not table.early_season_column or not rows or early is None:
        return None
    share = 100.0 * early / rows
    return share if share > table.early_season_max_pct else None


def count_true(column: str) -> str:
    return f"COUNTIF({column})"


def pct(part: int, whole: int) -> float:
    return 100.0 * part / whole


def optional(column: str | None) -> tuple[str, ...]:
    return (column,) if column else ()


def unreadable(columns: Iterable[str], ctx: JudgeContext) -> dict[str, str]:
    """Column -> why the live table cannot serve it (missing, retyped), for the columns that have a
    problem: a partial dimension's metrics of those columns were left out of the query."""
    if ctx.schema is None:
        return {}
    return {column: problem for column in dict.fromkeys(columns) if (problem := ctx.schema.problem(column)) is not None}


def nothing_to_judge(values: Values, ctx: JudgeContext) -> Judgement | None:
    """No rows: nothing to judge, and coverage says whether rows were due. Rows on a date the
    schedule calls empty are judged all the same (coverage names the contradiction): a schedule
    that lost a day must not hide the rows' defects."""
    if values["row_count"]:
        return None
    if not values["games_scheduled"] and ctx.schedule_gap is None:
        return Judgement(Severity.SKIPPED, None, "no games scheduled: nothing to judge", {})
    return Judgement(Severity.SKIPPED, None, "no rows for this date: see coverage", {})


def share_of_true_rows(dimension_id: str, label: str, description: str, column_key: str, metric_name: str,
                       what: str, reason: str, minimum_key: str | None = None) -> Dimension:
    """A dimension judging the % of rows where a boolean column (named by the table's ``column_key``)
    is TRUE, against ``*_below`` limits; its samples are the rows where it is not TRUE. With
    ``minimum_key`` set on the table, the column is a percentage and a row counts when it is at
    least that minimum (``data_completeness_pct >= 90``)."""

    def condition(table: "TableConfig") -> str:
        column = getattr(table, column_key)
        minimum = getattr(table, minimum_key) if minimum_key else None
        return column if minimum is None else f"{column} >= {minimum:g}"

    def described(table: "TableConfig") -> str:
        minimum = getattr(table, minimum_key) if minimum_key else None
        return what if minimum is None else f"rows with {getattr(table, column_key)} >= {minimum:g}"

    def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
        column = getattr(table, column_key)
        return (*BASE, Metric(Source.FEATURES, metric_name, count_true(condition(table)), columns=(column,)))

    def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
        if (skip := nothing_to_judge(values, ctx)) is not None:
            return skip
        part, rows = values[metric_name], values["row_count"]
        share = pct(part, rows)
        return Judgement(band(share, limits, "below"), judged_value(share, limits),
                         f"{shown(share, limits)}% {described(table)} ({part}/{rows})", {metric_name: part, "rows": rows})

    return Dimension(
        dimension_id, label, description, ("warning_below", "error_below", "critical_below"), metrics, judge,
        lambda table: (SampleRule(reason, f"({condition(table)}) IS NOT TRUE"),),
        lambda table: (getattr(table, column_key), *optional(table.insufficient_data_reason_column)),
        applies=lambda table: bool(getattr(table, column_key)),
    )
