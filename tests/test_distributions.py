"""drift and continuity (SPEC §14) on the demo season: quiet on every healthy date of both tables,
each planted distribution incident caught on its day naming its column; the healthy days' scores
shown next to the incidents'; the learned bins kept in the history; the math at its row counts."""

from __future__ import annotations

import json
import random
import statistics

import pytest

from conftest import ROOT
from feature_store_health.checks.distributions import baseline_scores, hellinger, share_range, statistic
from feature_store_health.warehouse import demo_warehouse_path

CACHE, COMPOSITE = "player_daily_cache", "player_composite_factors"
NEW = ("drift", "continuity")
# the demo's incidents the new dimensions see (besides the five planted for them): what each says
ALSO_SEEN = {
    ("2026-03-05", "drift"): "WARNING+", ("2026-03-05", "continuity"): "CRITICAL",  # minutes x1.25 on every row
    ("2026-03-10", "drift"): "WARNING",     # usage_rate_last_10 NULL on 8 % (its NULL bin)
    ("2026-03-12", "drift"): "WARNING",     # a quarter of the rows missing: the bench players' low values gone
    ("2026-03-19", "continuity"): "CRITICAL",   # DNPs counted: games_played_season up by more than one a day
    ("2026-03-31", "drift"): "ERROR+", ("2026-04-02", "drift"): "CRITICAL",   # quality_tier NULL
}


@pytest.fixture(scope="module")
def demo_path():
    return demo_warehouse_path(ROOT)


@pytest.fixture(scope="module")
def season_run(demo_path, tmp_path_factory):
    """The whole demo season, drift and continuity only, no history: one query per table."""
    import subprocess
    import sys

    out = tmp_path_factory.mktemp("season") / "results.json"
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "feature_store_health.plugin", f"--rootdir={ROOT}",
                           "-c", str(ROOT / "pytest.ini"), str(ROOT / "data_tests"), f"--database={demo_path}",
                           "--date=2026-04-12", "--days=174", "--no-history", "-m", "drift or continuity",
                           "-p", "no:cacheprovider", "-q", "--no-archive", f"--results-json={out}"],
                          capture_output=True, text=True, cwd=out.parent, timeout=600)
    assert out.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(out.read_text())


def _rank(severity: str) -> int:
    return {"OK": 0, "SKIPPED": 0, "WARNING": 1, "ERROR": 2, "CRITICAL": 3}[severity]


def test_healthy_season_is_quiet_and_each_planted_shape_is_caught_naming_its_column(season_run, demo_generator):
    checks = season_run["checks"]
    planted = demo_generator.DISTRIBUTION_INCIDENTS
    assert len(planted) == 5
    incident_days = {str(day) for day in demo_generator.INCIDENTS}
    by_key = {(c["table"], c["date"], c["dimension"]): c for c in checks}
    # both tables, every date: drift on both, continuity on the cache (the composite has no slow column)
    assert {key[2] for key in by_key if key[0] == COMPOSITE} == {"drift"}
    assert len([key for key in by_key if key[0] == CACHE]) == 2 * 174
    judged = [c for c in checks if c["severity"] == "OK"]
    assert len(judged) > 2 * 110
    # zero alarms on a healthy date: light and heavy slates, the All-Star break, the DST change (03-08)
    alarms = [(c["table"], c["date"], c["dimension"], c["message"]) for c in checks
              if c["severity"] not in ("OK", "SKIPPED") and c["date"] not in incident_days]
    assert alarms == []
    assert {c["severity"] for c in checks if c["date"] in ("2026-02-19", "2026-03-08", "2026-03-09")} == {"OK"}
    # each planted shape caught on its day by the dimension that can see it, naming the column
    seen_by = {"spread": {"drift"}, "mix": {"drift"}, "subgroup": {"drift", "continuity"},
               "permutation": {"continuity"}, "tail_clip": {"drift"}}
    for day, (table, column, shape) in planted.items():
        for dimension in NEW:
            check = by_key[(table, str(day), dimension)]
            if dimension in seen_by[shape]:
                assert _rank(check["severity"]) >= 1, (shape, check["message"])
                assert check["details"]["columns_affected"] == [column], (shape, check["details"]["columns_affected"])
                assert column in check["message"]
            else:
                assert check["severity"] == "OK", (shape, dimension, check["message"])
    # the demo's other incidents the new dimensions see, at these severities
    for (day, dimension), expected in ALSO_SEEN.items():
        severity = by_key[(CACHE, day, dimension)]["severity"]
        assert _rank(severity) >= _rank(expected.rstrip("+")) and (expected.endswith("+") or severity == expected), \
            (day, dimension, severity)
    flagged_days = {(c["date"], c["dimension"]) for c in checks if c["severity"] not in ("OK", "SKIPPED")}
    assert flagged_days <= {(str(day), dimension) for day in planted for dimension in NEW} | set(ALSO_SEEN)


