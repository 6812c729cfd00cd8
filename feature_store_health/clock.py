"""Time rules. UTC inside; the configured zone (America/New_York) only at the edges."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

__all__ = ["as_of_for", "first_date_with_baseline", "now_utc", "today_in"]


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def today_in(timezone: str, now: dt.datetime | None = None) -> dt.date:
    return (now or now_utc()).astimezone(ZoneInfo(timezone)).date()


def as_of_for(
    check_date: dt.date,
    *,
    explicit: dt.datetime | None,
    deadline: dt.time,
    timezone: str,
    now: dt.datetime,
) -> dt.datetime:
    """The time staleness of ``check_date`` is measured at, in UTC.

    ``--as-of`` wins. Otherwise today's (or a future) date is measured now, and a past date at
    its check deadline (09:00 New York on that date), so a backfill check of last month is not
    failed for being last month.
    """
    if explicit is not None:
        return explicit.astimezone(dt.timezone.utc)
    if check_date >= today_in(timezone, now):
        return now.astimezone(dt.timezone.utc)
    local_deadline = dt.datetime.combine(check_date, deadline, tzinfo=ZoneInfo(timezone))
    return local_deadline.astimezone(dt.timezone.utc)


def first_date_with_baseline(lookback_days: int, days: int) -> dt.date:
    """The earliest --date whose run can look back for baselines: its first date's lookback
    window, and the day before it (the baseline walks back one day past the window), must be
    dates Python can hold (from 0001-01-01), else date arithmetic overflows mid-run."""
    return dt.date.fromordinal(dt.date.min.toordinal() + lookback_days + 1 + days - 1)
