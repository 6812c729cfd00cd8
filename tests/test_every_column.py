"""Every column, every day: the schema contract, duplicate keys, value ranges, the column profile,
and the two blind spots (playing teams without rows, partly unpopulated quality tiers)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from freezegun import freeze_time

from feature_store_health.checks.dimensions import DIMENSIONS, JudgeContext
from feature_store_health.config import load_config
from conftest import CACHE, CACHE_DIMENSIONS, COMPOSITE, COMPOSITE_DIMENSIONS, DISTRIBUTION_DIMENSIONS

DATE = dt.date(2026, 2, 5)  # healthy: 252 rows, 18 teams playing
TABLE = load_config().tables[0]
AS_OF = dt.datetime(2026, 2, 5, 14, 0, tzinfo=dt.timezone.utc)
PLAYING = ["BKN", "BOS", "CHA", "CHI", "DAL", "DEN", "DET", "GSW", "IND", "LAC", "MIA", "MIL", "MIN", "NOP",
           "ORL", "SAS", "TOR", "UTA"]


def coverage(with_rows: list[str], rows: int = 252):
    values = {"row_count": rows, "games_scheduled": 9, "teams_playing": 18,
              "teams_scheduled": ",".join(PLAYING), "teams_with_rows": ",".join(with_rows)}
    return DIMENSIONS["coverage"].judge(values, TABLE, TABLE.thresholds["coverage"], JudgeContext(AS_OF))


@pytest.mark.parametrize(("missing", "severity"), [
    ([], "OK"),
    (["BOS"], "ERROR"),
    (["BOS", "LAL"], "ERROR"),            # LAL is not playing: only BOS counts
    (["BOS", "CHA", "DAL", "DEN"], "ERROR"),           # 22.2 %: not more than a quarter
    (["BOS", "CHA", "DAL", "DEN", "DET"], "CRITICAL"),  # 27.8 %
])
def test_playing_teams_without_rows(missing, severity):
    judgement = coverage([team for team in PLAYING if team not in missing])
    assert judgement.severity.value == severity
    named = sorted(set(missing) & set(PLAYING))
    assert judgement.details["teams_without_rows"] == named
    if named:
        assert judgement.message.endswith(f"{len(named)} of 18 playing teams have no rows "
                                          f"({100 * len(named) / 18:.1f}%): {', '.join(named)}")


def test_playing_teams_without_rows_outrank_a_low_per_team_average():
    judgement = coverage([team for team in PLAYING if team not in ("BOS", "CHA")], rows=150)
    assert judgement.severity.value == "ERROR"  # not the WARNING of 8.3 rows per team


def test_two_playing_teams_without_rows_end_to_end(warehouse, run_suite):
    home, away = warehouse.execute_one("SELECT home_team_abbr, away_team_abbr FROM nba_reference.nba_schedule "
                                       "WHERE game_date = ? ORDER BY game_id LIMIT 1", [DATE])
    warehouse.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND team_abbr IN (?, ?)",
                      [DATE, home, away])
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("coverage")
    assert verdict["severity"] == "ERROR"
    named = sorted([home, away])
    assert verdict["details"]["teams_without_rows"] == named
    assert verdict["message"].endswith(f"but 2 of 18 playing teams have no rows (11.1%): {', '.join(named)}")
    assert run.ret == 1


def test_tiers_null_on_a_third_of_rows_end_to_end(warehouse, run_suite):
    warehouse.affect_rows(DATE, 84, "quality_tier = NULL")
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("quality_tiers")
    assert verdict["severity"] == "WARNING"
    assert verdict["details"]["tier_null_pct"] == 33.33
    assert "quality_tier NULL on 33.3% of rows (84/252)" in verdict["message"]
    # a column filled on every baseline day, NULL on a third of today's rows: far off its baseline
    anomalies = run.verdict("anomalies")
    assert anomalies["severity"] == "CRITICAL" and "quality_tier NULL % 33.3" in anomalies["message"]
    assert run.ret == 1
    assert run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--fail-on=warning").ret == 1


# -- hidden-file cases: each reaches its SPEC severity, the JSON says which column and why -------

def alter(warehouse, tmp_path, **changes):
    """A copy of the warehouse through the documented fixtures/alter_warehouse.py."""
    from feature_store_health.warehouse import load_fixture
    from conftest import ROOT, Warehouse

    target = tmp_path / "altered.duckdb"
    load_fixture(ROOT, "alter_warehouse").alter(warehouse.path, target, **changes)
    return Warehouse(target)


def severities(run) -> dict[str, str]:
    return {check["dimension"]: check["severity"] for check in run.checks()}  # the feature cache's


def cache_queries(run) -> list[dict]:
    return [query for query in run.results["queries"] if query["table"] == "player_daily_cache"]


def test_a_unit_change_on_a_few_percent_of_rows(warehouse, run_suite):
    warehouse.affect_rows(DATE, 8, "ts_pct_last_10 = ts_pct_last_10 * 100")  # 3.2 %: a percentage, not a fraction
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("value_ranges")
    assert verdict["severity"] == "ERROR" and verdict["value"] == 3.17
    assert verdict["details"]["worst_column"] == "ts_pct_last_10"
    assert verdict["details"]["columns"]["ts_pct_last_10"]["out_of_range"] == 8
    assert verdict["message"].startswith("ts_pct_last_10: 8 of 252 rows (3.2%) outside 0–1.5, observed 0.")
    # the 8 rows also differ from their source (ts_pct recomputed as a fraction): 3.2 % > 2 is an ERROR
    assert [d for d, s in severities(run).items() if s != "OK"] == ["value_ranges", "source_consistency", "anomalies"]
    assert run.verdict("source_consistency")["message"].startswith(
        "3.2% rows differ from nba_analytics.player_game_summary (8/252): worst ts_pct_last_10 on 8 rows")
    assert "ts_pct_last_10 mean" in run.verdict("anomalies")["message"]  # the mean moved with the 8 rows
    assert run.results["profile"]["player_daily_cache"]["flagged"]["2026-02-05"] == {
        "ts_pct_last_10": ["8 rows (3.17%) outside 0–1.5"]}
    assert run.ret == 1


@pytest.mark.parametrize(("rows", "severity"), [(1, "WARNING"), (5, "ERROR"), (13, "CRITICAL")])
def test_value_range_severities(warehouse, run_suite, rows, severity):
    warehouse.affect_rows(DATE, rows, "primary_scoring_zone = 'post'")
    verdict = run_suite(f"--database={warehouse.path}", "--date=2026-02-05").verdict("value_ranges")
    assert verdict["severity"] == severity
    assert verdict["message"].startswith(f"primary_scoring_zone: {rows} of 252 rows")
    assert "outside one of paint, mid_range, 3pt" in verdict["message"]


def test_null_is_never_out_of_range(warehouse, run_suite):
    warehouse.affect_rows(DATE, 30, "team_pace_last_10 = NULL, primary_scoring_zone = NULL")
    verdict = run_suite(f"--database={warehouse.path}", "--date=2026-02-05").verdict("value_ranges")
    assert verdict["severity"] == "OK"


def test_duplicated_rows(warehouse, run_suite):
    warehouse.execute("INSERT INTO nba_precompute.player_daily_cache SELECT * FROM nba_precompute.player_daily_cache "
                      "WHERE cache_date = ? ORDER BY player_lookup LIMIT 3", [DATE])
    first = warehouse.execute_one("SELECT min(player_lookup) FROM nba_precompute.player_daily_cache WHERE cache_date = ?",
                                  [DATE])[0]
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    verdict = run.verdict("uniqueness")
    assert (verdict["severity"], verdict["value"]) == ("ERROR", 3)
    assert verdict["details"]["key"] == ["player_lookup"] and verdict["details"]["duplicated_keys"] == 3
    assert verdict["details"]["examples"][0] == first
    assert verdict["message"].startswith("3 duplicate rows: 3 player_lookup values written more than once (")
    assert [d for d, s in severities(run).items() if s != "OK"] == ["uniqueness"]
    assert run.ret == 1


@freeze_time("2026-11-25 17:00:00")
def test_duplicated_rows_are_the_report_samples(warehouse, run_suite, tmp_path):
    warehouse.execute("INSERT INTO nba_precompute.player_daily_cache SELECT * FROM nba_precompute.player_daily_cache "
                      "WHERE cache_date = ? ORDER BY player_lookup LIMIT 2", [DATE])
    reports = tmp_path / "reports"
    run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--reports-dir={reports}")
    from test_reports import check_cards

    card = check_cards(next(reports.glob("*/*/report.html")))["test_health.py::test_uniqueness[player_daily_cache-2026-02-05]"]
    assert "Offending rows (first 4, by player)" in card  # both copies of both keys


@pytest.mark.parametrize(("column", "severity", "not_evaluated"), [
    ("usage_rate_last_10", "CRITICAL", ["null_rates", "source_consistency"]),   # checks read it
    ("team_pace_last_10", "ERROR", []),                   # no check needs it (value_ranges judges the rest)
])
def test_a_dropped_column(warehouse, run_suite, tmp_path, column, severity, not_evaluated):
    altered = alter(warehouse, tmp_path, drop=(column,))
    run = run_suite(f"--database={altered.path}", "--date=2026-02-05")
    schema = run.verdict("schema")
    assert schema["severity"] == severity
    assert schema["details"]["missing"] == [column]
    assert column in schema["message"]
    statuses = severities(run)
    assert [d for d, s in statuses.items() if s == "NOT_EVALUATED"] == not_evaluated
    for dimension in not_evaluated:
        assert run.verdict(dimension)["message"] == (
            f"not evaluated: column {column} is missing from nba_precompute.player_daily_cache")
    # the unaffected dimensions still judge, from the same one query
    assert all(statuses[d] == "OK" for d in statuses if d not in (*not_evaluated, "schema"))
    assert run.verdict("value_ranges")["details"]["not_evaluated_columns"] == {
        column: f"column {column} is missing from nba_precompute.player_daily_cache"}
    assert column not in run.results["profile"]["player_daily_cache"]["columns"]["2026-02-05"]
    # the one aggregate query, and the source query unless it reads the missing column
    assert [q["purpose"] for q in cache_queries(run)] == ["metrics"] + (["source_consistency"] if not not_evaluated else [])
    assert run.ret == 1


def test_a_retyped_column(warehouse, run_suite, tmp_path):
    altered = alter(warehouse, tmp_path, retype=(("minutes_avg_last_10", "VARCHAR"),))
    run = run_suite(f"--database={altered.path}", "--date=2026-02-05")
    schema = run.verdict("schema")
    assert schema["severity"] == "ERROR"
    assert schema["details"]["retyped"] == [{"column": "minutes_avg_last_10", "contract": "NUMERIC", "live": "STRING"}]
    assert run.verdict("null_rates")["message"] == ("not evaluated: column minutes_avg_last_10 is STRING in "
                                                    "nba_precompute.player_daily_cache, the contract says NUMERIC")
    profile = run.results["profile"]["player_daily_cache"]["columns"]["2026-02-05"]["minutes_avg_last_10"]
    assert set(profile) == {"type", "nulls", "null_pct"}  # its NULLs still count; its values are not numbers
    assert run.ret == 1


def test_numeric_stored_as_double_is_no_schema_change_on_duckdb(warehouse, run_suite, tmp_path):
    """A DuckDB file may hold BigQuery's NUMERIC as DOUBLE (and FLOAT64 as DECIMAL): not a change."""
    altered = alter(warehouse, tmp_path, retype=(("points_avg_last_10", "DOUBLE"), ("team_pace_last_10", "DOUBLE")))
    run = run_suite(f"--database={altered.path}", "--date=2026-02-05")
    assert run.verdict("schema")["severity"] == "OK"
    assert all(check["severity"] == "OK" for check in run.results["checks"]) and run.ret == 0