def test_the_messages_name_the_value_and_its_expected_range(season_run):
    by_key = {(c["table"], c["date"], c["dimension"]): c for c in season_run["checks"]}
    mix = by_key[(CACHE, "2026-01-28", "drift")]
    assert mix["severity"] == "WARNING"
    assert "primary_scoring_zone: paint 15.2 % of rows, expected 23–47 %" in mix["message"]
    spread = by_key[(CACHE, "2026-01-09", "drift")]
    assert spread["severity"] == "CRITICAL"
    assert "three_pt_rate_last_10:" in spread["message"] and "spread wider: stddev 14.2 against" in spread["message"]
    clip = by_key[(CACHE, "2026-01-07", "drift")]
    assert clip["severity"] == "WARNING" and "assisted_rate_last_10: rows 0.6845–0.699 (p95–usual max) 0.0 % of rows" \
        in clip["message"]
    permutation = by_key[(CACHE, "2026-01-23", "continuity")]
    assert permutation["severity"] == "CRITICAL"
    assert permutation["message"].startswith("player_usage_rate_season: 127 of 154 players (82.5 %) moved more than")
    entry = next(e for e in permutation["details"]["checks"] if e["column"] == "player_usage_rate_season")
    assert (entry["beyond"], entry["players"], entry["rule"]) == (127, 154, "jump")
    rule = by_key[(CACHE, "2026-03-19", "continuity")]
    assert rule["message"] == "games_played_season rose by more than one a day for 13 of 138 players"
    # the picture's numbers: the day's bin shares beside the baseline's, 15 bins, both summing to 100
    column = next(e for e in spread["details"]["columns"] if e["column"] == "three_pt_rate_last_10")
    assert len(column["bins"]) == len(column["shares"]) == len(column["baseline_shares"]) == 15
    assert sum(column["shares"]) == pytest.approx(100, abs=0.1)
    assert column["shares"][13] == pytest.approx(24.49, abs=0.01)   # above the usual max


def test_healthy_scores_next_to_each_incident(season_run, demo_generator):
    """The threshold is the baseline days' own spread, not tuned on the incidents: the healthy
    dates' worst scores (every column, both tables) sit below the warning, each incident above."""
    checks = season_run["checks"]
    incident_days = {str(day) for day in demo_generator.INCIDENTS}
    healthy = {table: sorted(c["value"] for c in checks if c["table"] == table and c["dimension"] == "drift"
                             and c["value"] is not None and c["date"] not in incident_days)
               for table in (CACHE, COMPOSITE)}
    shares = sorted(c["value"] for c in checks if c["dimension"] == "continuity" and c["severity"] == "OK"
                    and c["value"] is not None and c["date"] not in incident_days)
    incidents = {(str(day), dimension): c["value"] for day in demo_generator.DISTRIBUTION_INCIDENTS
                 for dimension in NEW for c in checks
                 if c["table"] == CACHE and c["date"] == str(day) and c["dimension"] == dimension and c["severity"] != "OK"}
    for table, scores in healthy.items():
        print(f"drift {table}: {len(scores)} healthy dates, worst score median {statistics.median(scores):.2f}, "
              f"95th {scores[int(0.95 * len(scores))]:.2f}, max {scores[-1]:.2f}")
    print(f"continuity: {len(shares)} healthy dates, worst % moved median {statistics.median(shares):.2f}, "
          f"max {shares[-1]:.2f}")
    print("incidents: " + ", ".join(f"{day} {dimension} {value:.1f}" for (day, dimension), value in sorted(incidents.items())))
    assert all(len(scores) > 110 for scores in healthy.values())
    assert max(scores[-1] for scores in healthy.values()) < 4.5 <= min(
        value for (day, dimension), value in incidents.items() if dimension == "drift")
    assert shares[-1] < 10 <= min(value for (day, dimension), value in incidents.items() if dimension == "continuity")
    assert len(incidents) == 6


