"""The run's on-call: the incidents this run's verdicts open, worsen or resolve, told to each
configured channel, and recorded with the history whatever the channels did.

The incidents are assessed once per run with a readable history (alerting/incidents.py), whether
or not any channel is configured: the ops dashboard reads them. The Slack webhook (alerting/
slack_alert.py) keeps the incident's own ``alerted_*`` fields; every other channel (PagerDuty, the
Slack bot's threads) keeps its own state under ``channels[<name>]`` of the incident's record, so
each decides from what *it* delivered. A channel never raises, never changes a verdict or the
exit code, and never shows a secret.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, NamedTuple, TYPE_CHECKING

from feature_store_health.alerting.incidents import Assessment, Incident

if TYPE_CHECKING:
    from feature_store_health.alerting.incidents import IncidentState
    from feature_store_health.run import HealthRun

__all__ = ["CHANNELS", "ChannelResult", "Channel", "closed_but_held", "closed_records", "merged_states", "run_channels"]


class ChannelResult(NamedTuple):
    name: str                                    # the results JSON key and the record's channels key
    note: str | None                             # the console line (None: nothing to say)
    json: Mapping[str, Any]                      # the results JSON's ``<name>``: never a secret
    states: Mapping[Incident, Mapping[str, Any]]  # per incident, the channel's state to record


# A channel: (run, assessment or None without a readable history, report location) -> its result,
# or None when it is not configured for this run.
Channel = Callable[["HealthRun", "Assessment | None", "str | None"], "ChannelResult | None"]

# the channels after the Slack webhook, in the order they are told; each is imported on first use
CHANNELS: list[tuple[str, str]] = [   # (module, function name)
    ("feature_store_health.alerting.slack_bot", "slack_bot"),   # the Slack bot's incident threads
    ("feature_store_health.alerting.pagerduty", "pagerduty_channel"),   # [pagerduty]: Events API v2
]


def run_channels(run: "HealthRun", assessment: Assessment | None, report: str | None) -> list[ChannelResult]:
    """Each configured channel's result, in order. A channel that raises is reported as failed."""
    import importlib

    results = []
    for module_name, function in CHANNELS:
        channel: Channel = getattr(importlib.import_module(module_name), function)
        try:
            result = channel(run, assessment, report)
        except Exception as exc:  # an alert must never change the verdict
            name = module_name.rpartition(".")[2]
            result = ChannelResult(name, f"WARNING: {name} failed: {type(exc).__name__}; the data verdict and "
                                   "exit code stand", {"sent": False, "detail": f"failed: {type(exc).__name__}"}, {})
        if result is not None:
            results.append(result)
    return results


def merged_states(results: list[ChannelResult]) -> dict[Incident, dict[str, Any]]:
    """Per incident, ``{channel name: its state}`` of every channel that changed it."""
    merged: dict[Incident, dict[str, Any]] = {}
    for result in results:
        for incident, state in result.states.items():
            merged.setdefault(incident, {})[result.name] = dict(state)
    return merged


def closed_but_held(run: "HealthRun", channel: str, touched: set[Incident]) -> list[tuple[Incident, "IncidentState"]]:
    """Incidents the history holds as closed (OK again, no event this run) whose ``channel`` state
    has no ``resolved_at``: the channel's resolve failed when the incident closed, so it is tried
    again from the record itself. The channel returns its new state for them like any other; the
    record is written again with it (``closed_records``)."""
    from feature_store_health.alerting.incidents import all_states
    from feature_store_health.history import HistoryError

    try:
        history = run.history()
    except HistoryError:
        return []
    found = []
    for incident, state in all_states(history).items():
        if state.is_open or incident in touched:
            continue
        held = (state.channels or {}).get(channel)
        if isinstance(held, Mapping) and held and held.get("resolved_at") is None:
            found.append((incident, state))
    return found


def closed_records(run: "HealthRun", assessment: Assessment, merged: Mapping[Incident, Mapping[str, Any]]
                   ) -> list[tuple[str, Any, str, dict[str, Any]]]:
    """The history records of the closed incidents a channel resolved this run (no event of the
    run's carries them): the closed state with that channel's new state merged in."""
    from feature_store_health.alerting.incidents import INCIDENT_PREFIX

    touched = {event.incident for event in assessment.events}
    orphans = {incident: updates for incident, updates in merged.items() if incident not in touched}
    if not orphans:
        return []
    rows = []
    names = {name for updates in orphans.values() for name in updates}
    closed = {incident: state for name in names for incident, state in closed_but_held(run, name, touched)}
    for incident, updates in orphans.items():
        state = closed.get(incident)
        if state is None:
            continue
        state = state._replace(channels={**(state.channels or {}), **updates})
        rows.append((incident.table, incident.check_date, INCIDENT_PREFIX + incident.dimension, state.to_record()))
    return rows
