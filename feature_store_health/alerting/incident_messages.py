"""What the incidents say in Slack and on the console: marks on the digest's lines, the short
"✅ resolved" message, and the note of a run that sends nothing. Pure text; times in the
configured zone (America/New_York)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from feature_store_health.alerting.incidents import (
    BETTER, OPENED, REPEAT, RESOLVED, UNCHANGED, WORSE, Assessment, Incident, IncidentEvent, duration_text,
)

__all__ = ["DIGEST", "RESOLVED_ONLY", "local_time", "marks", "message_kind", "quiet_note", "resolved_line",
           "resolved_message", "summary"]

DIGEST, RESOLVED_ONLY = "digest", "resolved"


def message_kind(assessment: Assessment, slack_on: str, complete: bool, should_alert: bool) -> str | None:
    """Which message the run sends: the digest when an incident opened, got worse or is due again
    (``always``: every run; an INCOMPLETE run as ``--slack-on`` says: it has no incident of its
    own); the short resolved message when incidents resolved and nothing else is to say; None."""
    if slack_on == "always" or assessment.sending_of_kind(OPENED, WORSE, REPEAT) or (not complete and should_alert):
        return DIGEST
    if assessment.sending_of_kind(RESOLVED):
        return RESOLVED_ONLY
    return None


def local_time(moment: dt.datetime, now: dt.datetime, timezone: str) -> str:
    """``04:00`` on the run's day, ``04:00 tomorrow`` the next, else ``2026-02-04 04:00``."""
    zone = ZoneInfo(timezone)
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    if local.date() == today:
        return f"{local:%H:%M}"
    if local.date() == today + dt.timedelta(days=1):
        return f"{local:%H:%M} tomorrow"
    return f"{local:%Y-%m-%d %H:%M}"


def _name(incident: Incident) -> str:
    return f"{incident.table} · {incident.dimension} · {incident.check_date}"


def _mark(event: IncidentEvent, repeat_after: dt.timedelta, timezone: str, every_run: bool) -> str | None:
    since = local_time(event.opened_at, event.now, timezone)
    previous = event.previous
    if event.kind in (UNCHANGED, BETTER):  # --slack-on=always sends it anyway: only not as news
        return f"still open since {since}" + ("" if every_run else " (not re-sent)")
    if event.kind == REPEAT and previous is not None and previous.alerted_at is None:
        return f"open since {since} (its alert was not delivered)"
    if event.kind == REPEAT:
        return f"still open since {since} (re-sent after {repeat_after.total_seconds() / 3600:g} h)"
    if event.kind == WORSE and previous is not None:
        return f"worse: was {previous.alerted_severity or previous.severity}, open since {since}"
    return None


def marks(assessment: Assessment, repeat_after: dt.timedelta, timezone: str,
          every_run: bool = False) -> dict[tuple[str, str, dt.date], str]:
    """(table, dimension, date) -> what the digest adds to that check's line (``every_run``:
    ``--slack-on=always``)."""
    found = {}
    for event in assessment.events:
        mark = _mark(event, repeat_after, timezone, every_run)
        if mark is not None:
            found[tuple(event.incident)] = mark
    return found


def summary(assessment: Assessment, every_run: bool = False) -> str:
    """``1 new, 1 worse, 2 still open (not re-sent)``, for the message's notification text."""
    parts = [(len(assessment.sending_of_kind(OPENED)), "new"), (len(assessment.sending_of_kind(WORSE)), "worse"),
             (len(assessment.sending_of_kind(REPEAT)), "re-sent"), (len(assessment.sending_of_kind(RESOLVED)), "resolved"),
             (len(assessment.still_open), "still open" + ("" if every_run else " (not re-sent)"))]
    return ", ".join(f"{count} {label}" for count, label in parts if count)


def resolved_line(event: IncidentEvent) -> str:
    """``✅ resolved: player_daily_cache · coverage · 2026-03-27 is OK again after 5 h 0 m``."""
    return f"✅ resolved: {_name(event.incident)} is OK again after {duration_text(event.open_for)}"


def resolved_message(assessment: Assessment, timezone: str, report_location: str | None) -> dict[str, Any]:
    """The short message of a run whose only news is incidents resolved; the incidents still open
    (not re-sent) are named below."""
    lines = [resolved_line(event) for event in assessment.sending_of_kind(RESOLVED)]
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": _escape("\n".join(lines))}}]
    still = [f"still open since {local_time(event.opened_at, event.now, timezone)} (not re-sent): {_name(event.incident)}"
             for event in assessment.still_open]
    if still:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _escape("\n".join(still))}})
    if report_location:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Report: {_escape(report_location)}"}]})
    text = lines[0] if len(lines) == 1 else f"✅ resolved: {len(lines)} incidents are OK again"
    return {"text": text, "blocks": blocks}


def quiet_note(assessment: Assessment, repeat_after: dt.timedelta, timezone: str, now: dt.datetime,
               slack_on: str) -> str | None:
    """Why a run with open incidents sends nothing: ``Slack: no message: 2 incidents still open,
    alerted at 04:00 (not re-sent before 04:00 tomorrow)``. None: no incident is open."""
    still = assessment.still_open
    if not still:
        return None
    count = f"{len(still)} incident{'s' if len(still) != 1 else ''} still open"
    alerted = sorted({event.previous.alerted_at for event in still
                      if event.previous is not None and event.previous.alerted_at is not None})
    if not alerted:
        return f"Slack: no message: {count}, below --slack-on={slack_on}"
    times = ", ".join(dict.fromkeys(local_time(moment, now, timezone) for moment in alerted))
    # an improvement short of OK is not repeated: the earliest due is of those unchanged
    due = [event.previous.alerted_at + repeat_after for event in still if event.kind == UNCHANGED
           and event.previous is not None and event.previous.alerted_at is not None]
    then = f" (not re-sent before {local_time(min(due), now, timezone)})" if due else " (better since: not re-sent)"
    return f"Slack: no message: {count}, alerted at {times}{then}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