def test_an_extra_column_is_a_warning(warehouse, run_suite, tmp_path):
    altered = alter(warehouse, tmp_path, add=(("scratch_note", "VARCHAR"),))
    run = run_suite(f"--database={altered.path}", "--date=2026-02-05")
    schema = run.verdict("schema")
    assert (schema["severity"], schema["details"]["extra"]) == ("WARNING", ["scratch_note"])
    assert schema["message"] == "nba_precompute.player_daily_cache: not in the contract: scratch_note"
    assert run.ret == 0
    assert run_suite(f"--database={altered.path}", "--date=2026-02-05", "--fail-on=warning").ret == 1


def test_a_missing_date_column_leaves_the_schema_check_standing(warehouse, run_suite, tmp_path):
    altered = alter(warehouse, tmp_path, drop=("cache_date",))
    run = run_suite(f"--database={altered.path}", "--date=2026-02-05")
    assert run.verdict("schema")["severity"] == "CRITICAL"
    assert run.verdict("coverage")["message"] == (
        "not evaluated: column cache_date is missing from nba_precompute.player_daily_cache: "
        "no check of player_daily_cache can run")
    assert cache_queries(run) == []  # no query of the cache at all
    assert {c["severity"] for c in run.checks("player_composite_factors")} == {"OK"}  # the other table stands


