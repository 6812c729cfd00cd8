"""arrival (SPEC §13): a morning of runs on a night that did not land, on one that landed late,
and on a healthy one, with the clock frozen; the judge's rules on their own; the gate."""

from __future__ import annotations

import datetime as dt
import json
import re

import shutil
from zoneinfo import ZoneInfo

import duckdb
import pytest
from freezegun import freeze_time

from feature_store_health.checks.dimensions import DIMENSIONS, JudgeContext
from feature_store_health.checks.dimensions.arrival import ArrivalContext, quantile
from feature_store_health.checks.verdict import Severity
from feature_store_health.config import load_config

from conftest import CACHE, CACHE_DIMENSIONS, COMPOSITE, Warehouse

NOT_LANDED = dt.date(2026, 3, 27)   # the demo's night that never landed (5 games scheduled)
LATE = dt.date(2026, 3, 25)         # the demo's late night: the cache lands 06:40, the composite factors 07:09
HEALTHY = dt.date(2026, 3, 23)
NY = "America/New_York"


def utc_of(day: dt.date, clock: str) -> str:
    """A New York wall-clock time on ``day`` as the UTC text freezegun takes (EDT in late March: +4 h)."""
    local = dt.datetime.combine(day, dt.time.fromisoformat(clock)).replace(tzinfo=ZoneInfo(NY))
    return local.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture(scope="module")
def march_file(tmp_path_factory, demo_generator):
    """The demo from 45 days before its late night to the day after the night that never landed."""
    path = tmp_path_factory.mktemp("march") / "march.duckdb"
    demo_generator.build_warehouse(path, dt.date(2026, 2, 5), dt.date(2026, 3, 28))
    return path


@pytest.fixture
def morning(tmp_path, march_file):
    path = tmp_path / "march.duckdb"
    shutil.copyfile(march_file, path)
    return Warehouse(path)


def run_at(run_suite, warehouse, history, day: dt.date, clock: str, *extra: str):
    with freeze_time(utc_of(day, clock)):
        return run_suite(f"--database={warehouse.path}", f"--date={day.isoformat()}", f"--history={history}",
                         "--reports-dir=reports", *extra)


def severities(run, table: str = CACHE) -> dict[str, str]:
    return {check["dimension"]: check["severity"] for check in run.checks(table)}


# as of each run of the morning: (arrival's severity for both tables, the other checks SKIPPED, gate, exit code)
MORNING = {
    "01:30": ("OK", True, "go", 0),
    "03:30": ("WARNING", True, "go", 0),
    "05:45": ("ERROR", True, "hold", 1),
    "06:30": ("CRITICAL", None, "hold", 1),   # None: skipped only while its rows are in the future (the late night)
}


