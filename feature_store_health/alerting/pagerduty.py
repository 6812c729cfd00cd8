"""PagerDuty Events API v2 (opt-in ``[pagerduty]``): a ``trigger`` when an incident at a paging
severity opens or gets worse than PagerDuty was last told, a ``resolve`` when it is OK again.

Our incident (table, dimension, date) is PagerDuty's ``dedup_key``, so a trigger sent twice lands
on one PagerDuty incident and a resolve closes it. What PagerDuty was told is this channel's own
state under ``channels["pagerduty"]`` of the incident's record (alerting/oncall.py), written only
for what PagerDuty accepted: a failed event is sent again by the next run. The routing key comes
from the environment variable ``routing_key_env`` names, travels only in the request body, and is
taken out of every text an answer brings back (alerting/secret.py). A failure is a note: never a
verdict, never the exit code.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from typing import Any, Callable, Mapping, NamedTuple, TYPE_CHECKING

from feature_store_health.alerting.http import RetryPolicy, post, retry_transient
from feature_store_health.alerting.incidents import (
    CLOSED, RESOLVED, Assessment, Incident, IncidentEvent, IncidentState,
)
from feature_store_health.alerting.oncall import ChannelResult
from feature_store_health.alerting.secret import Redactor, Secret
from feature_store_health.checks.verdict import Severity, Verdict

if TYPE_CHECKING:
    from feature_store_health.alerting.pagerduty_config import PagerDutyConfig
    from feature_store_health.run import HealthRun

__all__ = ["CHANNEL", "RESOLVE", "TRIGGER", "Planned", "action_for", "dedup_key", "plan", "resolve_body",
           "send_events", "pagerduty_channel", "trigger_body"]

CHANNEL = "pagerduty"
TRIGGER, RESOLVE = "trigger", "resolve"
CLIENT = "feature-store-health"
# our severity -> PagerDuty's (critical, error, warning, info)
PD_SEVERITY = {"CRITICAL": "critical", "ERROR": "error", "WARNING": "warning", "NOT_EVALUATED": "error"}
SUMMARY_LIMIT = 1024   # PagerDuty cuts payload.summary there


def dedup_key(incident: Incident) -> str:
    return f"feature-store-health/{incident.table}/{incident.dimension}/{incident.check_date.isoformat()}"


def _rank(severity: str) -> int:
    return Severity(severity).rank


def told(state: IncidentState | None) -> Mapping[str, Any] | None:
    """What PagerDuty was last told about an incident and has not been resolved: its channel
    state ``{"severity", "triggered_at", "resolved_at": None}``; None: nothing open there."""
    channels = state.channels if state is not None else None
    recorded = (channels or {}).get(CHANNEL)
    if not isinstance(recorded, Mapping) or recorded.get("resolved_at") is not None:
        return None
    return recorded if recorded.get("severity") in PD_SEVERITY else None


def pages(severity: str, severities: tuple[str, ...]) -> bool:
    """Whether a verdict of ``severity`` pages; NOT_EVALUATED pages with ERROR, as it ranks."""
    return (severity if severity != "NOT_EVALUATED" else "ERROR") in severities


def action_for(event: IncidentEvent, severities: tuple[str, ...]) -> str | None:
    """``trigger``, ``resolve`` or None (nothing to tell) for one incident event.

    Muted: nothing. OK again (resolved, or closed without a Slack alert): a resolve when PagerDuty
    holds it open. At a paging severity: a trigger when PagerDuty holds nothing open for it, or
    holds it at a lower severity. Unchanged, repeated, better, or below the paging severities:
    nothing (an incident triggered at ERROR and WARNING now stays open until it is OK)."""
    if event.muted is not None:
        return None
    open_there = told(event.previous)
    if event.kind in (RESOLVED, CLOSED):
        return RESOLVE if open_there is not None else None
    if not pages(event.severity, severities):
        return None
    if open_there is None or _rank(event.severity) > _rank(open_there["severity"]):
        return TRIGGER
    return None


def _value(value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".")
    return str(value)


def _url_or_none(location: str | None) -> str | None:
    return location if location and location.startswith(("https://", "http://")) else None


def trigger_body(event: IncidentEvent, verdict: Verdict | None, run: "HealthRun", config: "PagerDutyConfig",
                 report: str | None) -> dict[str, Any]:
    """The trigger event without its routing key: summary (the value against its threshold),
    PagerDuty severity, the runbook link and the rerun command."""
    from feature_store_health.checks.dimensions import DIMENSIONS

    incident = event.incident
    label = DIMENSIONS[incident.dimension].label if incident.dimension in DIMENSIONS else incident.dimension
    value, threshold = (_value(verdict.value), verdict.threshold_text()) if verdict is not None else ("n/a", "")
    summary = (f"{event.severity} {incident.table} · {label} · {incident.check_date}: {event.message} "
               f"(value {value}" + (f"; {threshold}" if threshold else "") + ")")
    if len(summary) > SUMMARY_LIMIT:
        summary = summary[:SUMMARY_LIMIT - 1] + "…"
    runbook = run.runbook_link(incident.dimension)
    links = [{"href": runbook, "text": f"Runbook: {label}"}] if _url_or_none(runbook) else []
    if _url_or_none(report):
        links.append({"href": report, "text": "Health report"})
    body: dict[str, Any] = {
        "event_action": TRIGGER,
        "dedup_key": dedup_key(incident),
        "client": CLIENT,
        "payload": {
            "summary": summary,
            "source": config.source,
            "severity": PD_SEVERITY[event.severity],
            "timestamp": event.now.astimezone(dt.timezone.utc).isoformat(),
            "component": incident.table,
            "group": incident.dimension,
            "class": label,
            "custom_details": {
                "table": incident.table, "dimension": incident.dimension, "date": incident.check_date.isoformat(),
                "severity": event.severity, "message": event.message, "value": value, "threshold": threshold,
                "opened_at": event.opened_at.astimezone(dt.timezone.utc).isoformat(),
                "runbook": runbook, "rerun": run.rerun_command(), "report": report,
            },
        },
        "links": links,
    }
    if _url_or_none(report):
        body["client_url"] = report
    return body


def resolve_body(incident: Incident) -> dict[str, Any]:
    """PagerDuty needs only the key for a resolve: the payload would be ignored."""
    return {"event_action": RESOLVE, "dedup_key": dedup_key(incident)}


class Planned(NamedTuple):
    incident: Incident
    action: str                       # TRIGGER or RESOLVE
    severity: str                     # ours: the trigger's, or what PagerDuty held (a resolve)
    body: dict[str, Any]              # the event without its routing key
    state: Mapping[str, Any]          # the channel state to record once PagerDuty accepted it


def plan(run: "HealthRun", assessment: Assessment, config: "PagerDutyConfig", report: str | None) -> list[Planned]:
    """This run's events: triggers first (they wake someone), then resolves, then the resolves a
    previous run could not deliver for incidents closed since."""
    verdicts = {(v.table, v.dimension, v.check_date): v for v in run.verdicts}
    triggers, resolves = [], []
    for event in assessment.events:
        action = action_for(event, config.severities)
        moment = event.now.astimezone(dt.timezone.utc).isoformat()
        if action == TRIGGER:
            body = trigger_body(event, verdicts.get(tuple(event.incident)), run, config, report)
            triggers.append(Planned(event.incident, TRIGGER, event.severity, body,
                                    {"severity": event.severity, "triggered_at": moment, "resolved_at": None}))
        elif action == RESOLVE:
            held = told(event.previous)
            assert held is not None
            resolves.append(Planned(event.incident, RESOLVE, str(held["severity"]), resolve_body(event.incident),
                                    {**held, "resolved_at": moment}))
    touched = {event.incident for event in assessment.events}
    now = run.started_at.astimezone(dt.timezone.utc).isoformat()
    from feature_store_health.alerting.oncall import closed_but_held

    for incident, state in closed_but_held(run, CHANNEL, touched):
        held = told(state)
        if held is None:   # recorded, but not at a severity PagerDuty was told of
            continue
        resolves.append(Planned(incident, RESOLVE, str(held["severity"]), resolve_body(incident),
                                {**held, "resolved_at": now}))
    return triggers + resolves


class Sent(NamedTuple):
    planned: Planned
    delivered: bool
    attempts: int
    detail: str


def send_events(events: list[Planned], routing_key: Secret, config: "PagerDutyConfig", *,
                sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> list[Sent]:
    """POST each event; 429, 5xx, timeouts and connection errors are retried (a trigger or
    resolve sent twice is one event to PagerDuty: the dedup_key). All the run's events share
    ``total_seconds``: PagerDuty down costs the run that long, not that long per event."""
    deadline = clock() + config.total_seconds
    redactor = Redactor(routing_key)
    outcomes = []
    for planned in events:
        remaining = deadline - clock()
        if remaining <= 0:
            outcomes.append(Sent(planned, False, 0, f"not attempted: the {config.total_seconds:g} s limit was used up"))
            continue
        policy = RetryPolicy(config.timeout_seconds, remaining, config.max_attempts, retry_transient)
        result = post(config.events_url, {"routing_key": routing_key.reveal(), **planned.body}, policy,
                      redactor=redactor, sleep=sleep, clock=clock)
        # the limit passed is the run's, whatever part of it this event had left
        detail = result.detail.replace(f"the {remaining:g} s limit", f"the {config.total_seconds:g} s limit")
        status = result.answer.status
        if not result.answer.ok and status is not None and status < 500 and status != 429:
            detail += " (not retried: check the routing key and the event)"
        outcomes.append(Sent(planned, result.answer.ok, result.attempts, detail))
    return outcomes


def _count(planned: list[Planned]) -> str:
    """``1 trigger``, ``2 triggers, 1 resolve``."""
    parts = []
    for action in (TRIGGER, RESOLVE):
        number = sum(item.action == action for item in planned)
        if number:
            parts.append(f"{number} {action}{'s' if number != 1 else ''}")
    return ", ".join(parts)


def _attempts(number: int) -> str:
    return f"{number} attempt{'s' if number != 1 else ''}"


def _event_json(planned: Planned, status: str, detail: str, attempts: int) -> dict[str, Any]:
    return {"dedup_key": dedup_key(planned.incident), "action": planned.action, "severity": planned.severity,
            "status": status, "detail": detail, "attempts": attempts}


def _quiet_note(assessment: Assessment) -> str:
    """Why nothing was sent: ``PagerDuty: no event (1 incident already triggered, 1 muted)``."""
    held = sum(told(event.previous) is not None and event.kind not in (RESOLVED, CLOSED)
               for event in assessment.events)
    muted = len(assessment.muted)
    parts = ([f"{held} incident{'s' if held != 1 else ''} already triggered"] if held else []) + \
        ([f"{muted} muted"] if muted else [])
    return "PagerDuty: no event" + (f" ({', '.join(parts)})" if parts else "")


def pagerduty_channel(run: "HealthRun", assessment: Assessment | None, report: str | None) -> ChannelResult | None:
    """The channel (alerting/oncall.py CHANNELS): None when ``[pagerduty]`` is not configured."""
    config: PagerDutyConfig | None = run.config.pagerduty
    if config is None:
        return None
    if assessment is None:
        why = ("--no-history" if run.settings.history_off else "a --model run" if run.settings.model is not None
               else "the history could not be read")
        note = f"PagerDuty: no event: {why} (incidents are kept in the history)"
        return ChannelResult(CHANNEL, note, {"sent": 0, "failed": 0, "events": [], "detail": note.removeprefix("PagerDuty: ")}, {})
    events = plan(run, assessment, config, report)
    value = os.environ.get(config.routing_key_env, "").strip()
    if not value:
        detail = f"not sent: ${config.routing_key_env} is not set"
        note = (f"WARNING: PagerDuty {detail}" + (f" ({_count(events)} due)" if events else "")
                + "; the data verdict and exit code stand")
        return ChannelResult(CHANNEL, note, {"sent": 0, "failed": 0, "detail": detail, "events": [
            _event_json(planned, "not sent", detail, 0) for planned in events]}, {})
    if not events:
        note = _quiet_note(assessment)
        return ChannelResult(CHANNEL, note, {"sent": 0, "failed": 0, "events": [], "detail": note.removeprefix("PagerDuty: ")}, {})
    outcomes = send_events(events, Secret(value, "PagerDuty routing key"), config)
    return _result(run, outcomes)


def _result(run: "HealthRun", outcomes: list[Sent]) -> ChannelResult:
    delivered = [sent for sent in outcomes if sent.delivered]
    failed = [sent for sent in outcomes if not sent.delivered]
    states: dict[Incident, Mapping[str, Any]] = {}
    for sent in delivered:   # a closed incident's resolve too: its record is written again (oncall.closed_records)
        states[sent.planned.incident] = sent.planned.state
    attempts = sum(sent.attempts for sent in outcomes)
    sent_text = (f"{_count([sent.planned for sent in delivered])} sent "
                 f"({delivered[-1].detail}, {_attempts(sum(sent.attempts for sent in delivered))})") if delivered else ""
    if not failed:
        note = f"PagerDuty: {sent_text}"
    else:
        last = failed[-1]
        note = (f"WARNING: PagerDuty: {_count([sent.planned for sent in failed])} not delivered after "
                f"{_attempts(sum(sent.attempts for sent in failed))}: {last.detail}"
                + (f"; {sent_text}" if sent_text else "")
                + "; the next run tries again; the data verdict and exit code stand")
    json = {"sent": len(delivered), "failed": len(failed), "attempts": attempts,
            "detail": note.removeprefix("WARNING: ").removeprefix("PagerDuty: "),
            "events": [_event_json(sent.planned, "sent" if sent.delivered else "failed", sent.detail, sent.attempts)
                       for sent in outcomes]}
    return ChannelResult(CHANNEL, note, json, states)
