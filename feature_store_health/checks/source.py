"""The source query: a table's stat features recomputed from their source, every date of the run,
in one query (SPEC §9).

For each row of the monitored table on a date D, the player's window is their *played* games of
D's season (the schedule's season column) before D, most recent first; a game is played when
``points IS NOT NULL AND (points > 0 OR minutes IS NOT NULL)``. Each feature is recomputed by its
rule (``SOURCE_FEATURES``) and compared with the stored value: a match is within the tolerance, or
both NULL. The roster check: players who played for a team in the ``roster_days`` before D, with at
least ``roster_min_games`` played games this season, whose team plays on D, with no row on D.

The source's own faults are told apart from the cache's, in the same query. The date's season
(``season``) is NULL when the schedule gives none of its games a season: nothing can be recomputed.
Two faults of the box scores make a player's windows undefined, so a cache row whose player has
one in the date's season before the date is not compared (``excluded_rows``) and the faulty games
are named (``touched``, one row per player and game, by ``fault``):

- ``duplicate``: the source holds a player's game date more than once (one player, one game a day):
  which copy does the window read? The recompute keeps one copy of each (a played one first), so
  the roster check stays sound.
- ``no_season``: a played game with a NULL season (the source's season column) on or after the
  first game of the date's season (by the schedule or the box scores, whichever is earlier): is it
  in the window? The recompute leaves it out.

The query returns one ``date`` row per date (the counts), then up to ``MISSING_ROWS``
``duplicate`` and ``no_season`` rows each (player, game date, copies), up to ``SAMPLE_ROWS``
``mismatch`` rows (cached and recomputed values side by side) and up to ``MISSING_ROWS``
``missing`` rows (the player and team) per date: one query, whatever the number of dates.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, Iterable, Mapping, NamedTuple

from feature_store_health.checks.query import SAMPLE_ROWS, row_date
from feature_store_health.config_types import SOURCE_FEATURES

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["MISSING_ROWS", "SEASON_DAYS", "SourceQuery", "build_source_query"]

MISSING_ROWS = 100  # players without a row (and faulty box scores of each fault) named per date
SEASON_DAYS = 366   # a season is shorter than a year: the source is read from this far before the run


class SourceQuery(NamedTuple):
    table: str
    sql: str
    features: tuple[str, ...]
    columns: tuple[str, ...]   # the monitored table's columns it reads
    season_source: str         # the schedule's season column, named when it gives a date no season
    box_season_source: str     # the source's season column, named when a box score has no season

    def values_by_date(self, rows: Iterable[Mapping[str, Any]]) -> dict[dt.date, dict[str, Any]]:
        """Per date: games, the season, rows, mismatched rows and the count per feature, rows not
        compared for the source's faults (all of them, those on duplicated box scores, those on box
        scores without a season), the roster's expected and missing players, the faulty games
        (duplicated: player, date, copies; without a season: player, date), the mismatching rows
        (cached against recomputed) and the missing players."""
        result: dict[dt.date, dict[str, Any]] = {}
        details: list[Mapping[str, Any]] = []
        for row in rows:
            check_date = row_date(row)
            if row["kind"] != "date":
                details.append({**row, "check_date": check_date})
                continue
            result[check_date] = {
                "games_scheduled": row["games_scheduled"] or 0,
                "season": row["season"], "season_source": self.season_source,
                "row_count": row["row_count"] or 0,
                "mismatched_rows": row["mismatched_rows"] or 0,
                "mismatches": {feature: row[f"off__{feature}"] or 0 for feature in self.features},
                "expected_players": row["expected_players"] or 0,
                "missing_players": row["missing_players"] or 0,
                "excluded_rows": row["excluded_rows"] or 0,
                "duplicated_rows": row["duplicated_rows"] or 0,
                "duplicated_games": row["duplicated_games"] or 0,
                "duplicates": [],
                "no_season_source": self.box_season_source,
                "no_season_rows": row["no_season_rows"] or 0,
                "no_season_games": row["no_season_games"] or 0,
                "no_season": [],
                "mismatch_samples": [],
                "missing_sample": [],
            }
        for row in details:
            values = result.get(row["check_date"])
            if values is None:
                continue
            if row["kind"] == "mismatch":
                values["mismatch_samples"].append({
                    "player": row["player"],
                    "values": {feature: (_number(row[f"cached__{feature}"]), _number(row[f"source__{feature}"]))
                               for feature in self.features},
                })
            elif row["kind"] == "duplicate":
                values["duplicates"].append((row["player"], row_date(row, "game_date"), row["copies"]))
            elif row["kind"] == "no_season":
                values["no_season"].append((row["player"], row_date(row, "game_date")))
            else:
                values["missing_sample"].append((row["player"], row["team"]))
        return result  # each date's samples by player: the query's order


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _recompute(feature: str, stat: str | None, last: int | None, aggregate: str) -> str:
    if aggregate == "COUNT":
        return f"COUNT(*) AS {feature}"
    value = stat if last is None else f"IF(recency <= {last}, {stat}, NULL)"
    return f"{aggregate}({value}) AS {feature}"


def build_source_query(table: "TableConfig", config: "HealthConfig") -> SourceQuery:
    """The one query of ``table``'s source_consistency dimension, in BigQuery Standard SQL with
    ``@start_date`` and ``@end_date`` parameters (the DuckDB backend transpiles it)."""
    source, schedule = table.source, config.schedule
    features = source.features
    window = "BETWEEN @start_date AND @end_date"
    cached = ",\n".join(f"    CAST({feature} AS FLOAT64) AS {feature}" for feature in features)
    recomputed = ",\n".join(f"    {_recompute(feature, *SOURCE_FEATURES[feature])}" for feature in features)

    def off(feature: str) -> str:
        source_value = (f"CAST(IFNULL(r.{feature}, 0) AS FLOAT64)" if SOURCE_FEATURES[feature][2] == "COUNT"
                        else f"CAST(r.{feature} AS FLOAT64)")
        return (f"IFNULL(ABS(c.{feature} - {source_value}) > {source.tolerance!r}, "
                f"(c.{feature} IS NULL) != ({source_value} IS NULL)) AS off__{feature},\n"
                f"    {source_value} AS source__{feature}")

    compared = ",\n".join(f"    c.{feature} AS cached__{feature},\n    {off(feature)}" for feature in features)
    any_off = " OR ".join(f"off__{feature}" for feature in features)
    counts = ",\n".join(f"    COUNTIF(off__{feature} AND NOT excluded) AS off__{feature}" for feature in features)

    def typed_nulls(kinds: Mapping[str, str]) -> str:
        return ", ".join(f"CAST(NULL AS {kind}) AS {name}" for name, kind in kinds.items())

    count_columns = {"games_scheduled": "INT64", "row_count": "INT64", "mismatched_rows": "INT64",
                     **{f"off__{feature}": "INT64" for feature in features},
                     "expected_players": "INT64", "missing_players": "INT64",
                     "season": "STRING", "excluded_rows": "INT64", "duplicated_rows": "INT64",
                     "duplicated_games": "INT64", "no_season_rows": "INT64", "no_season_games": "INT64"}
    value_columns = {f"{side}__{feature}": "FLOAT64" for feature in features for side in ("cached", "source")}
    value_list = ", ".join(value_columns)
    duplicate_columns = {"game_date": "DATE", "copies": "INT64"}
    played_rule = (f"{source.points_column} IS NOT NULL AND ({source.points_column} > 0 "
                   f"OR {source.minutes_column} IS NOT NULL)")
    sql = f"""WITH cache AS (
  SELECT {table.date_column} AS check_date, {table.player_column} AS player,
{cached}
  FROM `{table.table}`
  WHERE {table.date_column} {window}
),
season AS (
  SELECT {schedule.date_column} AS check_date, MAX({schedule.season_column}) AS season_year,
    COUNT(DISTINCT {schedule.game_id_column}) AS games_scheduled
  FROM `{schedule.table}`
  WHERE {schedule.date_column} {window}
  GROUP BY check_date
),
playing AS (
  SELECT DISTINCT {schedule.date_column} AS check_date, team
  FROM `{schedule.table}`, UNNEST([{schedule.home_team_column}, {schedule.away_team_column}]) AS team
  WHERE {schedule.date_column} {window}
),
box AS (
  SELECT {source.player_column} AS player, {source.date_column} AS game_date, {source.season_column} AS season_year,
    {source.team_column} AS team, {source.points_column} AS points, {source.minutes_column} AS minutes,
    {source.usage_rate_column} AS usage_rate, {source.ts_pct_column} AS ts_pct,
    {played_rule} AS is_played,
    -- one player, one game a day: more rows for a player's date are a duplicated box score
    COUNT(*) OVER (PARTITION BY {source.player_column}, {source.date_column}) AS copies,
    ROW_NUMBER() OVER (PARTITION BY {source.player_column}, {source.date_column}
                       ORDER BY IF({played_rule}, 0, 1), {source.team_column}) AS copy
  FROM `{source.table}`
  WHERE {source.date_column} BETWEEN DATE_SUB(@start_date, INTERVAL {SEASON_DAYS} DAY) AND @end_date
),
season_start AS (
  -- a season's first game, by the schedule or the box scores (either may be loaded only in part):
  -- a box score without a season from it on may be in the windows of the season's dates
  SELECT season_year, MIN(first_game) AS first_game
  FROM (
    SELECT {schedule.season_column} AS season_year, MIN({schedule.date_column}) AS first_game
    FROM `{schedule.table}`
    WHERE {schedule.date_column} BETWEEN DATE_SUB(@start_date, INTERVAL {SEASON_DAYS} DAY) AND @end_date
    GROUP BY season_year
    UNION ALL
    SELECT season_year, MIN(game_date) AS first_game FROM box GROUP BY season_year
  ) AS firsts
  WHERE season_year IS NOT NULL
  GROUP BY season_year
),
played AS (
  SELECT player, game_date, season_year, team, points, minutes, usage_rate, ts_pct
  FROM box
  WHERE copy = 1 AND is_played
),
faults AS (
  -- the source's faults in a date's season before it, one row per player and game
  SELECT s.check_date, d.player, d.game_date, d.copies, 'duplicate' AS fault
  FROM season AS s
  JOIN box AS d ON d.copy = 1 AND d.copies > 1 AND d.season_year = s.season_year AND d.game_date < s.check_date
  UNION ALL
  SELECT s.check_date, d.player, d.game_date, d.copies, 'no_season' AS fault
  FROM season AS s
  JOIN season_start AS f ON f.season_year = s.season_year
  JOIN box AS d ON d.copy = 1 AND d.is_played AND d.season_year IS NULL
    AND d.game_date >= f.first_game AND d.game_date < s.check_date
),
touched AS (
  SELECT d.*
  FROM faults AS d
  JOIN (SELECT DISTINCT check_date, player FROM cache) AS k ON k.check_date = d.check_date AND k.player = d.player
),
touched_players AS (
  SELECT check_date, player, COUNTIF(fault = 'duplicate') > 0 AS duplicated,
    COUNTIF(fault = 'no_season') > 0 AS no_season
  FROM touched
  GROUP BY check_date, player
),
ranked AS (
  SELECT s.check_date, p.player, p.game_date, p.team, p.points, p.minutes, p.usage_rate, p.ts_pct,
    ROW_NUMBER() OVER (PARTITION BY s.check_date, p.player ORDER BY p.game_date DESC) AS recency
  FROM season AS s
  JOIN played AS p ON p.season_year = s.season_year AND p.game_date < s.check_date
),
recomputed AS (
  SELECT check_date, player,
{recomputed},
    MAX(IF(recency = 1, team, NULL)) AS last_team,
    MAX(game_date) AS last_played,
    COUNT(*) AS played_games
  FROM ranked
  GROUP BY check_date, player
),
compared AS (
  SELECT c.check_date, c.player, t.player IS NOT NULL AS excluded, IFNULL(t.duplicated, FALSE) AS duplicated,
    IFNULL(t.no_season, FALSE) AS no_season,
{compared}
  FROM cache AS c
  LEFT JOIN recomputed AS r ON r.check_date = c.check_date AND r.player = c.player
  LEFT JOIN touched_players AS t ON t.check_date = c.check_date AND t.player = c.player
),
flagged AS (
  -- a row on a faulty box score is not compared: the source, not the cache, is at fault
  SELECT *, NOT excluded AND ({any_off}) AS any_off FROM compared
),
roster AS (
  SELECT r.check_date, r.player, r.last_team AS team, k.player IS NULL AS missing
  FROM recomputed AS r
  JOIN playing AS t ON t.check_date = r.check_date AND t.team = r.last_team
  LEFT JOIN (SELECT DISTINCT check_date, player FROM cache) AS k ON k.check_date = r.check_date AND k.player = r.player
  WHERE r.played_games >= {source.roster_min_games}
    AND r.last_played >= DATE_SUB(r.check_date, INTERVAL {source.roster_days} DAY)
),
by_date AS (
  SELECT check_date, COUNT(*) AS row_count, COUNTIF(any_off) AS mismatched_rows,
    COUNTIF(excluded) AS excluded_rows, COUNTIF(duplicated) AS duplicated_rows, COUNTIF(no_season) AS no_season_rows,
{counts}
  FROM flagged
  GROUP BY check_date
),
faults_by_date AS (
  SELECT check_date, COUNTIF(fault = 'duplicate') AS duplicated_games, COUNTIF(fault = 'no_season') AS no_season_games
  FROM touched
  GROUP BY check_date
),
roster_by_date AS (
  SELECT check_date, COUNT(*) AS expected_players, COUNTIF(missing) AS missing_players
  FROM roster
  GROUP BY check_date
)
SELECT 'date' AS kind, check_date, CAST(NULL AS STRING) AS player, CAST(NULL AS STRING) AS team,
  IFNULL(s.games_scheduled, 0) AS games_scheduled, IFNULL(b.row_count, 0) AS row_count,
  IFNULL(b.mismatched_rows, 0) AS mismatched_rows,
  {", ".join(f"b.off__{feature}" for feature in features)},
  IFNULL(r.expected_players, 0) AS expected_players, IFNULL(r.missing_players, 0) AS missing_players,
  CAST(s.season_year AS STRING) AS season, IFNULL(b.excluded_rows, 0) AS excluded_rows,
  IFNULL(b.duplicated_rows, 0) AS duplicated_rows, IFNULL(d.duplicated_games, 0) AS duplicated_games,
  IFNULL(b.no_season_rows, 0) AS no_season_rows, IFNULL(d.no_season_games, 0) AS no_season_games,
  {typed_nulls(value_columns)}, {typed_nulls(duplicate_columns)}
