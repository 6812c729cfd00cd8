"""The reprocess request in a run: what the planner is given, what is sent, what is recorded and shown.

Called once per run, in ``pytest_sessionfinish`` before the reports are written (so the HTML can
show the outcome) and before the history write (which records a request made). It reads what
the run already has (its verdicts, the one query's guard counts, the history it read); it never
changes a verdict or the exit code, and no failure here is more than a note.

"The checked date" is ``--date`` when the run checks it as it happens: it is today in New York
(the run's as-of is now), or ``--as-of`` is given and falls on that date in New York. A backfill
check of an older date (as-of at its deadline, by default) never sends a request.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, NamedTuple, TYPE_CHECKING
from zoneinfo import ZoneInfo

from feature_store_health.alerting.remediation import (
    Decision, GuardCounts, Recorded, RemediationConfig, google_id_token, plan_requests, send_request, trigger_text,
)
from feature_store_health.alerting.secret import Redactor, redact
from feature_store_health.checks.guard import guard_columns, guard_values
from feature_store_health.clock import now_utc, today_in

if TYPE_CHECKING:
    from feature_store_health.config import TableConfig
    from feature_store_health.settings import RunSettings
    from feature_store_health.run import HealthRun

__all__ = ["RECORD", "ReprocessOutcome", "checked_date_problem", "reprocess_json", "reprocess_lines", "reprocess_mode",
           "reprocess_plan_lines", "request_reprocess"]

RECORD = "reprocess"   # the history record of a table's date: {"requests", "last_run_id", "last_at", "outcome"}
HISTORY_OFF = " (history off: not counted across runs)"


class ReprocessOutcome(NamedTuple):
    table: str
    check_date: dt.date
    decision: str            # "send" or "held"
    body: dict[str, Any]     # the request's JSON body (held: what it would have been)
    outcome: str             # what the endpoint answered, or why it was held

    def to_json(self) -> dict[str, Any]:
        return {"table": self.table, "date": self.check_date.isoformat(), "decision": self.decision,
                "body": self.body, "outcome": self.outcome}


def reprocess_mode(option: str | None, remediation: RemediationConfig | None) -> str:
    """``send``, ``dry-run`` or ``off``; ValueError (a usage error) for a request without a
    [remediation] section to send it to."""
    if option in ("send", "dry-run") and remediation is None:
        raise ValueError(f"--reprocess={option} needs a [remediation] section in the config with the endpoint's "
                         'url (e.g. url = "https://phase4-reprocess-abc123-uc.a.run.app/reprocess"), '
                         "or leave --reprocess out")
    if remediation is None:
        return "off"
    return option or "send"


def checked_date_problem(settings: "RunSettings", timezone: str, now: dt.datetime) -> str | None:
    """Why ``--date`` is not the run's checked date (None: it is): see the module's docstring."""
    check_date, zone = settings.check_date, ZoneInfo(timezone)
    if settings.as_of is not None:
        on = settings.as_of.astimezone(zone).date()
        return None if on == check_date else f"--as-of {settings.as_of.isoformat()} is not on {check_date} ({timezone})"
    today = today_in(timezone, now)
    if check_date == today:
        return None
    return "a backfill check of an older date" if check_date < today else "a check of a date after today"


def request_reprocess(run: "HealthRun", hook: Any) -> list[str]:
    """Plan, send (``--reprocess=send``), record and say the run's reprocess requests: the console
    notes. Never raises: the data verdict and the exit code stand whatever happens here."""
    remediation = run.config.remediation
    try:
        if remediation is None or run.settings.dry_run or not run.judged:
            return []
        mode = reprocess_mode(run.settings.reprocess, remediation)
        if mode == "off":
            return []
        run.reprocess_outcomes = [_carry_out(run, decision, remediation, hook)
                                  for decision in _plan(run, remediation, dry_run=mode == "dry-run")]
        return reprocess_lines(run)
    except Exception as exc:  # a request must never change the verdict
        detail = redact(f"{type(exc).__name__}: {exc}", run.settings.slack_webhook)
        return [f"WARNING: reprocess request failed: {detail}; the data verdict and exit code stand"]


def _plan(run: "HealthRun", remediation: RemediationConfig, dry_run: bool) -> list[Decision]:
    from feature_store_health.history import HistoryError

    check_date = run.settings.check_date
    recorded: dict[str, Recorded] | None = None
    history_error = None
    if not run.settings.history_off:
        try:
            history = run.history()
        except HistoryError as exc:
            history_error = str(exc)
        else:
            recorded = {table.name: _recorded(history.get((table.name, check_date), {}).get(RECORD))
                        for table in run.config.tables}
    return plan_requests(
        run.verdicts, remediation, check_date=check_date, run_id=run.run_id,
        not_checked=checked_date_problem(run.settings, run.config.timezone, run.started_at),
        expired={table.name: run.expired(table, check_date) for table in run.config.tables},
        guards={table.name: _guard(run, table, remediation) for table in run.config.tables},
        recorded=recorded, history_error=history_error, dry_run=dry_run,
    )


def _recorded(record: Any) -> Recorded:
    if not isinstance(record, dict):
        return Recorded()
    requests = record.get("requests")
    return Recorded(requests if isinstance(requests, int) and not isinstance(requests, bool) else 0,
                    record.get("last_run_id"), record.get("last_at"))


def _guard(run: "HealthRun", table: "TableConfig", remediation: RemediationConfig) -> GuardCounts | None:
    """The guard counts of the checked date, from the table's one query as fetched (never fetched
    here: no extra query); None when the table has no guard column."""
    from feature_store_health.backends.base import BackendError

    columns = guard_columns(table, remediation)
    if not columns:
        return None
    fetched = run.fetched_metrics(table.name)
    if fetched is None:
        return GuardCounts(0, error="the table's metrics query did not run in this run")
    if isinstance(fetched, BackendError):
        return GuardCounts(0, error=str(fetched))
    values = fetched.get(run.settings.check_date, {})
    found = guard_values(values, columns)
    if found is None:
        return GuardCounts(0, error=f"{' or '.join(columns)} missing or retyped in the warehouse")
    return GuardCounts(int(values.get("row_count") or 0), found.get(remediation.circuit_breaker_column),
                       found.get(remediation.manual_override_column))


def _carry_out(run: "HealthRun", decision: Decision, remediation: RemediationConfig, hook: Any) -> ReprocessOutcome:
    if decision.decision != "send":
        return ReprocessOutcome(decision.table, decision.check_date, "held", decision.body, decision.reason)

    def id_token(audience: str) -> str | None:
        # a team's conftest (or a test) may answer; else google-auth from the environment
        answer = hook.pytest_feature_store_health_id_token(audience=audience)
        return answer if answer is not None else google_id_token(audience)

    outcome = send_request(remediation, decision.body, id_token, redactor=Redactor(run.settings.slack_webhook))
    text = outcome.text
    if run.settings.history_off:
        text += HISTORY_OFF
    elif outcome.counted:
        previous = _recorded((run.history().get((decision.table, decision.check_date)) or {}).get(RECORD))
        run.records.append((decision.table, decision.check_date, RECORD, {
            "requests": previous.requests + 1, "last_run_id": run.run_id,
            "last_at": now_utc().isoformat(), "outcome": text}))
    return ReprocessOutcome(decision.table, decision.check_date, "send", decision.body, text)


def reprocess_lines(run: "HealthRun") -> list[str]:
    """One line per reprocess decision of the run, for the console and Slack."""
    remediation = run.config.remediation
    lines = []
    for outcome in getattr(run, "reprocess_outcomes", ()):
        body = outcome.body
        line = f"Reprocess: {outcome.table} {outcome.check_date} ({body['dimension']} {body['severity']}): "
        if outcome.decision == "send":
            lines.append(line + outcome.outcome)
            continue
        line += f"held: {outcome.outcome}"
        if outcome.outcome == "--reprocess=dry-run" and remediation is not None:
            line += (f": would POST {remediation.url} (audience {remediation.audience}) "
                     f"{json.dumps(body, ensure_ascii=False)}")
        lines.append(line)
    return lines


def reprocess_json(run: "HealthRun") -> list[dict[str, Any]]:
    return [outcome.to_json() for outcome in getattr(run, "reprocess_outcomes", ())]


def reprocess_plan_lines(run: "HealthRun") -> list[str]:
    """``--dry-run`` (no check runs): per table, the request a judging run would send, on which
    triggers and guards. Nothing is sent."""
    remediation = run.config.remediation
    if remediation is None:
        return []
    if reprocess_mode(run.settings.reprocess, remediation) == "off":
        return ["Reprocess: off (--reprocess=off): no request would be sent"]
    check_date = run.settings.check_date
    not_checked = checked_date_problem(run.settings, run.config.timezone, run.started_at)
    lines = []
    for table in run.config.tables:
        line = f"Reprocess: {table.name} {check_date}: "
        if not_checked:
            lines.append(line + f"no request would be sent: {not_checked}")
            continue
        if run.expired(table, check_date):
            lines.append(line + "no request would be sent: past partition expiry")
            continue
        columns = guard_columns(table, remediation)
        guard = (f"none when {' or '.join(columns)} is TRUE on more than {remediation.guard_share_pct:g} % of rows"
                 if columns else "no circuit-breaker guard (the contract has neither column)")
        lines.append(line + f"would POST {remediation.url} (audience {remediation.audience}) when "
                     f"{trigger_text(remediation.triggers)}; at most {remediation.max_requests_per_date} per date; "
                     f"{guard}; nothing is sent by --dry-run")
    return lines