@pytest.mark.parametrize("night", [NOT_LANDED, LATE], ids=["never-landed", "late"])
def test_a_morning_of_runs_on_a_night_not_landed(morning, run_suite, tmp_path, night):
    history = tmp_path / "history.duckdb"
    for clock, (severity, others_skipped, decision, exit_code) in MORNING.items():
        run = run_at(run_suite, morning, history, night, clock)
        for table in (CACHE, COMPOSITE):
            arrival = run.verdict("arrival", table=table)
            assert arrival["severity"] == severity, (clock, table, arrival["message"])
            assert arrival["message"].endswith(
                f"as of {clock}, 0 rows" if night == NOT_LANDED else
                f"as of {clock}, 0 rows then (its 219 rows were processed at {'06:40' if table == CACHE else '07:09'}, "
                "after the as-of time)"), arrival["message"]
        others = {dimension: severity for dimension, severity in severities(run).items() if dimension != "arrival"}
        if others_skipped or (others_skipped is None and night == LATE):   # every one of the other 12
            assert others == dict.fromkeys(CACHE_DIMENSIONS[1:], "SKIPPED"), clock
        else:   # from ready_by on, coverage judges the 0 rows as it always has
            assert run.verdict("coverage")["severity"] == "CRITICAL"
            assert run.verdict("coverage")["message"].startswith("0 records found while 5 games are scheduled")
        assert run.results["gate"]["decision"] == decision, clock
        assert run.ret == exit_code, (clock, run.stdout[-2000:])
    early = run_at(run_suite, morning, history, night, "01:30")
    arrival = early.verdict("arrival")
    assert arrival["message"].startswith("not due yet: lands 01:5") and " on 28 of 30 game days; " in arrival["message"]
    assert early.verdict("coverage")["message"] == (
        "not landed yet (no rows yet): arrival judges it until ready_by 06:00" if night == NOT_LANDED else
        "not landed as of 01:30: its rows were processed at 06:40, after the as-of time; see arrival")
    warning = run_at(run_suite, morning, history, night, "03:30")
    # late: 30 min after the median landing (the p99 is earlier). The DST Sunday's landing (Phase 4
    # started at 03:00 EDT) counts by the clock since midnight, so it widens nothing
    assert warning.verdict("arrival")["message"].startswith("late: not landed after 02:3"), warning.verdict("arrival")
    assert warning.verdict("arrival", table=COMPOSITE)["message"].startswith("late: not landed after 03:05")
    margin = run_at(run_suite, morning, history, night, "05:45")
    assert margin.verdict("arrival")["message"].startswith(
        "not landed 15 min before ready_by 06:00 (margin 30 min): the go/no-go holds;")
    gate = margin.results["gate"]
    assert gate["final"] is True
    assert [reason.split(":")[0] for reason in gate["reasons"]] == [f"{CACHE} arrival ERROR", f"{COMPOSITE} arrival ERROR"]
    assert run_at(run_suite, morning, history, night, "06:30").verdict("arrival")["message"].startswith(
        "not landed by ready_by 06:00: the prediction job read at 06:00 without today's features;")

    after = run_at(run_suite, morning, history, night, "09:00")
    assert after.results["gate"]["decision"] == "hold" and after.ret == 1
    if night == NOT_LANDED:
        assert after.verdict("arrival")["severity"] == "CRITICAL"
    else:   # landed, after ready_by: an ERROR even though it is there now; the rows themselves are fine
        cache, composite = after.verdict("arrival"), after.verdict("arrival", table=COMPOSITE)
        assert (cache["severity"], composite["severity"]) == ("ERROR", "ERROR")
        assert cache["message"].startswith("landed 06:40, 40 min after ready_by 06:00: the prediction job read at "
                                           "06:00 without today's features;")
        assert composite["message"].startswith("landed 07:09, 1 h 09 m after ready_by 06:00:")
        others = {dimension: severity for dimension, severity in severities(after).items()
                  if dimension not in ("arrival", "anomalies")}
        assert set(others.values()) == {"OK"}
        assert "landing time 06:40, expected" in after.verdict("anomalies")["message"]

    # the gate is in the history, one row per run that judged every check; Phase 5's query reads the newest final one
    connection = duckdb.connect(str(history), read_only=True)
    try:
        decisions = connection.execute(
            "SELECT json_extract_string(text, '$.decision'), json_extract_string(text, '$.final') FROM metric_history "
            "WHERE name = 'gate' AND check_date = ? ORDER BY run_at", [night]).fetchall()
        newest_final = connection.execute(
            "SELECT json_extract_string(text, '$.decision') FROM metric_history WHERE name = 'gate' AND check_date = ? "
            "AND json_extract_string(text, '$.final') = 'true' ORDER BY run_at DESC LIMIT 1", [night]).fetchone()
    finally:
        connection.close()
    # nine runs, in the order of their (frozen) times: 01:30 and 03:30 twice, 05:45 and 06:30 twice, 09:00
    assert decisions == [("go", "false")] * 4 + [("hold", "true")] * 5
    assert newest_final == ("hold",)