FROM UNNEST(GENERATE_DATE_ARRAY(@start_date, @end_date)) AS check_date
LEFT JOIN season AS s USING (check_date)
LEFT JOIN by_date AS b USING (check_date)
LEFT JOIN roster_by_date AS r USING (check_date)
LEFT JOIN faults_by_date AS d USING (check_date)
UNION ALL
SELECT fault AS kind, check_date, player, CAST(NULL AS STRING) AS team, {typed_nulls(count_columns)},
  {typed_nulls(value_columns)}, game_date, copies
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY check_date, fault ORDER BY player, game_date) AS position
  FROM touched
) AS faulty
WHERE position <= {MISSING_ROWS}
UNION ALL
SELECT 'mismatch' AS kind, check_date, player, CAST(NULL AS STRING) AS team, {typed_nulls(count_columns)},
  {value_list}, {typed_nulls(duplicate_columns)}
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY check_date ORDER BY player) AS position
  FROM flagged
  WHERE any_off
) AS mismatched
WHERE position <= {SAMPLE_ROWS}
UNION ALL
SELECT 'missing' AS kind, check_date, player, team, {typed_nulls(count_columns)}, {typed_nulls(value_columns)},
  {typed_nulls(duplicate_columns)}
FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY check_date ORDER BY player) AS position
  FROM roster
  WHERE missing
) AS absent
WHERE position <= {MISSING_ROWS}
ORDER BY check_date, kind, player, game_date"""
    columns = (table.date_column, table.player_column, *features)
    return SourceQuery(table=table.name, sql=sql, features=features, columns=columns,
                       season_source=f"{schedule.table}.{schedule.season_column}",
                       box_season_source=f"{source.table}.{source.season_column}")
