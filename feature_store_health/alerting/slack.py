"""Slack alerts: one Block Kit message per run to an Incoming Webhook, retried, bounded, never fatal.

A delivery failure is reported, never raised: the data verdict and the exit code stand. The
webhook URL is a Secret: it appears in no message, log line, report or exception text.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any, Callable, Mapping, NamedTuple, Sequence, TYPE_CHECKING

from feature_store_health.alerting.http import RetryPolicy, post, retry_transient
from feature_store_health.alerting.secret import Redactor, Secret
from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.verdict import STATUS_ICONS, Severity
from feature_store_health.reporting.models_affected import models_affected_line
from feature_store_health.reporting.results_json import summary_counts

if TYPE_CHECKING:
    from feature_store_health.config import SlackConfig
    from feature_store_health.run import HealthRun

__all__ = ["SlackOutcome", "alert_status", "build_message", "mute_mark", "send", "should_alert"]

SECTION_LIMIT = 2900   # Slack allows 3000 characters in a section's text
MAX_CHECK_SECTIONS = 10


class SlackOutcome(NamedTuple):
    sent: bool
    attempts: int
    detail: str


def should_alert(status: str, slack_on: str) -> bool:
    """``always``: every run; ``warning``: anything but HEALTHY; ``error``: UNHEALTHY, CRITICAL, or a
    run that stopped before judging every check (INCOMPLETE)."""
    if slack_on == "always":
        return True
    if slack_on == "warning":
        return status != "HEALTHY"
    return status in ("UNHEALTHY", "CRITICAL", "INCOMPLETE")


def alert_status(run: "HealthRun") -> str:
    """The status the alert decides from without a history: the run's, with the muted checks left
    out (a run whose only checks not OK are muted has nothing to send). INCOMPLETE stays: a stopped
    run is news whatever is muted. Never the run's reported status or its exit code."""
    if not run.complete:
        return run.status
    from feature_store_health.checks.verdict import overall_status

    return overall_status([verdict.severity for verdict in run.verdicts if run.mutes.of(verdict) is None])


def mute_mark(run: "HealthRun", verdict) -> str | None:
    """What a check's digest line says of its mute: ``🔇 muted until 2026-03-20: <reason>``, or, for
    a mute that has expired (ignored: the check alerts), ``its mute expired on 2026-03-20 (<reason>)``."""
    mute = run.mutes.of(verdict)
    if mute is not None:
        return f"🔇 {mute.label}"
    expired = run.mutes.expired_for(verdict)
    if expired is not None:
        return f"its mute expired on {expired.until} ({expired.reason})"
    return None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str) -> str:
    """A link target for mrkdwn: a bare path becomes a file: URL, ``|`` and ``>`` are escaped."""
    if "://" not in url:
        from pathlib import Path

        path, _, anchor = url.partition("#")
        url = Path(path).resolve().as_uri() + (f"#{anchor}" if anchor else "")
    return url.replace("|", "%7C").replace(">", "%3E")