def test_a_healthy_night_is_go(morning, run_suite, tmp_path):
    run = run_at(run_suite, morning, tmp_path / "history.duckdb", HEALTHY, "05:30", f"--reports-dir={tmp_path / 'r'}")
    page = next((tmp_path / "r").glob("*/*/report.html")).read_text()
    assert ('<p class="gate">Gate for 2026-03-23: <b>go</b> (final: the go/no-go)</p>') in page
    assert run.verdict("arrival")["severity"] == "OK"
    assert re.fullmatch(r"landed 0[12]:\d\d, [34] h \d\d m before ready_by 06:00 \(lands 0[12]:\d\d–0[12]:\d\d on "
                        r"2[89] of 30 game days\)", run.verdict("arrival")["message"]), run.verdict("arrival")["message"]
    assert {check["severity"] for check in run.checks(None)} == {"OK"}
    assert run.results["gate"] == {
        "date": HEALTHY.isoformat(), "decision": "go", "reasons": [], "as_of": "2026-03-23T09:30:00+00:00",
        "final": True, "tables": run.results["gate"]["tables"], "recorded": True}
    assert run.results["gate"]["tables"][CACHE]["landed"] is True
    assert "Gate: go for 2026-03-23 (final: the go/no-go)" in run.stdout
    assert run.ret == 0


# -- the judge on its own ------------------------------------------------------------------------

CONFIG = load_config()
TABLE = next(table for table in CONFIG.tables if table.name == CACHE)
LIMITS = TABLE.thresholds["arrival"]
DAY = dt.date(2026, 3, 2)
# 30 landings 02:00..02:29 (one a minute): p95 02:28, p99 02:29, p5 02:01
LANDINGS = tuple(2 + minute / 60 for minute in range(30))


def judged(clock: str, rows: int = 0, landed: str | None = None, landings=LANDINGS):
    as_of = dt.datetime.combine(DAY, dt.time.fromisoformat(clock), tzinfo=dt.timezone.utc) + dt.timedelta(hours=5)
    processed = (dt.datetime.combine(DAY, dt.time.fromisoformat(landed), tzinfo=dt.timezone.utc) + dt.timedelta(hours=5)
                 if landed else None)
    values = {"row_count": rows, "games_scheduled": 5, "teams_playing": 10, "max_processed_at": processed}
    context = JudgeContext(as_of=as_of, check_date=DAY, timezone=NY, arrival=ArrivalContext(tuple(landings)))
    return DIMENSIONS["arrival"].judge(values, TABLE, LIMITS, context)


def test_quantiles_are_nearest_rank():
    assert quantile(LANDINGS, 95) == LANDINGS[28]
    assert quantile(LANDINGS, 99) == LANDINGS[29]
    assert quantile(LANDINGS, 5) == LANDINGS[1]


@pytest.mark.parametrize(("clock", "severity", "start"), [
    ("01:30", Severity.OK, "not due yet: lands 02:01–02:28 on 28 of 30 game days; as of 01:30, 0 rows"),
    ("02:28", Severity.OK, "not due yet"),
    ("02:28:30", Severity.OK, "due now: lands 02:01–02:28"),
    # late: after the p99 (02:29), and not sooner than floor_landing_hours (30 min) after the median (02:14)
    ("02:44", Severity.OK, "due now: lands 02:01–02:28"),
    ("02:45", Severity.WARNING, "late: not landed after 02:44 (its latest usual landing); lands 02:01–02:28"),
    ("05:29", Severity.WARNING, "late:"),
    ("05:30", Severity.ERROR, "not landed 30 min before ready_by 06:00 (margin 30 min): the go/no-go holds"),
    ("06:00", Severity.CRITICAL, "not landed by ready_by 06:00: the prediction job read at 06:00 without today's features"),
])
def test_not_landed_through_the_morning(clock, severity, start):
    judgement = judged(clock)
    assert (judgement.severity, judgement.message[:len(start)]) == (severity, start)


def test_landed_is_judged_against_ready_by():
    on_time = judged("09:00", rows=250, landed="02:10")
    assert (on_time.severity, on_time.value) == (Severity.OK, 2.17)
    assert on_time.message == "landed 02:10, 3 h 50 m before ready_by 06:00 (lands 02:01–02:28 on 28 of 30 game days)"
    unusual = judged("09:00", rows=250, landed="04:10")
    assert unusual.severity is Severity.OK and unusual.message.endswith("; later than usual")
    in_margin = judged("09:00", rows=250, landed="05:40")
    assert (in_margin.severity, in_margin.message[:40]) == (Severity.WARNING, "landed 05:40, within 30 min of ready_by ")
    late = judged("09:00", rows=250, landed="07:10")
    assert (late.severity, late.message[:48]) == (Severity.ERROR, "landed 07:10, 1 h 10 m after ready_by 06:00: the")
    # as of before the rows were processed (a replay), they had not landed
    replay = judged("03:00", rows=250, landed="07:10")
    assert replay.severity is Severity.WARNING
    assert replay.message.endswith("as of 03:00, 0 rows then (its 250 rows were processed at 07:10, after the as-of time)")


