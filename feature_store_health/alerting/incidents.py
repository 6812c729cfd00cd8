"""Incidents: what this run's verdicts open, worsen, repeat or resolve, given the recorded states.

An incident is (table, dimension, date). Its state is recorded in the history, beside the
verdicts, as a record named ``incident:<dimension>`` of the (table, date). This module is pure:
no network, no history I/O. ``assess`` turns (recorded states, this run's verdicts, the run's
start, repeat_after, the --slack-on level) into one event per incident the run touched; each
event says what to record, depending on whether the message carrying it was delivered, so a
failed delivery is simply tried again by the next run.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from feature_store_health.checks.verdict import Severity, Verdict

__all__ = ["INCIDENT_PREFIX", "SENDING", "Assessment", "all_states", "Incident", "IncidentEvent", "IncidentState", "assess",
           "duration_text", "recorded_states"]

INCIDENT_PREFIX = "incident:"

# kinds of event: the first four are alerted; the others are recorded (or not) and never sent
OPENED, WORSE, REPEAT, RESOLVED = "opened", "worse", "repeat", "resolved"
UNCHANGED = "unchanged"   # open, alerted within repeat_after (or below the alert level): not re-sent
BETTER = "better"         # open, better than alerted but not OK: kept open at the alerted severity
CLOSED = "closed"         # never alerted, OK now: closes with no message
SENDING = (OPENED, WORSE, REPEAT, RESOLVED)

_RANK = {"OK": 0, "WARNING": 1, "ERROR": 2, "NOT_EVALUATED": 2, "CRITICAL": 3}
# the lowest severity that opens an incident, per --slack-on
_LEVEL = {"always": 1, "warning": 1, "error": 2}


class Incident(NamedTuple):
    table: str
    dimension: str
    check_date: dt.date


class IncidentState(NamedTuple):
    """An incident as recorded. ``severity``: what it stands at (an improvement short of OK keeps the
    alerted one); ``alerted_*``: the last message that was delivered about it (None: never);
    ``closed_at``: when it was found OK again (None: open)."""

    severity: str
    opened_at: dt.datetime
    alerted_at: dt.datetime | None
    alerted_severity: str | None
    message: str
    closed_at: dt.datetime | None = None
    # what each other channel (alerting/oncall.py: "pagerduty", "slack_bot") last did about it, as
    # that channel records it; None: none did anything
    channels: Mapping[str, Any] | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def to_record(self) -> dict[str, Any]:
        def moment(value: dt.datetime | None) -> str | None:
            return None if value is None else value.astimezone(dt.timezone.utc).isoformat()

        record = {"severity": self.severity, "opened_at": moment(self.opened_at),
                  "alerted_at": moment(self.alerted_at), "alerted_severity": self.alerted_severity,
                  "message": self.message, "closed_at": moment(self.closed_at)}
        if self.channels:
            record["channels"] = {name: dict(state) for name, state in self.channels.items()}
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> "IncidentState | None":
        """The state a record holds; None when it is not one (damaged: as if never recorded)."""
        def moment(key: str, required: bool = False) -> dt.datetime | None:
            value = record.get(key)
            if value is None and not required:
                return None
            parsed = dt.datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)

        try:
            severity, alerted = record["severity"], record.get("alerted_severity")
            if severity not in _RANK or (alerted is not None and alerted not in _RANK):
                return None
            channels = record.get("channels")
            channels = {str(name): state for name, state in channels.items() if isinstance(state, Mapping)} \
                if isinstance(channels, Mapping) else None
            return cls(severity, moment("opened_at", required=True), moment("alerted_at"), alerted,
                       str(record.get("message") or ""), moment("closed_at"), channels or None)
        except (KeyError, TypeError, ValueError):
            return None


class IncidentEvent(NamedTuple):
    incident: Incident
    kind: str                       # OPENED, WORSE, REPEAT, RESOLVED, UNCHANGED, BETTER or CLOSED
    severity: str                   # this run's verdict
    message: str                    # this run's verdict's message
    now: dt.datetime                # the run's start
    previous: IncidentState | None  # the recorded open state (None: opened now)
    muted: Any = None               # the Mute silencing it (alerting/mutes.py): judged, shown, never sent

    @property
    def sends(self) -> bool:
        return self.kind in SENDING and self.muted is None

    @property
    def opened_at(self) -> dt.datetime:
        return self.previous.opened_at if self.previous is not None else self.now

    def state(self, delivered: bool) -> IncidentState | None:
        """What to record for this incident once the run's message was (or was not) delivered;
        None: the recorded state stands (nothing to write)."""
        previous = self.previous
        if self.kind == OPENED:
            return IncidentState(self.severity, self.now, self.now if delivered else None,
                                 self.severity if delivered else None, self.message)
        if previous is None:  # every other kind is about a recorded incident
            raise ValueError(f"a {self.kind} event needs the recorded incident")
        if self.kind in (WORSE, REPEAT):
            if delivered:
                return previous._replace(severity=self.severity, alerted_at=self.now,
                                         alerted_severity=self.severity, message=self.message)
            # not delivered: the next run finds it worse (or due) again and tries once more
            return previous._replace(severity=self.severity, message=self.message) \
                if self.kind == WORSE else None
        if self.kind == RESOLVED:
            return previous._replace(severity="OK", message=self.message, closed_at=self.now) if delivered else None
        if self.kind == CLOSED:
            return previous._replace(severity="OK", message=self.message, closed_at=self.now)
        return None  # UNCHANGED, BETTER: open as recorded

    def after(self, delivered: bool) -> IncidentState:
        """The incident as it stands after the run (recorded or not): for reports."""
        state = self.state(delivered)
        if state is not None:
            return state
        assert self.previous is not None
        return self.previous

    @property
    def open_for(self) -> dt.timedelta:
        return self.now - self.opened_at


class Assessment(NamedTuple):
    events: tuple[IncidentEvent, ...]

    @property
    def sending(self) -> tuple[IncidentEvent, ...]:
        return tuple(event for event in self.events if event.sends)

    def of_kind(self, *kinds: str) -> tuple[IncidentEvent, ...]:
        return tuple(event for event in self.events if event.kind in kinds)

    def sending_of_kind(self, *kinds: str) -> tuple[IncidentEvent, ...]:
        """The events of these kinds a message carries: a muted one is left out."""
        return tuple(event for event in self.sending if event.kind in kinds)

    @property
    def muted(self) -> tuple[IncidentEvent, ...]:
        return tuple(event for event in self.events if event.muted is not None)

    @property
    def still_open(self) -> tuple[IncidentEvent, ...]:
        """Open incidents this run judged and does not alert again (marked "still open … (not re-sent)")."""
        return self.of_kind(UNCHANGED, BETTER)

    def counts(self) -> dict[str, int]:
        counted = Counter(event.kind for event in self.events)
        return {kind: counted[kind] for kind in (*SENDING, UNCHANGED, BETTER, CLOSED)}

    def records(self, delivered: bool, channels: Mapping[Incident, Mapping[str, Any]] | None = None
                ) -> list[tuple[str, dt.date, str, dict[str, Any]]]:
        """(table, date, name, payload) for the run's history write: the states that changed.
        ``delivered``: the Slack message carrying the events arrived; ``channels``: per incident,
        each other channel's new state (alerting/oncall.py), merged into what is recorded."""
        rows = []
        channels = channels or {}
        for event in self.events:
            state = event.state(delivered and event.sends)
            updates = channels.get(event.incident)
            if updates:
                base = state if state is not None else event.after(False)
                state = base._replace(channels={**(base.channels or {}), **updates})
            if state is not None:
                incident = event.incident
                rows.append((incident.table, incident.check_date, INCIDENT_PREFIX + incident.dimension,
                             state.to_record()))
        return rows


