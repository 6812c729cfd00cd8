"""The Slack bot's incident threads (opt-in; the Incoming Webhook stays the default).

With ``[slack] channel`` and a bot token in ``$SLACK_BOT_TOKEN`` (``bot_token_env``), each incident's
first alert is a parent message whose ``ts`` is recorded with the incident (``channels["slack_bot"]``);
the incidents one run opens share one parent. A later run with news replies in that thread
("worse: ERROR → CRITICAL", "still open since 04:00") instead of posting anew; unchanged within
``repeat_after_hours`` it says nothing. On recovery a reply says so and the parent is edited
(chat.update) to "✅ resolved after 3 h 10 m", or to which of its incidents are.

The bot decides from what *it* delivered: the webhook's rules (alerting/incidents.py ``assess``)
applied to the bot's own record of what it said and when, so a call that failed is made again by
the next run, and the bot works with or without the webhook. Muted incidents send nothing.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Mapping, NamedTuple, TYPE_CHECKING

from feature_store_health.alerting.incident_messages import local_time
from feature_store_health.alerting.incidents import (
    INCIDENT_PREFIX, OPENED, REPEAT, RESOLVED, WORSE, Assessment, Incident, IncidentEvent, IncidentState, assess,
    duration_text,
)
from feature_store_health.alerting.oncall import ChannelResult
from feature_store_health.alerting.secret import Secret
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.alerting.slack_bot_api import BotClient
    from feature_store_health.run import HealthRun

__all__ = ["CHANNEL", "slack_bot"]

CHANNEL = "slack_bot"
_STAND = "the data verdict and exit code stand"


class _Reply(NamedTuple):
    event: IncidentEvent
    text: str
    state: dict[str, Any]     # the bot's state once the reply is delivered


def slack_bot(run: "HealthRun", assessment: Assessment | None, report: str | None) -> ChannelResult | None:
    """The bot's run: None without ``[slack] channel``."""
    config = run.config.slack
    if config.channel is None:
        return None
    value = os.environ.get(config.bot_token_env, "").strip()
    if not value:
        return _quiet(f"off: ${config.bot_token_env} is not set (slack.channel = {config.channel})")
    if assessment is None:
        return _quiet("nothing sent: no incidents this run (--no-history, --model, or an unreadable history)")
    token = Secret(value, "Slack bot token")
    judged = _bot_assessment(run, assessment).events
    events = [event for event in judged if event.sends] + _owed(run, assessment)
    if not events:
        return _quiet(_nothing_note(assessment))
    try:
        from feature_store_health.alerting.slack_bot_api import open_client

        client = open_client(token, config)
    except ImportError:
        return ChannelResult(CHANNEL, "WARNING: Slack bot: slack_sdk is not installed: pip install -e '.[oncall]'; "
                             f"nothing sent; {_STAND}",
                             {"sent": False, "detail": "slack_sdk is not installed"}, {})
    return _deliver(run, client, events, judged, report)


def _owed(run: "HealthRun", assessment: Assessment) -> list[IncidentEvent]:
    """The resolutions a previous run could not deliver: incidents closed in the history (the
    webhook delivered, or none is configured) whose thread was never told (oncall.closed_but_held)."""
    from feature_store_health.alerting.oncall import closed_but_held

    now = run.started_at.astimezone(dt.timezone.utc)
    touched = {event.incident for event in assessment.events}
    order = {Incident(verdict.table, verdict.dimension, verdict.check_date): index
             for index, verdict in enumerate(run.verdicts)}   # told in the run's order of checks
    owed = [(incident, state) for incident, state in closed_but_held(run, CHANNEL, touched) if _state(state) is not None]
    owed.sort(key=lambda item: (order.get(item[0], len(order)), _name(item[0])))
    return [IncidentEvent(incident, RESOLVED, "OK", state.message, now, state) for incident, state in owed]


def _quiet(detail: str) -> ChannelResult:
    return ChannelResult(CHANNEL, f"Slack bot: {detail}", {"sent": False, "detail": detail}, {})


def _nothing_note(assessment: Assessment) -> str:
    still = [event for event in assessment.events if event.after(False).is_open and event.muted is None]
    muted = len(assessment.muted)
    parts = [f"{len(still)} incident{'s' if len(still) != 1 else ''} still open, no news"] if still else []
    parts += [f"{muted} muted"] if muted else []
    return "nothing to say" + (f" ({', '.join(parts)})" if parts else "")