def test_statistic_knows_the_row_count():
    """Two samples of one distribution: H shrinks with the rows, the statistic does not; a real
    shift grows with them. The spread of baseline days at mixed row counts stays near √χ²'s."""
    rng = random.Random(7)
    shares = [0.05, 0.05, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.05, 0.05]

    def sample(n, weights=shares):
        counts = [0] * len(weights)
        for _ in range(n):
            counts[rng.choices(range(len(weights)), weights)[0]] += 1
        return counts

    reference = sample(20000)
    light = [statistic(sample(60), reference) for _ in range(200)]
    heavy = [statistic(sample(450), reference) for _ in range(200)]
    h_light = statistics.median(hellinger(sample(60), reference) for _ in range(200))
    h_heavy = statistics.median(hellinger(sample(450), reference) for _ in range(200))
    assert h_light / h_heavy == pytest.approx((450 / 60) ** 0.5, rel=0.25)   # H: noise shrinks with n
    assert statistics.median(light) == pytest.approx(statistics.median(heavy), rel=0.15)   # the statistic: not
    shifted = [0.03, 0.03, 0.07, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.085, 0.085]   # the tails moved out
    assert statistics.median(statistic(sample(450, shifted), reference) for _ in range(50)) > 1.4 * \
        statistics.median(statistic(sample(60, shifted), reference) for _ in range(50))
    days = [sample(rng.choice((60, 120, 250, 450))) for _ in range(30)]
    scored = baseline_scores(days, floor=0.75)
    assert 0.75 <= scored.spread < 1.5 and 2.0 < scored.median < 4.5
    assert hellinger([5, 5], [5, 5]) == 0.0 and hellinger([10, 0], [0, 10]) == 1.0
    # a share's expected range at the day's own rows: wider on a light slate
    history = [(34, 100), (70, 200), (35, 100), (66, 200)]
    light_range, heavy_range = share_range(history, 60), share_range(history, 450)
    assert light_range.share == pytest.approx(34.17, abs=0.01)
    assert light_range.high - light_range.low > heavy_range.high - heavy_range.low > 0


@pytest.mark.parametrize(("entry", "message"), [
    ('drift_columns = ["quality_tier"]\n', "drift_columns: quality_tier is STRING, not a number: list numeric columns"),
    ('drift_columns = ["nope"]\n', "drift_columns: nope is not a column of the table's contract"),
    ('drift_exclude = ["zzz_*"]\n', "drift_exclude: 'zzz_\\*' matches no column of the contract"),
    ('continuity_columns = ["points_avg_last_10", "points_avg_last_10"]\n', "continuity_columns lists a column twice"),
    ('continuity_counters = ["games_played_season"]\n', "continuity_counters and team_columns need continuity_columns"),
    ('continuity_columns = ["points_avg_last_10"]\nteam_columns = ["team_pace_last_10"]\n',
     "team_columns needs team_column"),
    # the team rule compares its players' values as numbers (MAX - MIN): a text column breaks the query
    ('team_column = "team_abbr"\ncontinuity_columns = ["points_avg_last_10"]\nteam_columns = ["team_abbr"]\n',
     "team_columns: team_abbr is STRING, not a number: list numeric columns"),
    ('[tables.thresholds.drift]\nminimum_spread = 0\n', "minimum_spread must be above 0"),
    ('[tables.thresholds.continuity]\nrule_warning_above = 5\nrule_error_above = 1\n', "thresholds out of order"),
])
def test_distribution_keys_are_validated(tmp_path, entry, message):
    from feature_store_health.config import ConfigError, load_config

    path = tmp_path / "bad.toml"
    path.write_text('[[tables]]\nname = "t"\ntable = "d.t"\ndate_column = "cache_date"\nplayer_column = "player_lookup"\n'
                    f'contract = "{ROOT}/fixtures/schema/nba_precompute.player_daily_cache.json"\n' + entry)
    with pytest.raises(ConfigError, match=message):
        load_config(path)


