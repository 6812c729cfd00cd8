"""continuity: each player's row against their previous row (the last date within 7 days).

For the columns that move slowly by construction (``continuity_columns``: season averages,
rolling means, age), the one aggregate query pairs each row of a date with the player's previous
row (LAG over the player's rows, reading only those columns for the 7 days before the window)
and counts the players whose |Δ| is beyond the column's usual move (checks/learned.py: the
median over the baseline days of each day's 99th percentile of |Δ|). A day whose share of such
players is above the thresholds is flagged: a join on the wrong key, a feature computed for the
wrong subgroup. Exact rules beside it: a counter (``continuity_counters``, games_played_season)
never decreases and rises by at most one a day; a team column (``team_columns``) is equal for
every player of the team on the date.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, TYPE_CHECKING

from feature_store_health.checks.dimensions.base import (
    BASE, Dimension, Judgement, JudgeContext, Values, band, nothing_to_judge, settling, settling_metrics, shown, unreadable,
)
from feature_store_health.checks.learned import jump, output_metrics
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["DIMENSION", "PAIR_DAYS", "pair_columns", "pairs_rows_sql", "team_columns", "team_rows_sql"]

PAIR_DAYS = 7          # a previous row older than this is no previous row
SHOWN_IN_MESSAGE = 3


Usable = Callable[[str], bool]   # whether the live table can serve a column (SchemaReport.usable)


def _everything(column: str) -> bool:
    return True


def pair_columns(table: "TableConfig", usable: Usable = _everything) -> tuple[str, ...]:
    """The columns paired with the previous row, less those the live table cannot serve (a
    dropped or retyped column leaves the others judged)."""
    return tuple(column for column in dict.fromkeys((*table.continuity_columns, *table.continuity_counters))
                 if usable(column))


def team_columns(table: "TableConfig", usable: Usable = _everything) -> tuple[str, ...]:
    return tuple(column for column in table.team_columns if usable(column))


def pairs_rows_sql(table: "TableConfig", usable: Usable = _everything, start: str = "@start_date",
                   end: str = "@end_date") -> str:
    """Each row of ``start``..``end`` (query parameters: the run's window, or the learning window)
    with the player's previous row within PAIR_DAYS days,
    and the row before that (within 2 × PAIR_DAYS): a value back at the level of the row before
    its previous one is a recovery from a bad previous row, not a move of its own."""
    columns = pair_columns(table, usable)
    window = f"OVER (PARTITION BY {table.player_column} ORDER BY {table.date_column})"
    lagged = ", ".join(f"LAG({column}) {window} AS prev__{column}, LAG({column}, 2) {window} AS prev2__{column}"
                       for column in columns)
    earlier = ", ".join(f"prev__{column}, IF(prev2_date >= DATE_SUB(check_date, INTERVAL {2 * PAIR_DAYS} DAY), "
                        f"prev2__{column}, NULL) AS prev2__{column}" for column in columns)
    return (
        f"    SELECT check_date, prev_date, prev2_date, {table.player_column}, "
        + ", ".join(columns) + f", {earlier}\n"
        f"    FROM (\n"
        f"      SELECT {table.date_column} AS check_date, {table.player_column}, {', '.join(columns)},\n"
        f"        LAG({table.date_column}) {window} AS prev_date, LAG({table.date_column}, 2) {window} AS prev2_date,\n"
        f"        {lagged}\n"
        f"      FROM `{table.table}`\n"
        f"      WHERE {table.date_column} BETWEEN DATE_SUB({start}, INTERVAL {2 * PAIR_DAYS} DAY) AND {end}\n"
        f"    ) AS lagged\n"
        f"    WHERE check_date BETWEEN {start} AND {end} AND prev_date < check_date\n"
        f"      AND prev_date >= DATE_SUB(check_date, INTERVAL {PAIR_DAYS} DAY)"
    )


def team_rows_sql(table: "TableConfig", usable: Usable = _everything) -> str:
    """One row per team and date: whether each team column differs between the team's players."""
    uneven = ", ".join(f"(MAX({column}) - MIN({column}) > 1e-9 OR (COUNT({column}) > 0 AND "
                       f"COUNT({column}) < COUNT(*))) AS uneven__{column}" for column in team_columns(table, usable))
    return (f"    SELECT {table.date_column} AS check_date, {table.team_column} AS team, {uneven}\n"
            f"    FROM `{table.table}`\n"
            f"    WHERE {table.date_column} BETWEEN @start_date AND @end_date\n"
            f"    GROUP BY check_date, team")


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    found = [*BASE, Metric(Source.PAIRS, "paired_rows", "COUNT(*)", columns=(table.player_column,))]
    found += settling_metrics(table)   # a date still settling is not judged
    for column in table.continuity_columns:
        moved = f"ABS({column} - prev__{column})"
        found += [
            Metric(Source.PAIRS, f"pairs__{column}", f"COUNTIF({column} IS NOT NULL AND prev__{column} IS NOT NULL)",
                   columns=(column,)),
            # beyond the usual move from its previous row, and from the row before (when there is one)
            Metric(Source.PAIRS, f"jumps__{column}",
                   f"COUNTIF({moved} > {jump(column)} AND (prev2__{column} IS NULL "
                   f"OR ABS({column} - prev2__{column}) > {jump(column)}))", columns=(column,)),
        ]
    for column in table.continuity_counters:
        # a fall back to the row before the previous one is a recovery only when the previous row
        # was itself bad (rose by more than its days allow): after a healthy +1, 52 -> 51 is a fall
        bad_previous = f"prev__{column} - prev2__{column} > DATE_DIFF(prev_date, prev2_date, DAY)"
        found += [
            Metric(Source.PAIRS, f"decreases__{column}",
                   f"COUNTIF({column} < prev__{column} AND (prev2__{column} IS NULL OR {column} < prev2__{column} "
                   f"OR NOT ({bad_previous})))", columns=(column,)),
            Metric(Source.PAIRS, f"overruns__{column}",
                   f"COUNTIF({column} - prev__{column} > DATE_DIFF(check_date, prev_date, DAY))", columns=(column,)),
        ]
    if table.team_columns:
        found.append(Metric(Source.TEAM_VALUES, "teams_seen", "COUNT(*)", columns=(table.team_column,)))
        found += [Metric(Source.TEAM_VALUES, f"uneven_teams__{column}", f"COUNTIF(uneven__{column})", columns=(column,))
                  for column in table.team_columns]
    found += output_metrics((), table.continuity_columns)
    return tuple(found)


def _jump_entries(values: Values, table: "TableConfig", limits: Mapping[str, float], learned: Any) -> list[dict]:
    entries = []
    for column in table.continuity_columns:
        pairs, beyond = values.get(f"pairs__{column}") or 0, values.get(f"jumps__{column}") or 0
        limit = learned.jumps.get(column) if learned is not None else None
        if not pairs or limit is None:
            continue
        share = 100.0 * beyond / pairs
        severity = band(share, limits, "above") if beyond >= limits["minimum_players"] else Severity.OK
        entries.append({"column": column, "rule": "jump", "players": pairs, "beyond": beyond,
                        "pct": round(share, 2), "limit": limit, "severity": severity.value})
    return entries


def _rule_entries(values: Values, table: "TableConfig", limits: Mapping[str, float]) -> list[dict]:
    rule_limits = {key[len("rule_"):]: value for key, value in limits.items() if key.startswith("rule_")}
    entries = []
    paired = values.get("paired_rows") or 0
    for column in table.continuity_counters:
        for rule, what in (("decreases", "decreased"), ("overruns", "rose by more than one a day")):
            if f"{rule}__{column}" not in values:   # the column cannot be read: not counted, never "holds"
                continue
            count = values.get(f"{rule}__{column}") or 0
            if paired:
                share = 100.0 * count / paired
                entries.append({"column": column, "rule": rule, "players": paired, "beyond": count, "what": what,
                                "pct": round(share, 2), "severity": band(share, rule_limits, "above").value})
    teams = values.get("teams_seen") or 0
    for column in table.team_columns:
        if f"uneven_teams__{column}" not in values:
            continue
        count = values.get(f"uneven_teams__{column}") or 0
        if teams:
            share = 100.0 * count / teams
            entries.append({"column": column, "rule": "team", "teams": teams, "beyond": count, "pct": round(share, 2),
                            "what": "differs between players of one team",
                            "severity": band(share, rule_limits, "above").value})
    return entries




def _describe(entry: Mapping[str, Any], limits: Mapping[str, float]) -> str:
    if entry["rule"] == "jump":
        return (f"{entry['column']}: {entry['beyond']} of {entry['players']} players ({shown(entry['pct'], limits)} %) "
                f"moved more than {entry['limit']:.4g} since their previous row")
    if entry["rule"] == "team":
        return f"{entry['column']} {entry['what']} on {entry['beyond']} of {entry['teams']} teams"
    return f"{entry['column']} {entry['what']} for {entry['beyond']} of {entry['players']} players"


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    if (skip := nothing_to_judge(values, ctx)) is not None:
        return skip
    early = settling(values, table)
    if early is not None:  # rolling windows still filling: every player's averages move by design
        return Judgement(Severity.SKIPPED, None, f"early season: {early:.0f}% of rows {table.early_season_column}: "
                         "rolling windows still filling, moves not judged", {})
    context = ctx.distributions
    if context is not None and context.error is not None:
        return Judgement(Severity.NOT_EVALUATED, None, f"not evaluated: {context.error}", {})
    learned = context.learned if context is not None else None
    # a column the live table lacks (or holds retyped) is named, and the others judged
    not_evaluated = unreadable((*pair_columns(table), *table.team_columns, table.player_column,
                                *((table.team_column,) if table.team_columns else ())), ctx)
    unevaluated = ("; not evaluated: " + ", ".join(f"{column} ({problem})" for column, problem in not_evaluated.items())
                   if not_evaluated else "")
    if "paired_rows" not in values:   # no pair column (or no player column) can be read: no pairs
        return Judgement(Severity.NOT_EVALUATED, None, "not evaluated: no slow column can be paired" + unevaluated,
                         {"not_evaluated_columns": not_evaluated})
    paired = values.get("paired_rows") or 0
    if not paired:
        return Judgement(Severity.SKIPPED, None, f"no player has a row within {PAIR_DAYS} days before: "
                         "nothing to compare", {"paired_rows": 0})
    entries = _jump_entries(values, table, limits, learned) + _rule_entries(values, table, limits)
    entries.sort(key=lambda entry: (-Severity(entry["severity"]).rank, -entry["pct"], entry["column"]))
    flagged = [entry for entry in entries if entry["severity"] != "OK"]
    details: dict[str, Any] = {"paired_rows": paired, "rows": values["row_count"], "checks": entries,
                               "flagged": sorted({f"continuity:{entry['column']}" for entry in flagged}),
                               "columns_affected": list(dict.fromkeys(entry["column"] for entry in flagged))}
    if not_evaluated:
        details["not_evaluated_columns"] = not_evaluated
    # a column with no usual move learned (all NULL in the days it was learned from) is not judged: named
    unlearned = [column for column in table.continuity_columns if column not in not_evaluated
                 and (learned is None or learned.jumps.get(column) is None)]
    if unlearned:
        details["columns_without_usual_move"] = unlearned
        unevaluated = f"; no usual move learned yet for {', '.join(unlearned)}" + unevaluated
    if not entries:
        return Judgement(Severity.SKIPPED, None, "no usual move learned yet for any column" + unevaluated, details)
    severity = Severity(entries[0]["severity"])
    if not flagged:
        jumps = [entry for entry in entries if entry["rule"] == "jump"]
        worst = max(jumps, key=lambda entry: entry["pct"]) if jumps else None
        largest = f"; most moved: {worst['column']} {worst['pct']:.1f} %" if worst else ""
        message = (f"{paired} of {values['row_count']} players compared with their previous row: "
                   f"{len(jumps)} columns within their usual move, every rule holds{largest}")
    else:
        named = "; ".join(_describe(entry, limits) for entry in flagged[:SHOWN_IN_MESSAGE])
        more = f"; and {len(flagged) - SHOWN_IN_MESSAGE} more" if len(flagged) > SHOWN_IN_MESSAGE else ""
        message = f"{named}{more}"
    return Judgement(severity, entries[0]["pct"], message + unevaluated, details)


def sample_sql(table: "TableConfig", learned_cte: str, usable: Usable = _everything) -> str:
    """The players behind a failing check: their previous and this date's values, largest move
    (in units of each column's usual move) first, at most 20 per date."""
    picked = list(pair_columns(table, usable))
    moved = ", ".join(f"IFNULL(ABS({column} - prev__{column}) / NULLIF(learned.jump__{column}, 0), 0)"
                      if column in table.continuity_columns else f"IFNULL(ABS({column} - prev__{column}), 0)"
                      for column in picked)
    # a row breaking a counter's exact rule first: its move (one game) is every healthy player's
    broken = " OR ".join(f"IFNULL({column} < prev__{column} OR {column} - prev__{column} > "
                         f"DATE_DIFF(check_date, prev_date, DAY), FALSE)" for column in picked
                         if column in table.continuity_counters) or "FALSE"
    order = f"IF({broken}, 1, 0) DESC, GREATEST({moved}, 0)"
    return (f"WITH {learned_cte}\n"
            f"SELECT check_date, prev_date, {table.player_column}, "
            + ", ".join(f"prev__{column}, {column}" for column in picked) + "\n"
            f"FROM (\n{pairs_rows_sql(table, usable)}\n) AS pairs CROSS JOIN learned\n"
            f"QUALIFY ROW_NUMBER() OVER (PARTITION BY check_date ORDER BY {order} DESC, {table.player_column}) <= 20\n"
            f"ORDER BY check_date, {order} DESC")


DIMENSION = Dimension(
    "continuity", "Continuity", "each player's slow-moving columns against their previous row",
    ("warning_above", "error_above", "critical_above", "minimum_players",
     "rule_warning_above", "rule_error_above", "rule_critical_above"), metrics, judge,
    applies=lambda table: bool(table.continuity_columns),
    partial=True,
    sample_query=sample_sql,
)
