"""As-of rules for staleness, with the clock frozen: now for today, the deadline for a past date."""

from __future__ import annotations

import datetime as dt

from freezegun import freeze_time

from feature_store_health.clock import as_of_for, today_in

NY = "America/New_York"
NINE = dt.time(9, 0)


def test_past_date_is_measured_at_its_deadline_new_york_time():
    now = dt.datetime(2026, 11, 25, 17, 0, tzinfo=dt.timezone.utc)
    winter = as_of_for(dt.date(2026, 2, 5), explicit=None, deadline=NINE, timezone=NY, now=now)
    summer = as_of_for(dt.date(2026, 4, 2), explicit=None, deadline=NINE, timezone=NY, now=now)
    assert winter == dt.datetime(2026, 2, 5, 14, 0, tzinfo=dt.timezone.utc)  # EST, UTC-5
    assert summer == dt.datetime(2026, 4, 2, 13, 0, tzinfo=dt.timezone.utc)  # EDT, UTC-4


def test_today_is_measured_now_and_today_is_new_york_today():
    # 03:30 UTC on Feb 6 is still Feb 5 in New York
    now = dt.datetime(2026, 2, 6, 3, 30, tzinfo=dt.timezone.utc)
    assert today_in(NY, now) == dt.date(2026, 2, 5)
    assert as_of_for(dt.date(2026, 2, 5), explicit=None, deadline=NINE, timezone=NY, now=now) == now


def test_explicit_as_of_wins():
    now = dt.datetime(2026, 2, 5, 12, 0, tzinfo=dt.timezone.utc)
    explicit = dt.datetime(2026, 2, 4, 9, 0, tzinfo=dt.timezone.utc)
    assert as_of_for(dt.date(2026, 2, 1), explicit=explicit, deadline=NINE, timezone=NY, now=now) == explicit


@freeze_time("2026-02-05 20:00:00")  # 15:00 in New York, the same day
def test_run_for_today_measures_staleness_now(warehouse, run_suite):
    run = run_suite(f"--database={warehouse.path}")
    assert run.results["dates"] == ["2026-02-05"]
    assert run.results["as_of"] == {"2026-02-05": "2026-02-05T20:00:00+00:00"}
    staleness = run.verdict("staleness")
    # processed around 02:00 New York (07:00 UTC): 13 hours before 20:00 UTC
    assert 12.5 < staleness["value"] < 13.5
    assert staleness["severity"] == "OK"


@freeze_time("2026-02-08 15:00:00")  # three days later: a run for today would see 80 h
def test_backfill_check_of_a_past_date_uses_the_deadline(warehouse, run_suite):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05")
    assert run.results["as_of"] == {"2026-02-05": "2026-02-05T14:00:00+00:00"}
    assert run.verdict("staleness")["severity"] == "OK"
    assert run.ret == 0


@freeze_time("2026-02-05 20:00:00")
def test_as_of_flag_wins_and_naive_times_are_new_york(warehouse, run_suite):
    run = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--as-of=2026-02-08T09:00")
    assert run.results["as_of"] == {"2026-02-05": "2026-02-08T14:00:00+00:00"}
    staleness = run.verdict("staleness")
    assert staleness["severity"] == "CRITICAL"  # ~79 hours after the 02:00 run
    assert 78.5 < staleness["value"] < 79.5
    assert run.ret == 1
    utc = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", "--as-of=2026-02-06T08:00:00Z")
    assert utc.results["as_of"] == {"2026-02-05": "2026-02-06T08:00:00+00:00"}
    assert utc.verdict("staleness")["severity"] == "WARNING"
