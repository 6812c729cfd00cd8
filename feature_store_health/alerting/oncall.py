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
    from feature_store_health.run import HealthRun

__all__ = ["CHANNELS", "ChannelResult", "Channel", "run_channels"]


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