def test_learned_values_are_reused_at_most_for_the_lookback(tmp_path):
    """The history is read back lookback_days: learned values are reused for learned_refresh_days,
    at most that long (a shorter lookback shortens the reuse; no config error about a default)."""
    from feature_store_health.config import load_config

    path = tmp_path / "health.toml"
    path.write_text("[baseline]\nlookback_days = 10\n")
    assert (load_config(path).baseline.learned_refresh_days, load_config(path).baseline.refresh_days) == (28, 10)
    path.write_text("[baseline]\nlookback_days = 45\nlearned_refresh_days = 20\n")
    assert load_config(path).baseline.refresh_days == 20


def test_bad_distribution_key_is_one_line_exit_4(run_suite, tmp_path, demo_path):
    config = tmp_path / "health.toml"
    config.write_text((ROOT / "feature_store_health" / "health.toml").read_text().replace(
        'continuity_counters = ["games_played_season"]', 'continuity_counters = ["quality_tier"]'))
    run = run_suite(f"--database={demo_path}", "--date=2026-02-05", f"--health-config={config}", results=False)
    assert run.ret == 4
    assert "continuity_counters: quality_tier is STRING, not a number: list numeric columns" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr + run.stdout


def test_learned_bins_are_kept_in_the_history_and_reused_without_reading_earlier_days(run_suite, demo_path, tmp_path):
    """The first run computes the bins from the lookback (and counts its days); the next day's run
    takes them from the history: its query starts at its own date, the verdicts judged the same."""
    history = tmp_path / "history.duckdb"
    args = [f"--database={demo_path}", f"--history={history}", "-m", "drift or continuity"]
    first = run_suite(*args, "--date=2026-02-04")
    assert first.results["learned"][CACHE]["source"] == "computed"
    assert first.results["learned"][CACHE]["window"] == ["2025-12-21", "2026-02-03"]
    metrics = [q for q in first.results["queries"] if q["purpose"] == "metrics" and q["table"] == CACHE]
    assert len(metrics) == 1 and metrics[0]["parameters"]["learn_start"] == "2025-12-21"
    second = run_suite(*args, "--date=2026-02-05")
    learned = second.results["learned"][CACHE]
    assert learned["source"] == "history" and learned["id"] == first.results["learned"][CACHE]["id"]
    query = next(q for q in second.results["queries"] if q["purpose"] == "metrics" and q["table"] == CACHE)
    assert query["parameters"]["start_date"] == "2026-02-05" and "learn_start" not in query["parameters"]
    assert [q["purpose"] for q in second.results["queries"]] == ["metrics", "metrics"]   # one per table
    # the same verdicts as a run that learns everything again from the warehouse
    fresh = run_suite(f"--database={demo_path}", "--no-history", "-m", "drift or continuity", "--date=2026-02-05")
    strip = lambda run: [(c["table"], c["dimension"], c["severity"]) for c in run.results["checks"]]
    assert strip(second) == strip(fresh) and {s for _, _, s in strip(second)} == {"OK"}
    drift = next(c for c in second.results["checks"] if c["dimension"] == "drift" and c["table"] == CACHE)
    assert drift["details"]["columns_judged"] == 18 and drift["details"]["columns"][0]["baseline_days"] == 30
    # 28 days later the bins are learned again (and that run reads the lookback's days once more)
    later = run_suite(*args, "--date=2026-03-04")
    assert later.results["learned"][CACHE]["source"] == "computed"


def test_a_day_judged_bad_is_left_out_of_the_next_days_baseline(run_suite, demo_path, tmp_path):
    """2026-01-09's three_pt_rate_last_10 (spread x1.7) is flagged; the next game day's drift
    baseline of that column leaves the day out, and the other columns keep it. The first run also
    judged the lookback's days it counted (nobody had): 2026-01-07's clipped assisted_rate_last_10
    is left out of that column's baseline the same way."""
    history = tmp_path / "history.duckdb"
    args = [f"--database={demo_path}", f"--history={history}", "-m", "drift"]
    bad = run_suite(*args, "--date=2026-01-09")
    assert bad.verdict("drift")["severity"] == "CRITICAL"
    after = run_suite(*args, "--date=2026-01-10")
    left_out = after.verdict("drift")["details"]["left_out"]
    assert left_out == {"three_pt_rate_last_10": ["2026-01-09"], "assisted_rate_last_10": ["2026-01-07"]}
    assert after.verdict("drift")["severity"] == "OK"