def _state(previous: IncidentState | None) -> dict[str, Any] | None:
    """What the bot recorded about an incident, if it has a thread for it (not yet resolved)."""
    if previous is None or not previous.channels:
        return None
    state = previous.channels.get(CHANNEL)
    if not isinstance(state, Mapping) or not state.get("ts") or state.get("resolved_at"):
        return None
    try:  # a damaged record: as if the bot had said nothing (it posts a new parent)
        Severity(state["said"])
        dt.datetime.fromisoformat(state["said_at"])
        str(state["channel"])
    except (KeyError, TypeError, ValueError):
        return None
    return dict(state)


def _bot_assessment(run: "HealthRun", assessment: Assessment) -> Assessment:
    """The run's incidents judged against what the bot last said (not what the webhook delivered)."""
    recorded = {}
    for event in assessment.events:
        if event.previous is None:
            continue
        state = _state(event.previous)
        said_at = dt.datetime.fromisoformat(state["said_at"]) if state else None
        recorded[event.incident] = event.previous._replace(alerted_at=said_at,
                                                           alerted_severity=state["said"] if state else None)
    now = assessment.events[0].now if assessment.events else run.started_at.astimezone(dt.timezone.utc)
    repeat_after = dt.timedelta(hours=run.config.slack.repeat_after_hours)
    return assess(recorded, run.verdicts, now, repeat_after, run.settings.slack_on, muted=run.mutes.of)


def _deliver(run: "HealthRun", client: "BotClient", events: list[IncidentEvent], judged: tuple[IncidentEvent, ...],
             report: str | None) -> ChannelResult:
    """Post the new incidents' parent, then each thread's reply, then edit the parents of those
    resolved; stop at the first call Slack refuses (the rest is tried again by the next run)."""
    from feature_store_health.alerting.slack_bot_api import BotFailure

    config = run.config.slack
    timezone = run.config.timezone
    states: dict[Incident, dict[str, Any]] = {}
    outcome: dict[str, Any] = {"posted": [], "replied": [], "updated": []}
    fresh = [event for event in events if event.kind in (OPENED, WORSE, REPEAT) and _state(event.previous) is None]
    threads: dict[tuple[str, str], list[_Reply]] = {}
    for event in events:
        reply = _reply(event, timezone)
        if reply is not None:
            state = _state(event.previous)
            assert state is not None
            threads.setdefault((state["channel"], state["ts"]), []).append(reply)
    failure = None
    try:
        if fresh:
            posted = client.post(config.channel, _parent_text(run, fresh, report))
            for event in fresh:
                states[event.incident] = {"channel": posted.channel, "ts": posted.ts, "said": event.severity,
                                          "said_at": _iso(event.now)}
            outcome["posted"].append({"ts": posted.ts, "incidents": [_name(event.incident) for event in fresh]})
        for (channel, ts), replies in threads.items():
            answer = client.post(channel, _join([reply.text for reply in replies], report), thread_ts=ts)
            for reply in replies:
                states[reply.event.incident] = reply.state
            outcome["replied"].append({"thread_ts": ts, "ts": answer.ts,
                                       "incidents": [_name(reply.event.incident) for reply in replies]})
            resolved = [reply.event for reply in replies if reply.event.kind == RESOLVED]
            if resolved:
                text, everything = _resolved_parent(run, channel, ts, resolved, judged)
                client.update(channel, ts, text)
                outcome["updated"].append({"ts": ts, "resolved": [_name(event.incident) for event in resolved],
                                           "all_resolved": everything})
    except BotFailure as exc:
        failure = exc
    summary = _summary(outcome)
    json = {"sent": bool(outcome["posted"] or outcome["replied"]), "channel": config.channel, **outcome,
            "retries": client.retries}
    if failure is not None:
        json["detail"] = f"failed: {failure.line}"
        done = f" ({summary} before it)" if summary else ""
        note = (f"WARNING: Slack bot: {failure.line}; {failure.method} not sent{done}, tried again next run; {_STAND}")
        return ChannelResult(CHANNEL, note, json, states)
    json["detail"] = summary
    retried = f", {client.retries} retr{'ies' if client.retries != 1 else 'y'}" if client.retries else ""
    return ChannelResult(CHANNEL, f"Slack bot: {summary} ({config.channel}{retried})", json, states)


def _reply(event: IncidentEvent, timezone: str) -> _Reply | None:
    """The line an incident with a thread adds to it this run, and the bot's state once it is sent."""
    state = _state(event.previous)
    if state is None:
        return None
    name = _name(event.incident, " · ")
    now = _iso(event.now)
    if event.kind == WORSE:
        text = f"worse: {state['said']} → {event.severity} · {name}: {event.message}"
    elif event.kind == REPEAT:
        text = f"still open since {local_time(event.opened_at, event.now, timezone)} · {name}: {event.message}"
    elif event.kind == RESOLVED:
        # a resolution owed since the incident closed: how long it was open, not until now
        ended = event.previous.closed_at if event.previous is not None and event.previous.closed_at else event.now
        return _Reply(event, f"✅ resolved after {duration_text(ended - event.opened_at)} · {name}",
                      {**state, "said": "OK", "said_at": now, "resolved_at": now})
    else:
        return None
    return _Reply(event, text, {**state, "said": event.severity, "said_at": now})