def test_few_landings_judge_against_ready_by_alone():
    early = judged("03:30", landings=LANDINGS[:6])
    assert early.severity is Severity.OK
    assert early.message == ("not due yet: judged against ready_by alone: 6 recorded landings, fewer than 7; "
                             "as of 03:30, 0 rows")
    assert judged("05:31", landings=LANDINGS[:6]).severity is Severity.ERROR
    assert judged("06:01", landings=()).severity is Severity.CRITICAL


def test_a_day_off_and_short_rows():
    values = {"row_count": 0, "games_scheduled": 0, "teams_playing": 0, "max_processed_at": None}
    context = JudgeContext(as_of=dt.datetime(2026, 3, 2, 12, tzinfo=dt.timezone.utc), check_date=DAY, timezone=NY,
                           arrival=ArrivalContext(LANDINGS))
    day_off = DIMENSIONS["arrival"].judge(values, TABLE, LIMITS, context)
    assert (day_off.severity, day_off.message) == (Severity.OK, "no games scheduled: nothing due")
    # rows for 2 of 10 playing teams: still landing
    processed = dt.datetime(2026, 3, 2, 7, 5, tzinfo=dt.timezone.utc)
    short = {"row_count": 30, "games_scheduled": 5, "teams_playing": 10, "max_processed_at": processed,
             "teams_scheduled": "A,B,C,D,E,F,G,H,I,J", "teams_with_rows": "A,B"}
    judgement = DIMENSIONS["arrival"].judge(short, TABLE, LIMITS, context._replace(
        as_of=dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.timezone.utc)))
    assert judgement.severity is Severity.WARNING
    assert judgement.message.endswith("as of 03:00, 30 rows, on 2 of 10 playing teams")


def test_the_dst_change_moves_nothing():
    """Phase 4 runs by New York's wall clock: on the Sunday clocks go forward, 02:10 EDT (06:10 UTC) is on time."""
    sunday = dt.date(2026, 3, 8)
    values = {"row_count": 250, "games_scheduled": 5, "teams_playing": 10,
              "max_processed_at": dt.datetime(2026, 3, 8, 7, 10, tzinfo=dt.timezone.utc)}   # 03:10 EDT
    context = JudgeContext(as_of=dt.datetime(2026, 3, 8, 13, tzinfo=dt.timezone.utc), check_date=sunday, timezone=NY,
                           arrival=ArrivalContext(LANDINGS))
    judgement = DIMENSIONS["arrival"].judge(values, TABLE, LIMITS, context)
    assert judgement.message.startswith("landed 03:10, 2 h 50 m before ready_by 06:00")
    assert json.loads(json.dumps(judgement.details))["ready_by"] == "2026-03-08T10:00:00+00:00"   # 06:00 EDT


