"""source_consistency: the stat features recomputed from their source, and the roster check.

Every row of the date is recomputed from the box scores by the source rule (SPEC §9, its SQL in
``checks/source.py``): % rows with any feature off by more than the tolerance, WARNING > 0.5,
ERROR > 2, CRITICAL > 10; the message names the worst feature and its count. Roster check: % of
the players expected on the date (played for a playing team lately, enough games this season)
with no row, WARNING > 2, ERROR > 5, with their names. Its own query, one per run.

The source's faults are never blamed on the cache. A date the schedule gives no season is
NOT_EVALUATED, naming the schedule's column. Rows whose season before the date holds a duplicated
box score, or a played box score with no season, are not compared, and those games are named: the
check is NOT_EVALUATED (a CRITICAL on the other rows still shows as CRITICAL). NOT_EVALUATED rather
than a severity of its own: the rule is undefined on those rows (which copy does the window read?
is the game in the window?), so whether the cache is right there cannot be told, and "could not
judge, fix the input" is what NOT_EVALUATED says everywhere in the suite; it fails the run like an
ERROR and never reads as a pass, yet names no cache fault.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from feature_store_health.checks.dimensions.base import (
    Dimension, JudgeContext, Judgement, Values, band, judged_value, nothing_to_judge, pct, shown,
)
from feature_store_health.checks.verdict import Severity, worst

if TYPE_CHECKING:
    from feature_store_health.checks.source import SourceQuery
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["DIMENSION", "NAMED_PLAYERS", "sample_rows"]

NAMED_PLAYERS = 10  # missing players (or faulty box scores of a fault) named in the message (the query: MISSING_ROWS)


def query(table: "TableConfig", config: "HealthConfig") -> "SourceQuery":
    from feature_store_health.checks.source import build_source_query

    return build_source_query(table, config)


def _number(value: float | None) -> str:
    return "NULL" if value is None else f"{value:.4f}".rstrip("0").rstrip(".")


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    if (skip := nothing_to_judge(values, ctx)) is not None:
        return skip
    if not values["games_scheduled"]:
        # the schedule gives a date its season (the windows) and its playing teams (the roster)
        day = ctx.check_date.isoformat() if ctx.check_date else "the date"
        return Judgement(Severity.NOT_EVALUATED, None,
                         f"not evaluated: {ctx.schedule_table} has no games on {day}: its season and playing "
                         f"teams are unknown, so its {values['row_count']} rows cannot be recomputed", {})
    if "season" in values and values["season"] is None:  # the query's values always hold it
        return _no_season(values, table, ctx)
    judgement = _compared(values, table, limits)
    return _with_source_faults(values, table, judgement) if values.get("excluded_rows") else judgement


def _no_season(values: Values, table: "TableConfig", ctx: JudgeContext) -> Judgement:
    """The schedule gives the date's games no season: no window (and no roster) can be recomputed."""
    games = values["games_scheduled"]
    day = ctx.check_date.isoformat() if ctx.check_date else "the date"
    message = (f"not evaluated: {values['season_source']} is NULL for the {games} game{'s' * (games != 1)} of {day}: "
               f"cannot tell the date's season, so no window can be recomputed from {table.source.table} "
               "and no roster expected")
    return Judgement(Severity.NOT_EVALUATED, None, message,
                     {"games_scheduled": games, "rows": values["row_count"], "season_source": values["season_source"],
                      "source": table.source.table})


def _named(games: list[str], count: int) -> str:
    """The first ``NAMED_PLAYERS`` of ``count`` games, and how many more."""
    shown_games = games[:NAMED_PLAYERS]
    return ", ".join(shown_games) + (f" and {count - len(shown_games)} more" if count > len(shown_games) else "")


def _with_source_faults(values: Values, table: "TableConfig", compared: Judgement) -> Judgement:
    """Rows on faulty box scores (duplicated, or played with no season) were not compared:
    NOT_EVALUATED naming the faulty games, then what the other rows say (their CRITICAL stays
    CRITICAL: a cache fault the source's faults do not explain)."""
    source = table.source.table
    faults: list[str] = []
    details: dict[str, Any] = {**compared.details, "not_compared_rows": values["excluded_rows"]}
    if doubled := values.get("duplicated_rows"):
        games = values["duplicated_games"]
        named = [f"{player} on {day.isoformat()} ({copies} copies)" for player, day, copies in values["duplicates"]]
        faults.append(f"{source} holds {games} duplicated box score{'s' * (games != 1)} in their players' season "
                      f"before the date: {_named(named, games)} (which copy a window reads is undefined: "
                      "deduplicate the source, then reprocess)")
        details.update({"duplicated_rows": doubled, "duplicated_games": games,
                        "duplicates": [{"player": player, "game_date": day.isoformat(), "copies": copies}
                                       for player, day, copies in values["duplicates"]]})
    if unseasoned := values.get("no_season_rows"):
        games = values["no_season_games"]
        named = [f"{player} on {day.isoformat()}" for player, day in values["no_season"]]
        faults.append(f"{values['no_season_source']} is NULL for {games} played game{'s' * (games != 1)} in their "
                      f"players' season before the date: {_named(named, games)} (whether a window reads them is "
                      "undefined: fill in their season, then reprocess)")
        details.update({"no_season_source": values["no_season_source"], "no_season_rows": unseasoned,
                        "no_season_games": games,
                        "no_season": [{"player": player, "game_date": day.isoformat()}
                                      for player, day in values["no_season"]]})
    message = (f"not evaluated for {values['excluded_rows']} of {values['row_count']} rows: {'; '.join(faults)}; "
               f"of the other rows: {compared.message}")
    severity = worst(Severity.NOT_EVALUATED, compared.severity)  # the first among equals: NOT_EVALUATED
    return Judgement(severity, compared.value if severity is compared.severity else None, message, details)


