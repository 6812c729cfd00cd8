"""The weekly ops review: a ``--days=7`` run on a Monday (New York) adds the dashboard's 7-day
summary to the Slack webhook digest, and makes sure a digest goes out that morning.

The message leaves before the run writes its history (the incident records say whether it was
delivered), so the summary is the history the run read (its 7 dates are in it) with this run's
own incident states laid over it as they stand once the message arrives, and the landings as the
run sees them. The dashboard, rebuilt from the history after the write, then shows the same.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from feature_store_health.clock import today_in
from feature_store_health.reporting.dashboard_data import (
    LandingDay, Summary, age_text, incident_states, landing_of, summarize,
)

if TYPE_CHECKING:
    from feature_store_health.alerting.incidents import Assessment
    from feature_store_health.run import HealthRun

__all__ = ["WEEK_DAYS", "is_weekly_review", "weekly_review"]

WEEK_DAYS = 7
MONDAY = 0


def is_weekly_review(run: "HealthRun") -> bool:
    """A ``--days=7`` run started on a Monday in the deadline time zone."""
    return run.settings.days == WEEK_DAYS and today_in(run.config.timezone, run.started_at).weekday() == MONDAY


def weekly_review(run: "HealthRun", assessment: "Assessment | None") -> str | None:
    """The digest's section (mrkdwn), or None: not a weekly review, or no readable history."""
    from feature_store_health.history import HistoryError

    if assessment is None or not is_weekly_review(run):
        return None
    try:
        history = run.history()
    except HistoryError:
        return None
    dates = list(run.settings.dates)
    states = incident_states({key: values for key, values in history.items() if key[1] in set(dates)})
    for event in assessment.events:   # this run's, as recorded once its message is delivered
        states[event.incident] = event.after(event.sends)
    lines = [f"*Weekly ops review* · {dates[0]} … {dates[-1]}"]
    for table in run.config.tables:
        landings = {day: _landing(run, table.name, day) or landing_of(history.get((table.name, day))) for day in dates}
        summary = summarize(table, dates, states, landings, run.config.timezone)
        lines.append(_line(table.name, summary, f"{table.ready_by:%H:%M}"))
    return "\n".join(lines)


def _landing(run: "HealthRun", table_name: str, day: dt.date) -> LandingDay | None:
    """The date's landing as this run judged it (its first landing); None where it judged none."""
    try:
        landing = run.landing(table_name, day)
    except Exception:  # a table whose query failed: the recorded landing stands
        return None
    if landing is None:
        return None
    return LandingDay(True, landing.at if landing.landed else None)


def _line(table: str, summary: Summary, ready_by: str) -> str:
    resolve = ""
    if summary.resolve_median is not None and summary.resolve_worst is not None:
        resolve = f" (median {age_text(summary.resolve_median)}, worst {age_text(summary.resolve_worst)})"
    channels = "".join(f", {name} {count}" for name, count in summary.channels.items())
    not_landed = f", {summary.never_landed} not landed" if summary.never_landed else ""
    return (f"• *{table}*: {summary.opened} incidents opened, {summary.resolved} resolved{resolve}, "
            f"{summary.still_open} still open; {summary.alerts} alerted (webhook {summary.alerted}{channels}); "
            f"{summary.late} of {summary.due} game days landed after ready_by {ready_by}{not_landed}")
