"""Judging is a pure function of fetched metric values: every rule at every severity, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from feature_store_health.checks.dimensions import DIMENSIONS, JudgeContext, band
from feature_store_health.checks.verdict import Severity, overall_status
from feature_store_health.config import load_config

CONFIG = load_config()
TABLE = CONFIG.tables[0]
AS_OF = dt.datetime(2026, 2, 5, 14, 0, tzinfo=dt.timezone.utc)
FEATURES = TABLE.critical_features


def values(**overrides):
    rows = overrides.get("row_count", 200)
    base = {
        "row_count": rows, "games_scheduled": 9, "teams_playing": 18,
        "production_ready_count": rows, "complete_count": rows, "tier_null_count": 0,
        "tier_count__excellent": rows, "tier_count__good": 0, "tier_count__acceptable": 0, "tier_count__poor": 0,
        "active_predictions": 700, "max_processed_at": AS_OF - dt.timedelta(hours=7),
        **{f"null_count__{feature}": 0 for feature in FEATURES},
    }
    base.update(overrides)
    return base


def judge(dimension: str, metric_values, as_of=AS_OF):
    return DIMENSIONS[dimension].judge(metric_values, TABLE, TABLE.thresholds[dimension], JudgeContext(as_of))


@pytest.mark.parametrize(
    ("value", "direction", "expected"),
    [
        (98.0, "below", Severity.OK), (97.99, "below", Severity.WARNING), (95.0, "below", Severity.WARNING),
        (94.99, "below", Severity.ERROR), (90.0, "below", Severity.ERROR), (89.99, "below", Severity.CRITICAL),
        (2.0, "above", Severity.OK), (2.01, "above", Severity.WARNING), (5.01, "above", Severity.ERROR),
        (10.0, "above", Severity.ERROR), (10.01, "above", Severity.CRITICAL),
    ],
)
def test_band_is_strict_at_the_limits(value, direction, expected):
    limits = {f"warning_{direction}": 98 if direction == "below" else 2,
              f"error_{direction}": 95 if direction == "below" else 5,
              f"critical_{direction}": 90 if direction == "below" else 10}
    assert band(value, limits, direction) is expected


@pytest.mark.parametrize(
    ("rows", "teams", "games", "severity", "message"),
    [
        (252, 18, 9, Severity.OK, "252 records found (18 teams playing, 14.0 per team)"),
        (180, 18, 9, Severity.OK, "180 records found (18 teams playing, 10.0 per team)"),
        (179, 18, 9, Severity.WARNING, "179 records found: 9.9 per team playing (18 teams), below 10"),
        # the old flat "< 100 rows" cried wolf on light slates: 4 teams, 60 rows is fine
        (60, 4, 2, Severity.OK, "60 records found (4 teams playing, 15.0 per team)"),
        (0, 18, 9, Severity.CRITICAL, "0 records found while 9 games are scheduled"),
        (0, 0, 0, Severity.OK, "no games scheduled (0 records found)"),
    ],
)
def test_coverage(rows, teams, games, severity, message):
    judgement = judge("coverage", values(row_count=rows, teams_playing=teams, games_scheduled=games))
    assert (judgement.severity, judgement.value, judgement.message) == (severity, rows, message)


@pytest.mark.parametrize(
    ("dimension", "metric", "count", "severity", "value"),
    [
        ("production_readiness", "production_ready_count", 196, Severity.OK, 98.0),
        ("production_readiness", "production_ready_count", 195, Severity.WARNING, 97.5),
        ("production_readiness", "production_ready_count", 189, Severity.ERROR, 94.5),
        ("production_readiness", "production_ready_count", 179, Severity.CRITICAL, 89.5),
        ("completeness", "complete_count", 196, Severity.OK, 98.0),
        ("completeness", "complete_count", 195, Severity.WARNING, 97.5),
        ("completeness", "complete_count", 189, Severity.ERROR, 94.5),
        ("completeness", "complete_count", 179, Severity.CRITICAL, 89.5),
        ("quality_tiers", "tier_count__poor", 4, Severity.OK, 2.0),
        ("quality_tiers", "tier_count__poor", 5, Severity.WARNING, 2.5),
        ("quality_tiers", "tier_count__poor", 11, Severity.ERROR, 5.5),
        ("quality_tiers", "tier_count__poor", 21, Severity.CRITICAL, 10.5),
        ("null_rates", "null_count__ts_pct_last_10", 4, Severity.OK, 2.0),
        ("null_rates", "null_count__ts_pct_last_10", 5, Severity.WARNING, 2.5),
        ("null_rates", "null_count__ts_pct_last_10", 11, Severity.ERROR, 5.5),
        ("null_rates", "null_count__ts_pct_last_10", 21, Severity.CRITICAL, 10.5),
    ],
)
def test_percentage_dimensions(dimension, metric, count, severity, value):
    judgement = judge(dimension, values(**{metric: count}))
    assert (judgement.severity, judgement.value) == (severity, value)


def test_null_rates_worst_feature_decides_and_every_feature_is_reported():
    judgement = judge("null_rates", values(**{
        "null_count__points_avg_last_10": 3, "null_count__usage_rate_last_10": 16,
        "null_count__minutes_avg_last_10": 1,
    }))
    assert judgement.severity is Severity.ERROR
    assert judgement.value == 8.0
    assert judgement.message == "worst usage_rate_last_10 8.0% NULL (16/200)"
    assert judgement.details["null_pct"] == {
        "points_avg_last_10": 1.5, "minutes_avg_last_10": 0.5, "usage_rate_last_10": 8.0, "ts_pct_last_10": 0.0,
    }


def test_quality_tier_null_on_every_row_is_a_warning_not_populated():
    judgement = judge("quality_tiers", values(tier_null_count=200, tier_count__excellent=0))
    assert judgement.severity is Severity.WARNING
    assert judgement.message == "quality_tier not populated (NULL on all 200 rows)"


@pytest.mark.parametrize(("null_rows", "severity", "message"), [
    (199, Severity.WARNING, "0.0% POOR (0/200); quality_tier NULL on 99.5% of rows (199/200)"),
    (67, Severity.WARNING, "0.0% POOR (0/200); quality_tier NULL on 33.5% of rows (67/200)"),
    (5, Severity.WARNING, "0.0% POOR (0/200); quality_tier NULL on 2.5% of rows (5/200)"),
    (4, Severity.OK, "0.0% POOR (0/200)"),  # exactly 2 %: not above the limit
    (0, Severity.OK, "0.0% POOR (0/200)"),
])
def test_quality_tier_null_on_some_rows_is_a_warning_above_two_percent(null_rows, severity, message):
    judgement = judge("quality_tiers", values(tier_null_count=null_rows, tier_count__excellent=200 - null_rows))
    assert (judgement.severity, judgement.message) == (severity, message)
    assert judgement.details["tier_null_pct"] == round(100 * null_rows / 200, 2)


def test_quality_tier_null_share_and_poor_share_worst_decides():
    judgement = judge("quality_tiers", values(tier_null_count=10, tier_count__poor=22, tier_count__excellent=168))
    assert judgement.severity is Severity.CRITICAL  # 11 % POOR outranks the NULL-tier warning
    assert judgement.message == "11.0% POOR (22/200); quality_tier NULL on 5.0% of rows (10/200)"


@pytest.mark.parametrize(
    ("hours", "severity"),
    [(7, Severity.OK), (24, Severity.OK), (24.5, Severity.WARNING), (48.5, Severity.ERROR), (72.5, Severity.CRITICAL),
     (-3, Severity.OK)],
)
def test_staleness(hours, severity):
    judgement = judge("staleness", values(max_processed_at=AS_OF - dt.timedelta(hours=hours)))
    assert (judgement.severity, judgement.value) == (severity, hours)


def test_staleness_without_any_processed_at_is_an_error():
    judgement = judge("staleness", values(max_processed_at=None))
    assert judgement.severity is Severity.ERROR
    assert "freshness unknown" in judgement.message


def test_downstream_usage():
    assert judge("downstream_usage", values(active_predictions=0)).severity is Severity.WARNING
    judgement = judge("downstream_usage", values(active_predictions=914, row_count=252))
    assert (judgement.severity, judgement.value, judgement.details["conversion"]) == (Severity.OK, 914, 3.63)
    # predictions exist without feature rows: judged, conversion undefined
    judgement = judge("downstream_usage", values(active_predictions=10, row_count=0))
    assert (judgement.severity, judgement.details["conversion"]) == (Severity.OK, None)


# coverage and arrival judge a no-game day (OK: nothing due), schema judges the table's structure on any day
@pytest.mark.parametrize("dimension", [d for d in DIMENSIONS if d not in ("coverage", "schema", "arrival")])
def test_no_games_scheduled_leaves_nothing_to_judge(dimension):
    judgement = judge(dimension, values(games_scheduled=0, teams_playing=0, row_count=0, active_predictions=0))
    assert judgement.severity is Severity.SKIPPED
    assert judgement.message == "no games scheduled: nothing to judge"


@pytest.mark.parametrize("dimension", ["production_readiness", "null_rates", "quality_tiers", "completeness", "staleness",
                                       "uniqueness", "value_ranges"])
def test_zero_rows_with_games_is_left_to_coverage(dimension):
    judgement = judge(dimension, values(row_count=0, max_processed_at=None))
    assert judgement.severity is Severity.SKIPPED
    assert judgement.message == "no rows for this date: see coverage"


NO_GAMES = {"games_scheduled": 0, "teams_playing": 0}
ON = JudgeContext(AS_OF, check_date=dt.date(2026, 3, 3), schedule_table="nba_reference.nba_schedule")


@pytest.mark.parametrize("dimension", ["production_readiness", "null_rates", "quality_tiers", "completeness", "staleness"])
def test_rows_on_a_date_without_games_are_judged(dimension):  # uniqueness, value_ranges: tests/test_game_days.py
    judgement = DIMENSIONS[dimension].judge(values(**NO_GAMES), TABLE, TABLE.thresholds[dimension], ON)
    assert judgement.severity is Severity.OK, judgement.message


def test_rows_on_a_date_without_games_contradict_the_schedule():
    judge_on = lambda dimension, metric_values, ctx=ON: DIMENSIONS[dimension].judge(
        metric_values, TABLE, TABLE.thresholds[dimension], ctx)
    coverage = judge_on("coverage", values(**NO_GAMES))
    assert (coverage.severity, coverage.value, coverage.message) == (
        Severity.ERROR, 200, "200 records found but nba_reference.nba_schedule has no games on 2026-03-03: "
                             "the schedule or the table is wrong")
    usage = judge_on("downstream_usage", values(**NO_GAMES, active_predictions=0))
    assert (usage.severity, usage.message) == (Severity.WARNING, "0 active predictions for 200 feature rows")
    # the schedule cannot tell: NOT_EVALUATED, with or without rows; the other checks judge the rows
    unknown = ON._replace(schedule_gap="schedule has no games after 2026-03-02: cannot tell whether 2026-03-03 is "
                                       "a game day")
    for rows in (0, 200):
        coverage = judge_on("coverage", values(**NO_GAMES, row_count=rows), unknown)
        assert (coverage.severity, coverage.message) == (
            Severity.NOT_EVALUATED, f"not evaluated: {unknown.schedule_gap}; {rows} records found")
    assert judge_on("null_rates", values(**NO_GAMES, row_count=0), unknown).message == "no rows for this date: see coverage"
    assert judge_on("null_rates", values(**NO_GAMES), unknown).severity is Severity.OK


def test_overall_status():
    assert overall_status([Severity.OK, Severity.SKIPPED]) == "HEALTHY"
    assert overall_status([Severity.OK, Severity.WARNING]) == "DEGRADED"
    assert overall_status([Severity.WARNING, Severity.ERROR]) == "UNHEALTHY"
    assert overall_status([Severity.OK, Severity.NOT_EVALUATED]) == "UNHEALTHY"
    assert overall_status([Severity.ERROR, Severity.CRITICAL]) == "CRITICAL"


def test_severity_fails_by_fail_on():
    assert not Severity.WARNING.fails("error")
    assert Severity.WARNING.fails("warning")
    assert Severity.NOT_EVALUATED.fails("error")
    assert not Severity.SKIPPED.fails("warning")


def test_no_rows_past_the_partition_expiration_are_expired_not_an_outage():
    expired = JudgeContext(AS_OF, expired=True)
    coverage = DIMENSIONS["coverage"].judge(values(row_count=0, active_predictions=0), TABLE,
                                            TABLE.thresholds["coverage"], expired)
    assert coverage.severity is Severity.SKIPPED
    assert coverage.message == "0 records found: the date is past the partition expiration, its rows have expired"
    usage = DIMENSIONS["downstream_usage"].judge(values(row_count=0, active_predictions=0), TABLE,
                                                 TABLE.thresholds["downstream_usage"], expired)
    assert usage.severity is Severity.SKIPPED
    # rows that are still there are judged as usual, however old the date
    kept = DIMENSIONS["coverage"].judge(values(row_count=252), TABLE, TABLE.thresholds["coverage"], expired)
    assert kept.severity is Severity.OK