def _compared(values: Values, table: "TableConfig", limits: Mapping[str, float]) -> Judgement:
    """The rows compared (all but those on the source's faulty box scores) and the roster check."""
    source = table.source
    rows, mismatched = values["row_count"] - values.get("excluded_rows", 0), values["mismatched_rows"]
    share = pct(mismatched, rows) if rows else 0.0
    features = {feature: count for feature, count in values["mismatches"].items() if count}
    expected, missing = values["expected_players"], values["missing_players"]
    roster_share = pct(missing, expected) if expected else 0.0
    roster_limits = {"warning_above": limits["roster_warning_above"], "error_above": limits["roster_error_above"]}
    feature_limits = {key: limits[key] for key in ("warning_above", "error_above", "critical_above")}
    feature_severity = band(share, feature_limits, "above")
    roster_severity = band(roster_share, roster_limits, "above")
    severity = worst(feature_severity, roster_severity)
    details: dict[str, Any] = {
        "rows": rows, "mismatched_rows": mismatched, "mismatches": features, "source": source.table,
        "tolerance": source.tolerance, "expected_players": expected, "missing_players": missing,
        "roster_pct": judged_value(roster_share, roster_limits),
        "missing": [player for player, _ in values["missing_sample"]],
    }
    if features:
        worst_feature = max(features, key=lambda feature: (features[feature], feature))
        example = next((sample for sample in values["mismatch_samples"]
                        if _off(*sample["values"][worst_feature], source.tolerance)), None)
        shown_example = ("" if example is None else
                         f", e.g. {example['player']} {_number(example['values'][worst_feature][0])} stored, "
                         f"{_number(example['values'][worst_feature][1])} recomputed")
        others = [f"{feature} {count}" for feature, count in sorted(features.items(), key=lambda item: -item[1])
                  if feature != worst_feature]
        parts = [f"{shown(share, feature_limits)}% rows differ from {source.table} ({mismatched}/{rows}): "
                 f"worst {worst_feature} on {features[worst_feature]} rows{shown_example}"
                 + (f" (also {', '.join(others)})" if others else "")]
    elif rows:
        parts = [f"all {rows} rows match {source.table} within {source.tolerance:g}"]
    else:
        parts = ["no row left to compare"]
    if missing:
        names = [player for player, _ in values["missing_sample"][:NAMED_PLAYERS]]
        more = f" and {missing - len(names)} more" if missing > len(names) else ""
        parts.append(f"{missing} of {expected} expected players have no row ({shown(roster_share, roster_limits)}%): "
                     f"{', '.join(names)}{more}")
    elif expected:
        parts.append(f"all {expected} expected players have a row")
    # the judged value: the finding that decided (the rows' share when both agree)
    value = (judged_value(share, feature_limits) if worst(feature_severity, roster_severity) is feature_severity
             else judged_value(roster_share, roster_limits))
    return Judgement(severity, value, "; ".join(parts), details)


def _off(cached: float | None, recomputed: float | None, tolerance: float) -> bool:
    if cached is None or recomputed is None:
        return (cached is None) != (recomputed is None)
    return abs(cached - recomputed) > tolerance


def sample_rows(values: Values, table: "TableConfig", reasons: tuple[str, ...]) -> list[dict[str, Any]]:
    """The report's offending rows: per mismatching row, each feature off with its stored and
    recomputed values; then the expected players with no row (and their team)."""
    rows: list[dict[str, Any]] = []
    player = table.player_column
    if "mismatch" in reasons:
        for sample in values.get("mismatch_samples", ()):
            for feature, (cached, recomputed) in sample["values"].items():
                if _off(cached, recomputed, table.source.tolerance):
                    rows.append({player: sample["player"], "team": None, "feature": feature,
                                 "stored": cached, "recomputed": recomputed})
    if "missing" in reasons:
        for name, team in values.get("missing_sample", ()):
            rows.append({player: name, "team": team, "feature": "(no row)", "stored": None, "recomputed": None})
    return rows


def failing_reasons(details: Mapping[str, Any], limits: Mapping[str, float], table: "TableConfig") -> tuple[str, ...]:
    reasons = []
    if details.get("rows") and pct(details["mismatched_rows"], details["rows"]) > limits["warning_above"]:
        reasons.append("mismatch")
    if details.get("expected_players") and details.get("roster_pct", 0) > limits["roster_warning_above"]:
        reasons.append("missing")
    return tuple(reasons)


DIMENSION = Dimension(
    "source_consistency", "Source Consistency",
    "stat features recomputed from the box scores (SPEC §9); expected players with no row",
    ("warning_above", "error_above", "critical_above", "roster_warning_above", "roster_error_above"),
    lambda table, config: (), judge,
    failing_reasons=failing_reasons,
    applies=lambda table: table.source is not None,
    own_query=query,
    sample_rows=sample_rows,
)
