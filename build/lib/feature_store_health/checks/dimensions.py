"""The seven health dimensions: which metrics each needs and how each is judged.

Judging is a pure function of already-fetched metric values, thresholds and the as-of time, so
every rule here is testable without a database. Thresholds come from the configuration file.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Callable, Iterable, Mapping, NamedTuple, TYPE_CHECKING

from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.config import HealthConfig, TableConfig

__all__ = ["DIMENSIONS", "Dimension", "Judgement", "JudgeContext", "SampleRule", "band", "judged_value",
           "null_metric_name", "shown", "tier_metric_name", "tier_slug"]

Values = Mapping[str, Any]


class JudgeContext(NamedTuple):
    """What a judgement needs besides metric values."""

    as_of: dt.datetime  # timezone-aware: the time staleness is measured at
    # the date is older than the table's partition expiration: missing rows are expired, not lost
    expired: bool = False


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

    def reasons_failing(self, details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> tuple[str, ...]:
        if self.failing_reasons is None:
            return tuple(rule.reason for rule in self.sample_rules(table))
        return self.failing_reasons(details, limits, table)

    def validate_thresholds(self, values: Mapping[str, float], key: str) -> None:
        """Severity bands must be ordered: a WARNING limit is never stricter than an ERROR one."""
        from feature_store_health.config import ConfigError

        for direction in ("below", "above"):
            limits = [values.get(f"{level}_{direction}") for level in ("warning", "error", "critical")]
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


# -- metrics shared between dimensions ---------------------------------------------------------

_ROWS = Metric(Source.FEATURES, "row_count", "COUNT(*)")
_GAMES = Metric(Source.SCHEDULE, "games_scheduled", "COUNT(DISTINCT game_id)")
_TEAMS = Metric(Source.SCHEDULE, "teams_playing", "COUNT(DISTINCT team)")
_ACTIVE_PREDICTIONS = Metric(Source.PREDICTIONS, "active_predictions", "COUNTIF(is_active)")


_BASE = (_ROWS, _GAMES)  # every dimension needs the rows and the games of the date


def _count_true(column: str) -> str:
    return f"COUNTIF({column})"


def _pct(part: int, whole: int) -> float:
    return 100.0 * part / whole


def _nothing_to_judge(values: Values) -> Judgement | None:
    """No games: nothing to judge. No rows while games are scheduled: coverage says so, not us."""
    if not values["games_scheduled"]:
        return Judgement(Severity.SKIPPED, None, "no games scheduled: nothing to judge", {})
    if not values["row_count"]:
        return Judgement(Severity.SKIPPED, None, "no rows for this date: see coverage", {})
    return None


# -- coverage ---------------------------------------------------------------------------------

def _coverage_metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    return (*_BASE, _TEAMS)


def _coverage(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    rows, games, teams = values["row_count"], values["games_scheduled"], values["teams_playing"]
    details = {"games_scheduled": games, "teams_playing": teams}
    if not games:
        return Judgement(Severity.OK, rows, f"no games scheduled ({rows} records found)", details)
    if rows == 0 and ctx.expired:
        return Judgement(Severity.SKIPPED, 0, "0 records found: the date is past the partition expiration, "
                         "its rows have expired", details)
    if rows == 0:
        return Judgement(Severity.CRITICAL, 0, f"0 records found while {games} games are scheduled", details)
    if not teams:
        # games with no team named (home and away NULL): the schedule itself is broken, and rows per
        # team cannot be judged. Its own finding, never a division by zero.
        return Judgement(
            Severity.ERROR, rows,
            f"{rows} records found, but the schedule names no team for its {games} games "
            "(home and away team NULL): rows per team cannot be judged", details,
        )
    per_team = rows / teams
    minimum = limits["warning_min_rows_per_team"]
    details = {**details, "rows_per_team": judged_value(per_team, limits)}
    per_team_text = shown(per_team, limits)
    if per_team < minimum:
        return Judgement(
            Severity.WARNING, rows,
            f"{rows} records found: {per_team_text} per team playing ({teams} teams), below {minimum:g}",
            details,
        )
    return Judgement(Severity.OK, rows, f"{rows} records found ({teams} teams playing, {per_team_text} per team)", details)


# -- production readiness -------------------------------------------------------------------

def _readiness_metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    return (*_BASE, Metric(Source.FEATURES, "production_ready_count", _count_true(table.production_ready_column)))


def _share_of_rows(values: Values, limits: Mapping[str, float], metric: str, what: str) -> Judgement:
    """% rows counted by ``metric`` (TRUE rows), judged against ``*_below`` limits."""
    if (skip := _nothing_to_judge(values)) is not None:
        return skip
    part, rows = values[metric], values["row_count"]
    pct = _pct(part, rows)
    return Judgement(band(pct, limits, "below"), judged_value(pct, limits), f"{shown(pct, limits)}% {what} ({part}/{rows})",
                     {metric: part, "rows": rows})


def _readiness(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    return _share_of_rows(values, limits, "production_ready_count", "production ready")


# -- NULL rates -------------------------------------------------------------------------------

def null_metric_name(feature: str) -> str:
    return f"null_count__{feature}"


def _null_metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    return (*_BASE, *(
        Metric(Source.FEATURES, null_metric_name(feature), f"COUNTIF({feature} IS NULL)")
        for feature in table.critical_features
    ))


def _null_rates(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    if (skip := _nothing_to_judge(values)) is not None:
        return skip
    rows = values["row_count"]
    counts = {feature: values[null_metric_name(feature)] for feature in table.critical_features}
    rates = {feature: _pct(count, rows) for feature, count in counts.items()}
    worst = max(rates, key=lambda feature: rates[feature])  # first listed wins a tie
    details = {
        "null_pct": {feature: judged_value(rate, limits) for feature, rate in rates.items()},
        "null_count": counts,
        "worst_feature": worst,
        "rows": rows,
    }
    return Judgement(
        band(rates[worst], limits, "above"), judged_value(rates[worst], limits),
        f"worst {worst} {shown(rates[worst], limits)}% NULL ({counts[worst]}/{rows})", details,
    )


def _null_failing(details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> tuple[str, ...]:
    """The features over a limit: their NULL rows made the check fail, not another feature's."""
    rows, counts = details.get("rows"), details.get("null_count", {})
    if not rows:
        return ()
    return tuple(feature for feature, count in counts.items() if band(_pct(count, rows), limits, "above") is not Severity.OK)