# -- the profile -------------------------------------------------------------------------------

def test_profile_of_every_column_in_the_one_query(warehouse, run_suite):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--days=2")
    profile = run.results["profile"]["player_daily_cache"]
    assert list(profile["columns"]) == ["2026-02-04", "2026-02-05"] and profile["flagged"] == {}
    day = profile["columns"]["2026-02-05"]
    assert len(day) == 76
    rows = warehouse.execute_one(
        "SELECT count(*), avg(points_avg_last_10), min(points_avg_last_10), max(points_avg_last_10), "
        "count(*) FILTER (WHERE points_avg_last_10 IS NULL), count(*) FILTER (WHERE is_production_ready), "
        "count(DISTINCT team_abbr), count(*) FILTER (WHERE len(data_quality_issues) > 0), max(processed_at) "
        "FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [DATE])
    count, mean, low, high, nulls, ready, teams, with_issues, latest = rows
    points = day["points_avg_last_10"]
    assert points["type"] == "NUMERIC" and points["nulls"] == nulls
    assert points["mean"] == pytest.approx(float(mean)) and (points["min"], points["max"]) == (float(low), float(high))
    assert set(points) == {"type", "nulls", "null_pct", "mean", "stddev", "min", "median", "max", "zeros"}
    exact_median = warehouse.scalar("SELECT quantile_disc(points_avg_last_10, 0.5) FROM nba_precompute.player_daily_cache "
                                    "WHERE cache_date = ?", [DATE])
    assert points["median"] == float(exact_median)  # exact on DuckDB: a value of the column, mid-way
    assert day["is_production_ready"] == {"type": "BOOL", "nulls": 0, "null_pct": 0.0, "true": ready}
    assert day["team_abbr"]["distinct"] == teams == 18
    assert day["data_quality_issues"]["nonempty"] == with_issues
    assert day["processed_at"]["max"].startswith(latest.isoformat(sep=" ")[:19])
    assert [q["purpose"] for q in cache_queries(run)] == ["metrics", "source_consistency"]  # the profile: no query of its own


def test_profile_leaves_out_excluded_columns(warehouse, run_suite, tmp_path):
    import re

    default = (Path(__file__).resolve().parents[1] / "feature_store_health" / "health.toml").read_text()
    table = default[default.index("[[tables]]"):]
    config = tmp_path / "health.toml"
    config.write_text(re.sub(r'^unique_key = .*$', 'unique_key = ["player_lookup"]\nprofile_exclude = ["data_hash", '
                             '"source_player_game_hash"]', table, flags=re.M))
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--health-config={config}")
    day = run.results["profile"]["player_daily_cache"]["columns"]["2026-02-05"]
    assert len(day) == 74 and "data_hash" not in day


# -- a replayed season ----------------------------------------------------------------------------

ARRIVAL_NIGHTS = {"2026-03-25": "ERROR", "2026-03-27": "CRITICAL"}   # the late night, the night that never landed
MORNING_RUNS = (2.75, 4.0, 5.5)   # 02:45, 04:00, 05:30 New York: the Scheduler recipe's runs before ready_by


def assert_arrival_quiet_on_healthy_mornings(run) -> None:
    """arrival on the replayed season: at each date's 09:00, OK on every healthy date and its two
    nights caught (both tables); and at 02:45, 04:00 and 05:30 of every healthy date, judged by
    that date's own thresholds (its details: the landing, and when it would have been late), no
    WARNING or worse either. Prints the healthy landings next to the incidents'."""
    from feature_store_health.checks.dimensions.arrival import at_wall_hours, wall_hours

    arrivals = [c for c in run.checks(None) if c["dimension"] == "arrival"]
    found = {(c["table"], c["date"]): c["severity"] for c in arrivals if c["severity"] != "OK"}
    assert found == {(table, day): severity for table in (CACHE, COMPOSITE) for day, severity in ARRIVAL_NIGHTS.items()}
    alarms, landed = [], {}
    for check in arrivals:
        details, day = check["details"], dt.date.fromisoformat(check["date"])
        if check["date"] in ARRIVAL_NIGHTS or not details.get("landed_at"):
            continue   # an incident, or a day off
        hours = wall_hours(dt.datetime.fromisoformat(details["landed_at"]), day, "America/New_York")
        landed.setdefault(check["table"], []).append(hours)
        if "late_after" not in details:
            continue   # fewer than 7 landings yet: judged against ready_by alone (never a WARNING)
        late = sum(float(part) / 60 ** index for index, part in enumerate(details["late_after"][:5].split(":")))
        # the moments: a Scheduler run at 02:45 on the spring-forward Sunday runs at 03:45 EDT
        landed_at = dt.datetime.fromisoformat(details["landed_at"])
        for at in MORNING_RUNS:
            moment = at_wall_hours(day, at, "America/New_York")
            if landed_at > moment and wall_hours(moment, day, "America/New_York") > late:
                alarms.append((check["table"], check["date"], at))
    for table, hours in landed.items():
        hours.sort()
        print(f"arrival {table}: {len(hours)} healthy landings, median {hours[len(hours) // 2]:.2f} h, "
              f"max {hours[-1]:.2f} h after midnight; incidents: "
              + ", ".join(f"{day} {'not landed' if severity == 'CRITICAL' else 'landed after 06:00'}"
                          for day, severity in ARRIVAL_NIGHTS.items()))
        assert len(hours) > 140 and hours[-1] < 5.5   # every healthy night lands before the go/no-go
    assert alarms == []

def test_demo_season_new_dimensions_fail_only_on_their_incident_dates(demo_generator, run_suite, tmp_path):
    """Every game day of the demo season, both tables: schema, uniqueness, value_ranges, coverage,
    source_consistency and anomalies are OK but on the dated incidents; the composite factors fail
    on their own incident only."""
    path = tmp_path / "season.duckdb"
    demo_generator.build_demo_warehouse(path)
    run = run_suite(f"--database={path}", "--date=2026-04-12", "--days=174")
    cache = run.checks()
    found = {(c["date"], c["dimension"]): c["severity"] for c in cache
             if c["dimension"] in ("schema", "uniqueness", "value_ranges", "coverage")
             and c["severity"] not in ("OK", "SKIPPED")}
    assert found == {
        ("2026-03-03", "value_ranges"): "ERROR",      # ts_pct_last_10 x100 on 4 % of rows
        ("2026-03-17", "uniqueness"): "ERROR",        # 6 rows written twice
        ("2026-03-24", "coverage"): "ERROR",          # two playing teams without rows
        ("2026-03-27", "coverage"): "CRITICAL",       # the night that never landed: 0 rows, 5 games
    }
    tiers = {c["date"]: c["severity"] for c in cache
             if c["dimension"] == "quality_tiers" and c["date"] >= "2025-11-15" and c["severity"] not in ("OK", "SKIPPED")}
    assert tiers == {"2026-03-31": "WARNING", "2026-04-02": "WARNING"}  # a third NULL; not populated
    # one aggregate query per table, and the source check's own, for 174 dates
    assert sorted((q["table"], q["purpose"]) for q in run.results["queries"]) == [
        ("player_composite_factors", "metrics"), ("player_daily_cache", "metrics"),
        ("player_daily_cache", "source_consistency")]
    # source_consistency: the cache derives its stat features from player_game_summary by the SPEC §9
    # rule; every healthy date matches, every incident that touches a feature or drops players is named
    source = {c["date"]: (c["severity"], c["message"]) for c in cache
              if c["dimension"] == "source_consistency" and c["severity"] not in ("OK", "SKIPPED")}
    assert {day: severity for day, (severity, _) in source.items()} == {
        "2026-03-03": "ERROR",      # ts_pct_last_10 x100 on 4 % of rows
        "2026-03-05": "CRITICAL",   # minutes_avg_last_10 25 % too high on every row
        "2026-03-10": "ERROR",      # usage_rate_last_10 NULL where the source has values
        "2026-03-12": "ERROR",      # the roster filter dropped 14 expected players
        "2026-03-19": "ERROR",      # DNPs counted for 9 % of the players
        "2026-03-24": "ERROR",      # two teams' players missing
    }
    assert "worst minutes_avg_last_10 on 267 rows" in source["2026-03-05"][1]
    assert "14 of 95 expected players have no row (14.7%)" in source["2026-03-12"][1]
    assert source["2026-03-19"][1].startswith("9.2% rows differ from nba_analytics.player_game_summary (13/141): "
                                              "worst points_avg_season on 13 rows")
    assert "games_played_season 13" in source["2026-03-19"][1]
    # anomalies, on the same replay (light and heavy slates, no-game days, the All-Star break): quiet
    # on every healthy date, each incident caught
    anomalies = {c["date"]: (c["severity"], c["message"]) for c in cache
                 if c["dimension"] == "anomalies" and c["severity"] not in ("OK", "SKIPPED")}
    assert {day: severity for day, (severity, _) in anomalies.items()} == {
        "2026-03-03": "CRITICAL",   # ts_pct_last_10 mean, with 4 % of rows x100
        "2026-03-05": "ERROR",      # minutes_avg_last_10 25 % too high on every row
        "2026-03-10": "WARNING",    # usage_rate_last_10 NULL % (an 8 % outage)
        "2026-03-12": "WARNING",    # rows per team down a quarter
        "2026-03-24": "WARNING",    # two teams without rows: rows per team playing
        "2026-03-25": "ERROR",      # the late night: landing time 06:40
        "2026-03-31": "CRITICAL",   # quality_tier NULL on a third
        "2026-04-02": "CRITICAL",   # quality_tier not populated
    }
    # the healthy dates' scores (the worst metric of each) next to each incident's: the warning score
    # sits above the whole healthy distribution, every incident above it
    scores = {(c["table"], c["date"]): c["value"] for c in run.checks(None)
              if c["dimension"] == "anomalies" and c["value"] is not None}
    incidents = {(CACHE, day) for day in anomalies} | {(COMPOSITE, "2026-03-25"), (COMPOSITE, "2026-03-26")}
    healthy = sorted(score for key, score in scores.items() if key not in incidents)
    print(f"anomalies scores, {len(healthy)} healthy table-dates: median {healthy[len(healthy) // 2]:.1f}, "
          f"95th {healthy[int(0.95 * len(healthy))]:.1f}, max {healthy[-1]:.1f}; incidents: "
          + ", ".join(f"{table} {day} {scores[(table, day)]:.1f}" for table, day in sorted(incidents)))
    assert len(healthy) > 250 and healthy[-1] < 4.5
    assert min(scores[key] for key in incidents) > 4.5
    assert "minutes_avg_last_10 mean 25.9, expected 17.6–23.1" in anomalies["2026-03-05"][1]
    assert "rows per team playing 10.2, expected 11.4–15.9" in anomalies["2026-03-12"][1]
    assert "landing time 06:40, expected 23:51 the day before to 04:21" in anomalies["2026-03-25"][1]
    # the shifts the seven fixed checks (and schema, uniqueness, value ranges) cannot see
    for day, seen_by in (("2026-03-05", {"source_consistency", "anomalies", "drift", "continuity"}),
                         ("2026-03-12", {"source_consistency", "anomalies", "drift"}),
                         ("2026-03-19", {"source_consistency", "continuity"})):
        others = {c["dimension"]: c["severity"] for c in cache if c["date"] == day and c["dimension"] not in seen_by}
        assert set(others.values()) == {"OK"}, others
    # the composite factors: their own incident and the two nights Phase 4 did not run on time (they
    # are the composite's too), and nothing else of the cache's
    composite = {(c["date"], c["dimension"]): c["severity"] for c in run.checks("player_composite_factors")
                 if c["severity"] not in ("OK", "SKIPPED")}
    assert composite == {("2026-03-26", "null_rates"): "CRITICAL", ("2026-03-26", "anomalies"): "ERROR",
                         ("2026-03-25", "anomalies"): "ERROR",     # landing time 07:09
                         ("2026-03-25", "arrival"): "ERROR",       # landed 07:09, after ready_by 06:00
                         ("2026-03-27", "coverage"): "CRITICAL",   # 0 rows, 5 games
                         ("2026-03-27", "arrival"): "CRITICAL"}    # not landed by ready_by
    assert_arrival_quiet_on_healthy_mornings(run)
    # the distribution incidents (a spread, a category mix, a subgroup shift, a permutation, a
    # clipped tail) leave every check of both tables OK: the blind spot the drift and continuity
    # dimensions are for
    for day in demo_generator.DISTRIBUTION_INCIDENTS:
        severities = {(c["table"], c["dimension"]): c["severity"] for c in run.checks(None) if c["date"] == str(day)}
        assert sorted(severities) == sorted([(CACHE, dimension) for dimension in CACHE_DIMENSIONS]
                                            + [(COMPOSITE, dimension) for dimension in COMPOSITE_DIMENSIONS])
        earlier = {key: severity for key, severity in severities.items()
                   if not (key[0] == CACHE and key[1] in DISTRIBUTION_DIMENSIONS)}
        assert set(earlier.values()) == {"OK"}, (day, earlier)
        # ... and drift or continuity sees each (tests/test_distributions.py: which, naming the column)
        assert {severities[(CACHE, "drift")], severities[(CACHE, "continuity")]} - {"OK"}, (day, severities)
    early = [c["message"] for c in cache if c["dimension"] == "anomalies" and c["date"] == "2025-10-30"]
    assert early[0].startswith("early season: 100% of rows early_season_flag")