def test_a_dropped_or_retyped_column_leaves_the_other_columns_judged(run_suite, demo_path, tmp_path):
    """A continuity column dropped (usage_rate_last_10), a team column dropped (team_pace_last_10)
    and the counter retyped (games_played_season): the table's one query still runs (no learned
    value of an absent column is asked for), drift and continuity judge every other column and name
    the absent ones, and the continuity samples of the permuted 2026-01-23 pair the columns left."""
    from feature_store_health.warehouse import load_fixture
    from test_reports import check_cards

    altered = tmp_path / "altered.duckdb"
    load_fixture(ROOT, "alter_warehouse").alter(
        demo_path, altered, drop=("usage_rate_last_10", "team_pace_last_10"),
        retype=(("games_played_season", "VARCHAR"),))
    reports = tmp_path / "reports"
    run = run_suite(f"--database={altered}", "--no-history", "--date=2026-01-23", f"--reports-dir={reports}")
    missing = "column {} is missing from nba_precompute.player_daily_cache"
    retyped = "column games_played_season is STRING in nba_precompute.player_daily_cache, the contract says INT64"
    drift = run.verdict("drift")
    assert drift["severity"] == "OK" and drift["details"]["columns_judged"] == 16
    assert drift["details"]["not_evaluated_columns"] == {
        "usage_rate_last_10": missing.format("usage_rate_last_10"), "team_pace_last_10": missing.format("team_pace_last_10")}
    assert drift["message"].endswith(f"; not evaluated: usage_rate_last_10 ({missing.format('usage_rate_last_10')}), "
                                     f"team_pace_last_10 ({missing.format('team_pace_last_10')})")
    continuity = run.verdict("continuity")
    assert continuity["severity"] == "CRITICAL"
    assert continuity["message"].startswith("player_usage_rate_season: 127 of 154 players (82.5 %) moved more than")
    assert continuity["details"]["not_evaluated_columns"] == {
        "usage_rate_last_10": missing.format("usage_rate_last_10"), "games_played_season": retyped,
        "team_pace_last_10": missing.format("team_pace_last_10")}
    assert [(entry["column"], entry["rule"]) for entry in continuity["details"]["checks"]
            if entry["rule"] != "jump"] == [("team_off_rating_last_10", "team")]
    assert len([entry for entry in continuity["details"]["checks"] if entry["rule"] == "jump"]) == 8
    assert [q["purpose"] for q in run.results["queries"] if q["table"] == CACHE] == ["metrics", "samples:continuity"]
    card = check_cards(next(reports.glob("*/*/report.html")))["test_health.py::test_continuity[player_daily_cache-2026-01-23]"]
    assert "samples unavailable" not in card and "Offending rows" in card


def test_a_model_run_judges_the_counter_rule_only_for_a_model_reading_the_counter(run_suite, demo_path, tmp_path):
    """2026-03-19 (DNPs counted: games_played_season up by more than one a day for 13 players): a
    model reading two slow columns and not games_played_season gates on its own inputs, so its
    continuity judges those two columns and no counter rule; a model reading the counter still
    sees the rule fail."""
    config = tmp_path / "models.toml"
    config.write_text('[[models]]\nname = "points_only"\nowner = "x@example.com"\ntables = ["player_daily_cache"]\n'
                      'features = ["points_avg_season", "minutes_avg_last_10"]\n\n'
                      '[[models]]\nname = "with_counter"\nowner = "y@example.com"\ntables = ["player_daily_cache"]\n'
                      'features = ["points_avg_season", "games_played_season"]\n')
    window = (f"--database={demo_path}", "--no-history", "--date=2026-03-19", f"--health-config={config}",
              "-m", "continuity")
    points = run_suite(*window, "--model=points_only").verdict("continuity")
    assert points["severity"] == "OK"
    assert [(entry["column"], entry["rule"]) for entry in points["details"]["checks"]] == [
        ("points_avg_season", "jump"), ("minutes_avg_last_10", "jump")]
    assert points["message"] == ("138 of 141 players compared with their previous row: 2 columns within their usual "
                                 "move, every rule holds; most moved: points_avg_season 5.1 %")
    counter = run_suite(*window, "--model=with_counter").verdict("continuity")
    assert counter["severity"] == "CRITICAL"
    assert counter["message"] == "games_played_season rose by more than one a day for 13 of 138 players"