def build_message(run: "HealthRun", report_location: str | None, *,
                  marks: Mapping[tuple[str, str, Any], str] | None = None, resolved: Sequence[str] = (),
                  summary: str | None = None, weekly: str | None = None) -> dict[str, Any]:
    """The Block Kit message: dates, status, each non-OK check with value and thresholds, rerun, report.

    With the incidents (a readable history): ``marks`` adds to a check's line what its incident is
    (``still open since 04:00 (not re-sent)``), ``resolved`` lists the incidents OK again, and
    ``summary`` ends the notification text (``1 new, 1 still open (not re-sent)``). ``weekly``: the
    weekly ops review's section (alerting/weekly_review.py), a Monday ``--days=7`` run's only."""
    marks = marks or {}
    status = run.status
    dates = run.settings.dates
    shown_dates = str(dates[0]) if len(dates) == 1 else f"{dates[0]} … {dates[-1]}"
    # grouped by table, in the configuration's order: each table's status, then its checks not OK.
    # A table whose selected checks never ran (-x, interrupted) is listed too, as INCOMPLETE.
    by_table: dict[str, list] = {table.name: [] for table in run.config.tables
                                 if run.table_status(table.name) != "NOT_SELECTED"}
    for verdict in run.verdicts:
        by_table.setdefault(verdict.table, []).append(verdict)
    never_ran = Counter(spec.table for spec in run.not_run)
    counts = summary_counts(run)
    problems = [v for v in run.verdicts if v.severity not in (Severity.OK, Severity.SKIPPED)]
    title = f"{STATUS_ICONS[status]} Feature store health: {status}"

    def table_line(table: str, verdicts: list) -> str:
        table_status = run.table_status(table)
        passed = sum(not verdict.severity.fails(run.settings.fail_on) for verdict in verdicts)
        line = f"{STATUS_ICONS[table_status]} {_escape(table)} {passed}/{len(verdicts)}"
        return line + (f" ({table_status}: {never_ran[table]} never ran)" if never_ran[table] else "")

    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title, "emoji": True}},
        {"type": "section", "fields": [
            {"type": "mrkdwn", "text": f"*Dates*\n{shown_dates}"},
            {"type": "mrkdwn", "text": f"*Status*\n{status}"},
            {"type": "mrkdwn", "text": "*Tables*\n" + "\n".join(table_line(t, v) for t, v in by_table.items())},
            {"type": "mrkdwn", "text": f"*Checks passed*\n{counts['passed']}/{counts['checks']} ({run.settings.backend})"},
        ]},
    ]
    lines = []
    for table, verdicts in by_table.items():
        failing = [v for v in verdicts if v.severity not in (Severity.OK, Severity.SKIPPED)]
        if failing:
            lines.append(f"*{_escape(table)}*: {len(failing)} of {len(verdicts)} checks not OK")
        lines += [
            f"{v.severity.icon} *{DIMENSIONS[v.dimension].label}* · {v.check_date}: "
            f"{_escape(v.message)} (value {v.value if v.value is not None else 'n/a'}; {_escape(v.threshold_text())}) "
            f"<{_link(run.runbook_link(v.dimension))}|runbook>"
            + (f" — {_escape(mark)}" if (mark := _line_mark(run, v, marks)) else "")
            + (f"\n{_escape(affected)}" if (affected := models_affected_line(run, v)) else "")
            for v in failing
        ]
    tables = ", ".join(dict.fromkeys(v.table for v in problems)) or ", ".join(by_table)
    sections, current, shown = [], "*Checks not OK*", 0
    for line in lines:
        if len(current) + len(line) + 1 > SECTION_LIMIT:
            sections.append(current)
            current = ""
            if len(sections) == MAX_CHECK_SECTIONS:
                break
        current = f"{current}\n{line}" if current else line
        shown += 1
    else:
        sections.append(current)
    if shown < len(lines):
        hidden = sum(not line.startswith("*") for line in lines[shown:])
        sections.append(f"… and {hidden} more checks not OK: see the report")
    if problems:
        blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": text}} for text in sections]
    if resolved:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _escape("\n".join(resolved))}})
    if not run.complete:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text":
                       f"*Incomplete run*: {_escape(run.incomplete_reason())}; the checks that ran say {run.judged_status}"}})
    gate = getattr(run, "gate_decision", None)
    if gate is not None and (gate.decision == "hold" or gate.final):   # what Phase 5 is told
        reasons = "".join(f"\n• {_escape(reason)}" for reason in gate.reasons[:5])
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text":
                       f"*Gate for {gate.check_date}*: {gate.decision}{reasons}"}})
    from feature_store_health.alerting.remediation_run import reprocess_lines

    reprocess = reprocess_lines(run)
    if reprocess:   # the outcome of the reprocess requests: never a verdict
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text":
                       "*Reprocess*\n" + "\n".join(_escape(line.removeprefix("Reprocess: ")) for line in reprocess)}})
    if weekly:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": _escape(weekly)[:SECTION_LIMIT]}})
    blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": f"*Rerun*\n```{run.rerun_command()}```"}})
    if report_location:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Report: {_escape(report_location)}"}]})
    failing = counts["checks"] - counts["passed"]
    muted = len(run.mutes.muted_verdicts(problems))
    text = (f"{STATUS_ICONS[status]} Feature store {status}: {tables} {shown_dates} ({failing} failing, "
            f"{len(problems)} not OK{f', {muted} muted' if muted else ''})")
    return {"text": text + (f" · {summary}" if summary else ""), "blocks": blocks}


def _line_mark(run: "HealthRun", verdict, marks: Mapping[tuple[str, str, Any], str]) -> str | None:
    """A muted check says so instead of its incident's mark (it is not news: nothing was sent for
    it); an expired mute is said after the incident's mark."""
    about_mute = mute_mark(run, verdict)
    if run.mutes.of(verdict) is not None:
        return about_mute
    incident = marks.get((verdict.table, verdict.dimension, verdict.check_date))
    return " · ".join(mark for mark in (incident, about_mute) if mark) or None


def send(
    webhook: Secret,
    message: dict[str, Any],
    config: "SlackConfig",
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SlackOutcome:
    """POST the message; retry 429 (honouring Retry-After) and 5xx with backoff, within total_seconds
    (alerting/http.py: the retry policy every channel shares)."""
    policy = RetryPolicy(config.timeout_seconds, config.total_seconds, config.max_attempts, retry_transient)
    result = post(webhook.reveal(), message, policy, redactor=Redactor(webhook), sleep=sleep, clock=clock)
    status = result.answer.status
    if result.answer.ok:
        return SlackOutcome(True, result.attempts, result.detail)
    if status is not None and status < 500 and status != 429:
        return SlackOutcome(False, result.attempts, f"{result.detail} (not retried: fix the webhook or the message)")
    return SlackOutcome(False, result.attempts, result.detail)