@pytest.mark.parametrize(("entry", "message"), [
    ('ready_by = "10:00Z"', "tables[0].ready_by = '10:00Z' is not a time like '06:00' (wall clock in deadline.timezone, "
                            "no offset)"),
    ('ready_by = "0600"', "tables[0].ready_by = '0600' is not a time like '06:00' (wall clock in deadline.timezone, "
                          "no offset)"),
    ('ready_by = "6am"', "tables[0].ready_by = '6am' is not a time like '06:00' (wall clock in deadline.timezone, no offset)"),
    ("ready_margin_minutes = -5", "tables[0].ready_margin_minutes must be minutes from 0 to 1439, got -5"),
    ("[tables.thresholds.arrival]\ndue_pct = 99.5\nwarning_after_pct = 99",
     "tables[0].thresholds.arrival: due_pct (99.5) is later than warning_after_pct (99); due <= warning expected"),
    ("[tables.thresholds.arrival]\nminimum_landings = 2.5",
     "tables[0].thresholds.arrival.minimum_landings must be a whole number of at least 1, got 2.5"),
    ("[tables.thresholds.arrival]\nminimum_landings = 31",
     "tables[0].thresholds.arrival.minimum_landings (31) is more than baseline.game_days (30), the landings ever "
     "read: arrival would be judged against ready_by alone forever"),
])
def test_bad_arrival_settings_are_one_line_usage_errors(run_suite, tmp_path, entry, message):
    config = tmp_path / "bad.toml"
    config.write_text('[[tables]]\nname = "player_daily_cache"\ntable = "nba_precompute.player_daily_cache"\n'
                      'date_column = "cache_date"\nplayer_column = "player_lookup"\nprocessed_at_column = "processed_at"\n'
                      + entry + "\n")
    run = run_suite(f"--health-config={config}", "--date=2026-02-05", results=False)
    assert run.ret == 4
    assert run.stderr.strip() == f"ERROR: config {config}: {message}"


def test_a_toml_local_time_is_a_ready_by(tmp_path):
    config = tmp_path / "ok.toml"
    config.write_text('[[tables]]\nname = "cache"\ntable = "nba_precompute.player_daily_cache"\ndate_column = "cache_date"\n'
                      'player_column = "player_lookup"\nprocessed_at_column = "processed_at"\nready_by = 05:15:00\n')
    table = load_config(config).tables[0]
    assert (table.ready_by, table.ready_margin_minutes) == (dt.time(5, 15), 30.0)