def test_a_rerun_baseline_day_is_read_again_by_a_drift_only_run(run_suite, demo_path, tmp_path):
    """The runbook's Verify step runs `-m drift` alone. A recorded baseline day rerun since (here
    2026-02-02 with three_pt_rate_last_10's spread x1.7, processed a minute later) is read again in
    one more query, judged, and left out of that column's baseline: never its stale counts."""
    import shutil

    import duckdb

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_path, warehouse)
    args = [f"--database={warehouse}", f"--history={tmp_path / 'history.duckdb'}", "-m", "drift"]
    assert run_suite(*args, "--date=2026-0204".replace("02", "02-", 1) if False else "--date=2026-02-04").ret == 0
    with duckdb.connect(str(warehouse)) as connection:
        connection.execute(
            "UPDATE nba_precompute.player_daily_cache SET processed_at = processed_at + INTERVAL 1 MINUTE, "
            "three_pt_rate_last_10 = ROUND(LEAST(100, GREATEST(0, m + 1.7 * (three_pt_rate_last_10 - m))), 2) "
            "FROM (SELECT MEDIAN(three_pt_rate_last_10) AS m FROM nba_precompute.player_daily_cache "
            "WHERE cache_date = DATE '2026-02-02') AS day WHERE cache_date = DATE '2026-02-02'")
    run = run_suite(*args, "--date=2026-02-05")
    queries = [(q["purpose"], q["parameters"]["start_date"]) for q in run.results["queries"] if q["table"] == CACHE]
    assert queries == [("metrics", "2026-02-05"), ("metrics:changed-days", "2026-02-02")]
    drift = run.verdict("drift")
    assert drift["severity"] == "OK"
    assert drift["details"]["left_out"]["three_pt_rate_last_10"] == ["2026-02-02", "2026-01-09"]
    assert "2026-02-02" not in str({column: days for column, days in drift["details"]["left_out"].items()
                                    if column != "three_pt_rate_last_10"})


def test_a_null_share_is_named_as_the_other_checks_name_it(run_suite, demo_path):
    """2026-03-10, usage_rate_last_10 NULL on 11 of 142 rows (7.746 %): drift says "NULL 7.7 % of
    rows" (its NULL bin, not "rows NULL"), the share rounded once from the counts, as anomalies and
    null_rates give it; the details keep the count."""
    run = run_suite(f"--database={demo_path}", "--no-history", "--date=2026-03-10", "-m", "drift or null_rates")
    drift = run.verdict("drift")
    assert drift["severity"] == "WARNING"
    assert "usage_rate_last_10: NULL 7.7 % of rows, expected 0.0–0.0 % (score" in drift["message"]
    assert "7.7% NULL (11/142)" in run.verdict("null_rates")["message"]
    entry = next(e for e in drift["details"]["columns"] if e["column"] == "usage_rate_last_10")
    assert (entry["worst_bin"], entry["worst_rows"], entry["rows"], entry["worst_share"]) == ("NULL", 11, 142, 7.75)


def test_nothing_learned_from_an_empty_lookback_is_reused(run_suite, demo_path, tmp_path):
    """A first run on the season's first day (2025-10-21) has no earlier day to learn from: its
    learned record holds no edge and no usual move. The next run (2025-11-14) learns them again
    instead of reusing nothing for 28 days: continuity judges its 9 columns, as a run without
    history does."""
    args = [f"--database={demo_path}", f"--history={tmp_path / 'history.duckdb'}", "-m", "drift or continuity"]
    first = run_suite(*args, "--date=2025-10-21")
    assert set(first.results["learned"][CACHE]["jumps"].values()) == {None}
    later = run_suite(*args, "--date=2025-11-14")
    assert later.results["learned"][CACHE]["source"] == "computed"
    assert later.results["learned"][CACHE]["window"] == ["2025-09-30", "2025-11-13"]
    assert later.verdict("continuity")["message"] == (
        "178 of 183 players compared with their previous row: 9 columns within their usual move, every rule holds; "
        "most moved: points_std_last_10 0.7 %")