# -- quality tiers ----------------------------------------------------------------------------

def tier_slug(tier: str) -> str:
    """A tier value's safe form for SQL aliases: lowercase letters, digits and _ only.

    The value itself reaches SQL only as a string literal; the configuration rejects tiers whose
    slugs collide ("POOR" and "poor", "Very Poor" and "very-poor") or that have none."""
    return re.sub(r"[^a-z0-9]+", "_", tier.lower()).strip("_")


def tier_metric_name(tier: str) -> str:
    return f"tier_count__{tier_slug(tier)}"


def sql_string(value: str) -> str:
    """A BigQuery string literal; the configuration admits no quote, backslash or control character."""
    if any(char in value for char in "'\\") or any(ord(char) < 32 for char in value):
        raise ValueError(f"{value!r} cannot be a SQL string literal")
    return f"'{value}'"


def _tier_metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    column = table.quality_tier_column
    return (
        *_BASE,
        Metric(Source.FEATURES, "tier_null_count", f"COUNTIF({column} IS NULL)"),
        *(Metric(Source.FEATURES, tier_metric_name(tier), f"COUNTIF({column} = {sql_string(tier)})")
          for tier in table.quality_tiers),
    )


def _quality_tiers(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    if (skip := _nothing_to_judge(values)) is not None:
        return skip
    rows, unset = values["row_count"], values["tier_null_count"]
    distribution = {tier: values[tier_metric_name(tier)] for tier in table.quality_tiers}
    details = {"tiers": distribution, "tier_null": unset, "rows": rows}
    if unset == rows:
        return Judgement(Severity.WARNING, None, f"quality_tier not populated (NULL on all {rows} rows)", details)
    poor = distribution[table.poor_tier]
    pct = _pct(poor, rows)
    return Judgement(band(pct, limits, "above"), judged_value(pct, limits),
                     f"{shown(pct, limits)}% {table.poor_tier} ({poor}/{rows})", details)


def _tier_rules(table: "TableConfig") -> tuple[SampleRule, ...]:
    column = table.quality_tier_column
    return (SampleRule("poor", f"{column} = {sql_string(table.poor_tier)}"), SampleRule("null", f"{column} IS NULL"))


def _tier_failing(details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> tuple[str, ...]:
    """POOR rows when the POOR share failed, NULL-tier rows when the tier is not populated."""
    rows, unset = details.get("rows"), details.get("tier_null")
    if not rows:
        return ()
    reasons = []
    if band(_pct(details["tiers"][table.poor_tier], rows), limits, "above") is not Severity.OK:
        reasons.append("poor")
    if unset == rows:
        reasons.append("null")
    return tuple(reasons)


# -- completeness -----------------------------------------------------------------------------

def _completeness_metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    return (*_BASE, Metric(Source.FEATURES, "complete_count", _count_true(table.completeness_column)))


def _completeness(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    return _share_of_rows(values, limits, "complete_count", "rows with all windows complete")


# -- downstream usage -------------------------------------------------------------------------

def _usage_metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    return (*_BASE, _ACTIVE_PREDICTIONS)


def _downstream_usage(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    games, rows, active = values["games_scheduled"], values["row_count"], values["active_predictions"]
    if not games:
        return Judgement(Severity.SKIPPED, None, "no games scheduled: nothing to judge", {})
    conversion = round(active / rows, 2) if rows else None
    details = {"active_predictions": active, "feature_rows": rows, "conversion": conversion}
    if active == 0 and ctx.expired:
        return Judgement(Severity.SKIPPED, 0, "no active predictions: the date is past the partition expiration",
                         details)
    if active < limits["warning_below"]:
        return Judgement(Severity.WARNING, active, f"{active} active predictions while {games} games are scheduled", details)
    ratio = f"{conversion:.2f} per feature row" if conversion is not None else "no feature rows"
    return Judgement(Severity.OK, active, f"{active} active predictions ({ratio})", details)


# -- staleness --------------------------------------------------------------------------------

def _staleness_metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    return (*_BASE, Metric(
        Source.FEATURES, "max_processed_at", f"MAX({table.processed_at_column})", empty_value=None,
    ))


def _staleness(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    if (skip := _nothing_to_judge(values)) is not None:
        return skip
    latest: dt.datetime | None = values["max_processed_at"]
    as_of = ctx.as_of.astimezone(dt.timezone.utc)
    details: dict[str, Any] = {"as_of": as_of.isoformat(), "max_processed_at": None}
    if latest is None:
        return Judgement(
            Severity.ERROR, None,
            f"{table.processed_at_column} is NULL on all {values['row_count']} rows: freshness unknown", details,
        )
    # Hours are computed here, not in SQL: dialects disagree on TIMESTAMP_DIFF at boundaries.
    hours = (as_of - latest).total_seconds() / 3600
    details["max_processed_at"] = latest.isoformat()
    when = "after" if hours < 0 else "before"
    message = f"last processed {shown(abs(hours), [abs(limit) for limit in limits.values()])} h {when} the as-of time {as_of:%Y-%m-%d %H:%M} UTC"
    return Judgement(band(hours, limits, "above"), judged_value(hours, limits), message, details)


def _optional(column: str | None) -> tuple[str, ...]:
    return (column,) if column else ()


DIMENSIONS: dict[str, Dimension] = {
    dimension.id: dimension
    for dimension in (
        Dimension(
            "coverage", "Date Coverage", "rows for the date against the teams playing",
            ("warning_min_rows_per_team",), _coverage_metrics, _coverage,
        ),
        Dimension(
            "production_readiness", "Production Readiness", "% rows production ready",
            ("warning_below", "error_below", "critical_below"), _readiness_metrics, _readiness,
            lambda table: (SampleRule("not_ready", f"{table.production_ready_column} IS NOT TRUE"),),
            lambda table: (table.production_ready_column, *_optional(table.insufficient_data_reason_column)),
        ),
        Dimension(
            "null_rates", "NULL Rates", "% NULL per critical feature, worst one decides",
            ("warning_above", "error_above", "critical_above"), _null_metrics, _null_rates,
            lambda table: tuple(SampleRule(feature, f"{feature} IS NULL") for feature in table.critical_features),
            lambda table: table.critical_features,
            _null_failing,
        ),
        Dimension(
            "quality_tiers", "Quality Tiers", "% rows in the POOR tier; tier not populated",
            ("warning_above", "error_above", "critical_above"), _tier_metrics, _quality_tiers,
            _tier_rules,
            lambda table: (table.quality_tier_column, *_optional(table.insufficient_data_reason_column)),
            _tier_failing,
        ),
        Dimension(
            "completeness", "Completeness", "% rows with all rolling windows complete",
            ("warning_below", "error_below", "critical_below"), _completeness_metrics, _completeness,
            lambda table: (SampleRule("incomplete", f"{table.completeness_column} IS NOT TRUE"),),
            lambda table: (table.completeness_column, *_optional(table.insufficient_data_reason_column)),
        ),
        Dimension(
            "downstream_usage", "Downstream Usage", "active predictions for the date",
            ("warning_below",), _usage_metrics, _downstream_usage,
        ),
        Dimension(
            "staleness", "Staleness", "hours from MAX(processed_at) to the as-of time",
            ("warning_above", "error_above", "critical_above"), _staleness_metrics, _staleness,
        ),
    )
}