def test_a_short_early_landing_is_not_the_nights_landing(morning, run_suite, tmp_path):
    """One team's rows at 02:40, the rest at 07:10: at 09:00 the table landed at 07:10 (an ERROR),
    never "landed 02:40" from the short landing a 02:45 run recorded."""
    history = tmp_path / "history.duckdb"
    full = tmp_path / "full.duckdb"
    shutil.copyfile(morning.path, full)
    first_team = morning.scalar("SELECT MIN(team_abbr) FROM nba_precompute.player_daily_cache WHERE cache_date = ?",
                                [HEALTHY])
    morning.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND team_abbr <> ?",
                    [HEALTHY, first_team])
    short = run_at(run_suite, morning, history, HEALTHY, "02:45")
    assert re.search(r"as of 02:45, \d+ rows, on 1 of \d+ playing teams$", short.verdict("arrival")["message"]), \
        short.verdict("arrival")["message"]
    assert short.verdict("coverage")["severity"] == "SKIPPED"
    # the whole table lands at 07:10 New York (11:10 UTC in EDT): every row moved there
    late = Warehouse(full)
    last = late.scalar("SELECT MAX(processed_at) FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [HEALTHY])
    shift = dt.datetime.combine(HEALTHY, dt.time(11, 10)) - last
    late.execute("UPDATE nba_precompute.player_daily_cache SET processed_at = processed_at + ?::INTERVAL "
                 "WHERE cache_date = ?", [f"{shift.total_seconds()} seconds", HEALTHY])
    after = run_at(run_suite, late, history, HEALTHY, "09:00")
    arrival = after.verdict("arrival")
    assert arrival["severity"] == "ERROR" and arrival["message"].startswith("landed 07:10, 1 h 10 m after ready_by"), \
        arrival["message"]
    assert after.results["gate"]["decision"] == "hold"



def test_the_dst_sunday_morning_is_never_late():
    """2026-03-08: Phase 4's 02:00 start runs at 03:00 EDT; at 03:05 EDT (2 h 05 m after midnight)
    a table that usually lands 02:00–02:29 is not late yet by the clock its landings are read in."""
    sunday = dt.date(2026, 3, 8)
    values = {"row_count": 0, "games_scheduled": 5, "teams_playing": 10, "max_processed_at": None}
    context = JudgeContext(as_of=dt.datetime(2026, 3, 8, 7, 5, tzinfo=dt.timezone.utc), check_date=sunday, timezone=NY,
                           arrival=ArrivalContext(LANDINGS))
    judgement = DIMENSIONS["arrival"].judge(values, TABLE, LIMITS, context)
    assert judgement.severity is Severity.OK, judgement.message
    assert judgement.message.startswith("not due yet: lands 02:01–02:28") and judgement.message.endswith("as of 03:05, 0 rows")


def test_rows_a_few_minutes_ahead_of_the_clock_have_landed():
    """Clock skew: rows stamped 2 min after the as-of time are there; 2 h after, a replay's future."""
    skewed = judged("05:48", rows=250, landed="05:50")
    assert skewed.severity is Severity.WARNING and skewed.message.startswith("landed 05:50, within 30 min")
    assert judged("03:48", rows=250, landed="05:50").message.endswith("after the as-of time)")


def test_a_day_off_is_a_final_go_once_the_margin_passed(morning, run_suite, tmp_path):
    run = run_at(run_suite, morning, tmp_path / "history.duckdb", dt.date(2026, 2, 15), "05:45")
    assert run.results["gate"]["decision"] == "go" and run.results["gate"]["final"] is True
    assert run.results["gate"]["tables"] == {} and run.ret == 0


def test_a_replay_with_an_earlier_as_of_records_no_gate(morning, run_suite, tmp_path):
    history = tmp_path / "history.duckdb"
    with freeze_time(utc_of(HEALTHY, "05:50")):
        replay = run_suite(f"--database={morning.path}", f"--date={HEALTHY}", f"--history={history}",
                           f"--as-of={HEALTHY}T01:30")
    assert replay.results["gate"]["recorded"] is False
    assert "Gate: go for 2026-03-23 (not final: before ready_by minus the margin) (not recorded: --as-of replays an " \
           "earlier moment)" in replay.stdout
    connection = duckdb.connect(str(history), read_only=True)
    try:
        assert connection.execute("SELECT count(*) FROM metric_history WHERE name = 'gate'").fetchone() == (0,)
    finally:
        connection.close()


def test_a_backfill_of_a_night_judged_not_landed_is_judged_late(morning, run_suite, tmp_path):
    """A night a run saw with 0 rows, backfilled two days later: its first landing is the backfill,
    an ERROR "after ready_by", never SKIPPED "not known" (that is for a date nobody judged)."""
    history = tmp_path / "history.duckdb"
    backfilled = tmp_path / "backfilled.duckdb"
    shutil.copyfile(morning.path, backfilled)
    for table, column in (("player_daily_cache", "cache_date"), ("player_composite_factors", "game_date")):
        morning.execute(f"DELETE FROM nba_precompute.{table} WHERE {column} = ?", [HEALTHY])
        Warehouse(backfilled).execute(f"UPDATE nba_precompute.{table} SET processed_at = processed_at + INTERVAL 2 DAY "
                                      f"WHERE {column} = ?", [HEALTHY])
    missing = run_at(run_suite, morning, history, HEALTHY, "09:00")
    assert missing.verdict("arrival")["severity"] == "CRITICAL"
    shutil.copyfile(backfilled, morning.path)   # the same warehouse (its history is its own), backfilled
    with freeze_time(utc_of(HEALTHY + dt.timedelta(days=3), "09:00")):
        later = run_suite(f"--database={morning.path}", f"--date={HEALTHY}", f"--history={history}")
    arrival = later.verdict("arrival")
    assert arrival["severity"] == "ERROR", arrival["message"]
    assert re.match(r"landed 0[12]:\d\d 2 days later, 4\d h \d\d m after ready_by 06:00", arrival["message"]), \
        arrival["message"]
    # a date no run judged before, backfilled the same way, stays unknown
    fresh = tmp_path / "fresh.duckdb"
    with freeze_time(utc_of(HEALTHY + dt.timedelta(days=3), "09:00")):
        unknown = run_suite(f"--database={morning.path}", f"--date={HEALTHY}", f"--history={fresh}")
    assert unknown.verdict("arrival")["severity"] == "SKIPPED"
    assert "the night's landing is not known" in unknown.verdict("arrival")["message"]