def all_states(history: Mapping[tuple[str, dt.date], Mapping[str, Any]]) -> dict[Incident, IncidentState]:
    """Every incident the history holds, open and closed (the newest record of each; a damaged
    one is left out), by incident."""
    states = {}
    for (table, check_date), values in history.items():
        for name, record in values.items():
            if name.startswith(INCIDENT_PREFIX) and isinstance(record, Mapping):
                state = IncidentState.from_record(record)
                if state is not None:
                    states[Incident(table, name[len(INCIDENT_PREFIX):], check_date)] = state
    return states


def recorded_states(history: Mapping[tuple[str, dt.date], Mapping[str, Any]]) -> dict[Incident, IncidentState]:
    """The open incidents the history holds (the newest record of each), by incident."""
    return {incident: state for incident, state in all_states(history).items() if state.is_open}


def assess(recorded: Mapping[Incident, IncidentState], verdicts: Iterable[Verdict], now: dt.datetime,
           repeat_after: dt.timedelta, slack_on: str, muted: Callable[[Verdict], Any] | None = None) -> Assessment:
    """One event per incident this run's verdicts touch (SKIPPED verdicts, and checks that did not
    run, leave their incident as recorded: never resolved by a check that did not judge it).

    - no open incident, a verdict at the alert level or worse (``warning``/``always``: WARNING;
      ``error``: ERROR, NOT_EVALUATED, CRITICAL): OPENED;
    - worse than last alerted (than recorded, if never alerted), at the level: WORSE;
    - no better, at the level, alerted ``repeat_after`` ago or longer, or never delivered: REPEAT;
      alerted more recently (or below the level): UNCHANGED;
    - better but not OK: BETTER (no message; it stays open at its recorded severity), unless it
      was never delivered and is still at the level: REPEAT;
    - OK: RESOLVED when it was alerted, else CLOSED (no message).

    ``muted`` gives the Mute silencing a verdict (None: not muted): its event is what it would be,
    marked muted, and sends nothing; recorded as not delivered, it alerts once the mute ends.
    """
    level = _LEVEL[slack_on]
    events = []
    for verdict in verdicts:
        if verdict.severity is Severity.SKIPPED:
            continue
        incident = Incident(verdict.table, verdict.dimension, verdict.check_date)
        severity = verdict.severity.value
        rank = _RANK[severity]
        previous = recorded.get(incident)
        if previous is not None and not previous.is_open:
            previous = None
        kind = _kind(previous, rank, level, now, repeat_after)
        if kind is not None:
            mute = muted(verdict) if muted is not None else None
            events.append(IncidentEvent(incident, kind, severity, verdict.message, now, previous, mute))
    return Assessment(tuple(events))


def _kind(previous: IncidentState | None, rank: int, level: int, now: dt.datetime,
          repeat_after: dt.timedelta) -> str | None:
    if previous is None:
        return OPENED if rank >= level else None
    if rank == 0:
        return RESOLVED if previous.alerted_at is not None else CLOSED
    reference = _RANK[previous.alerted_severity or previous.severity]
    if rank > reference and rank >= level:
        return WORSE
    if rank < level:
        return BETTER if rank < reference else UNCHANGED
    if previous.alerted_at is None:  # the message about it never arrived
        return REPEAT
    if rank < reference:
        return BETTER
    return REPEAT if now - previous.alerted_at >= repeat_after else UNCHANGED


def duration_text(delta: dt.timedelta) -> str:
    """``5 h 0 m``; ``45 m`` under an hour (whole minutes, rounded down)."""
    minutes = max(0, int(delta.total_seconds() // 60))
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} m" if hours else f"{minutes} m"
