"""The run's Slack alert: which message (from the incidents, or from the status without a
history), its delivery, and what the run records and reports of it.

With a readable history, a message goes out only when an incident opened, got worse, is due
again, or resolved (``--slack-on=always``: every run); the incident states the run records say
what was delivered, so a message that did not arrive is sent again by the next run. Without one
(``--no-history``, unreadable), the status decides, as ``should_alert`` says.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Callable, NamedTuple, TYPE_CHECKING

from feature_store_health.alerting.incident_messages import (
    DIGEST, marks, message_kind, quiet_note, resolved_line, resolved_message, summary,
)
from feature_store_health.alerting.incidents import RESOLVED, Assessment, assess, recorded_states
from feature_store_health.alerting.secret import redact
from feature_store_health.alerting.slack import alert_status, build_message, send, should_alert

if TYPE_CHECKING:
    from feature_store_health.run import HealthRun

__all__ = ["AlertResult", "alert", "incidents_json", "incidents_of"]


class AlertResult(NamedTuple):
    note: str                        # the console line
    sent: bool
    detail: str
    assessment: Assessment | None    # None: no readable history (alerted on the status)

    def slack_json(self) -> dict[str, Any]:
        """The results JSON's ``slack``: never the webhook."""
        return {"sent": self.sent, "detail": self.detail,
                "events": self.assessment.counts() if self.assessment is not None else {}}

    def incidents_json(self) -> list[dict[str, Any]]:
        return incidents_json(self.assessment, self.sent)


def incidents_json(assessment: Assessment | None, delivered: bool) -> list[dict[str, Any]]:
    """The results JSON's ``incidents``: each incident the run judged, as it stands after it
    (``delivered``: the webhook's message carrying the events arrived)."""
    if assessment is None:
        return []
    rows = []
    for event in assessment.events:
        state = event.after(delivered and event.sends)
        rows.append({"table": event.incident.table, "dimension": event.incident.dimension,
                     "date": event.incident.check_date.isoformat(), "severity": event.severity,
                     "event": event.kind, "opened_at": state.opened_at.isoformat(),
                     "alerted_at": state.alerted_at.isoformat() if state.alerted_at else None})
    return rows


def incidents_of(run: "HealthRun") -> Assessment | None:
    """This run's incident events from the recorded states; None without a readable history."""
    from feature_store_health.history import HistoryError

    if run.settings.history_off or run.settings.model is not None:
        return None   # a --model run records no incident: its verdicts are the model's, not the table's
    try:
        history = run.run_dates_history()   # the run's dates: where its incidents are recorded
    except HistoryError:
        return None
    repeat_after = dt.timedelta(hours=run.config.slack.repeat_after_hours)
    return assess(recorded_states(history), run.verdicts, run.started_at.astimezone(dt.timezone.utc),
                  repeat_after, run.settings.slack_on, muted=run.mutes.of)


def muted_note(run: "HealthRun") -> str | None:
    """``2 checks not OK muted (production_readiness until 2026-02-20, anomalies until 2026-02-20)``."""
    muted = run.mutes.muted_verdicts(run.verdicts)
    if not muted:
        return None
    which = ", ".join(dict.fromkeys(f"{verdict.dimension} until {mute.until}" for verdict, mute in muted))
    return f"{len(muted)} check{'s' if len(muted) != 1 else ''} not OK muted ({which})"


def alert(run: "HealthRun", report_location: str | None,
          reshape: Callable[[dict[str, Any]], dict[str, Any] | None], assessment: Assessment | None) -> AlertResult:
    """Decide, build, reshape (the conftest hook), send. The incident states are the caller's to
    record (alerting/oncall.py), delivered as ``sent`` says. Never raises for a message that could
    not be built or sent."""
    settings, config = run.settings, run.config
    webhook = settings.slack_webhook
    assert webhook is not None
    status = run.status
    # without a history the status decides; a check a mute silences is left out of it (alert_status)
    wanted = should_alert(alert_status(run), settings.slack_on)
    repeat_after = dt.timedelta(hours=config.slack.repeat_after_hours)
    if assessment is None:
        kind = DIGEST if wanted else None
    else:
        kind = message_kind(assessment, settings.slack_on, run.complete, wanted)
    from feature_store_health.alerting.weekly_review import weekly_review

    weekly = weekly_review(run, assessment)
    if weekly is not None:
        kind = DIGEST   # the weekly review goes out on Monday even when no incident changed
    if kind is None:
        note = None
        if assessment is not None:
            note = quiet_note(assessment, repeat_after, config.timezone, run.started_at, settings.slack_on)
        muted = muted_note(run)
        if muted:
            note = f"{note}; {muted}" if note else f"Slack: no message: {muted}"
        note = note or f"Slack: no message (status {status}, --slack-on={settings.slack_on})"
        return AlertResult(note, False, note.removeprefix("Slack: "), assessment)
    try:
        if kind == DIGEST:
            incident_parts: dict[str, Any] = {}
            if assessment is not None:
                every_run = settings.slack_on == "always"
                incident_parts = {"marks": marks(assessment, repeat_after, config.timezone, every_run),
                                  "resolved": [resolved_line(event) for event in assessment.sending_of_kind(RESOLVED)],
                                  "summary": summary(assessment, every_run)}
            message = build_message(run, report_location, weekly=weekly, **incident_parts)
        else:
            message = resolved_message(assessment, config.timezone, report_location)
        outcome = send(webhook, reshape(message) or message, config.slack)
    except Exception as exc:  # an alert must never change the verdict
        detail = redact(f"{type(exc).__name__}: {exc}", webhook)
        return AlertResult(f"WARNING: Slack alert failed: {detail}; the data verdict and exit code stand",
                           False, f"failed: {detail}", assessment)
    attempts = f"{outcome.attempts} attempt{'s' if outcome.attempts != 1 else ''}"
    if outcome.sent:
        what = "resolved message" if kind != DIGEST else "alert"
        return AlertResult(f"Slack: {what} sent ({outcome.detail}, {attempts})", True, outcome.detail, assessment)
    return AlertResult(f"WARNING: Slack alert not delivered after {attempts}: {outcome.detail}; "
                       "the data verdict and exit code stand", False, f"not delivered: {outcome.detail}", assessment)