def test_a_day_recorded_without_a_drift_verdict_is_judged_before_it_serves_as_a_baseline(run_suite, demo_path,
                                                                                          tmp_path):
    """2026-01-09 (three_pt_rate_last_10's spread x1.7) first checked with `-m continuity` only: the
    history records its counts and no drift verdict. The next day's full run judges its drift
    first (nobody had) and leaves it out of that column's baseline; the verdict is recorded with
    the day's fingerprint, so the run after reads it instead of judging the day again."""
    import duckdb

    history = tmp_path / "history.duckdb"
    args = [f"--database={demo_path}", f"--history={history}"]
    run_suite(*args, "--date=2026-01-08")
    continuity = run_suite(*args, "--date=2026-01-09", "-m", "continuity")
    assert continuity.ret == 0
    after = run_suite(*args, "--date=2026-01-10")
    assert after.verdict("drift")["details"]["left_out"] == {
        "three_pt_rate_last_10": ["2026-01-09"], "assisted_rate_last_10": ["2026-01-07"]}
    with duckdb.connect(str(history), read_only=True) as connection:
        recorded = connection.execute(
            "SELECT text FROM metric_history WHERE table_name = ? AND check_date = DATE '2026-01-09' "
            "AND name = 'verdict:drift'", [CACHE]).fetchall()
    assert [json.loads(text)["severity"] for text, in recorded] == ["CRITICAL"]
    assert json.loads(recorded[0][0])["fingerprint"][0] == continuity.verdict("continuity")["details"]["rows"]
    later = run_suite(*args, "--date=2026-01-11")
    assert later.verdict("drift")["details"]["left_out"]["three_pt_rate_last_10"] == ["2026-01-09"]


def test_a_column_with_no_usual_move_learned_is_named_not_silently_dropped(run_suite, demo_path, tmp_path):
    """Learned on 2025-10-26 from the season's first five days, where the rolling columns are still
    NULL: 6 of the 9 slow columns have no usual move, and the record is reused for 28 days. On
    2025-11-14 continuity judges the other 3 and says which it could not judge."""
    args = [f"--database={demo_path}", f"--history={tmp_path / 'history.duckdb'}", "-m", "drift or continuity"]
    run_suite(*args, "--date=2025-10-26")
    run = run_suite(*args, "--date=2025-11-14")
    assert run.results["learned"][CACHE]["source"] == "history"
    unlearned = ["points_avg_last_10", "points_avg_season", "points_std_last_10", "minutes_avg_last_10",
                 "usage_rate_last_10", "ts_pct_last_10"]
    continuity = run.verdict("continuity")
    assert continuity["severity"] == "OK"
    assert continuity["details"]["columns_without_usual_move"] == unlearned
    assert continuity["message"] == (
        "178 of 183 players compared with their previous row: 3 columns within their usual move, every rule holds; "
        "most moved: avg_minutes_per_game_last_7 0.0 %; no usual move learned yet for " + ", ".join(unlearned))


def test_a_drift_only_run_counts_the_days_the_history_lacks(run_suite, demo_path, tmp_path):
    """A history with a gap (runs on 2025-10-26, then nothing until 2025-11-19, drift and
    continuity only): the one query reaches back to the days the history lacks, as the anomalies
    baseline does, so drift has its 7 game days instead of "insufficient history"; the column whose
    bins were never learned (NULL in the days it was learned from) is named."""
    args = [f"--database={demo_path}", f"--history={tmp_path / 'history.duckdb'}", "-m", "drift or continuity"]
    run_suite(*args, "--date=2025-10-26")
    run = run_suite(*args, "--date=2025-11-19")
    query = next(q for q in run.results["queries"] if q["table"] == CACHE)
    assert query["parameters"]["start_date"] == "2025-10-27"
    drift = run.verdict("drift")
    assert drift["severity"] == "OK"
    assert drift["message"].startswith("17 columns within their usual distribution (7 game days)")
    assert drift["message"].endswith("; without a baseline in the same bins yet: points_std_last_10")