def _parent_text(run: "HealthRun", events: list[IncidentEvent], report: str | None) -> str:
    worst = max(events, key=lambda event: Severity(event.severity).rank)
    count = f"{len(events)} incident{'s' if len(events) != 1 else ''}"
    lines = [f"{Severity(worst.severity).icon} Feature store: {count} open"]
    lines += [_open_line(event.incident, event.severity, event.message) for event in events]
    lines.append(f"Rerun: `{run.rerun_command()}`")
    return _join(lines, report)


def _open_line(incident: Incident, severity: str, message: str) -> str:
    return f"{Severity(severity).icon} {severity} · {_name(incident, ' · ')}: {message}"


def _resolved_parent(run: "HealthRun", channel: str, ts: str, resolved: list[IncidentEvent],
                     judged: tuple[IncidentEvent, ...]) -> tuple[str, bool]:
    """The parent as it now stands: every incident it opened, resolved (this run or before) or still
    open (at this run's severity); and whether all are resolved."""
    now = resolved[0].now
    entries: dict[Incident, tuple[IncidentState, dt.datetime | None]] = {}   # incident -> (state, resolved at)
    for (table, check_date), values in run.history().items():
        for key, record in values.items():
            state = IncidentState.from_record(record) \
                if key.startswith(INCIDENT_PREFIX) and isinstance(record, Mapping) else None
            bot = (state.channels or {}).get(CHANNEL) if state is not None else None
            if isinstance(bot, Mapping) and bot.get("ts") == ts and bot.get("channel") == channel:
                ended = state.closed_at or (dt.datetime.fromisoformat(bot["resolved_at"])
                                            if bot.get("resolved_at") else None)
                entries[Incident(table, key[len(INCIDENT_PREFIX):], check_date)] = (state, ended)
    current = {event.incident: event for event in judged}
    for incident, (state, ended) in list(entries.items()):
        event = current.get(incident)
        if event is not None and ended is None:
            entries[incident] = (state._replace(severity=event.severity, message=event.message), None)
    for event in resolved:   # closed before (a resolution owed): when it closed
        closed = event.previous.closed_at if event.previous is not None else None
        entries[event.incident] = (event.after(True), closed or now)
    # as the parent listed them: by opening, then in the run's order of checks
    order = {Incident(verdict.table, verdict.dimension, verdict.check_date): index
             for index, verdict in enumerate(run.verdicts)}
    entries = dict(sorted(entries.items(), key=lambda item: (item[1][0].opened_at, order.get(item[0], len(order)),
                                                             _name(item[0]))))
    lines = [_open_line(incident, state.severity, state.message) if ended is None else
             f"✅ ~{_name(incident, ' · ')}~ resolved after {duration_text(ended - state.opened_at)}"
             for incident, (state, ended) in entries.items()]
    still = [state.severity for state, ended in entries.values() if ended is None]
    if still:
        worst = max(still, key=lambda severity: Severity(severity).rank)
        header = (f"{Severity(worst).icon} Feature store: {len(entries) - len(still)} of {len(entries)} incidents "
                  f"resolved, {len(still)} still open")
        return _join([header, *lines], None), False
    longest = max(ended - state.opened_at for state, ended in entries.values() if ended is not None)
    count = f"{len(entries)} incident{'s' if len(entries) != 1 else ''}"
    return _join([f"✅ resolved after {duration_text(longest)} · Feature store: {count} OK again", *lines], None), True


def _summary(outcome: Mapping[str, list]) -> str:
    parts = []
    for key, one, many in (("posted", "thread started", "threads started"), ("replied", "reply", "replies"),
                           ("updated", "parent updated", "parents updated")):
        count = len(outcome[key])
        if count:
            parts.append(f"{count} {one if count == 1 else many}")
    return ", ".join(parts)


def _join(lines: list[str], report: str | None) -> str:
    text = "\n".join(_escape(line) for line in lines)
    return text + (f"\nReport: {_escape(report)}" if report else "")


def _name(incident: Incident, separator: str = "/") -> str:
    return separator.join((incident.table, incident.dimension, incident.check_date.isoformat()))


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat()


def _escape(text: str) -> str:
    """Slack's three control characters in mrkdwn text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
