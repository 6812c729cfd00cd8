"""The machine-readable results (SPEC §4), also archived beside each report."""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.run import HealthRun

__all__ = ["results_document", "results_json", "summary_counts"]


def summary_counts(run: "HealthRun", table: str | None = None) -> dict[str, int]:
    """Counts of the judged checks (of ``table``, or of every table); ``not_run``: selected checks
    that never ran (an incomplete run)."""
    severities = [verdict.severity for verdict in run.verdicts if table is None or verdict.table == table]
    judged = [severity for severity in severities if severity is not Severity.SKIPPED]
    return {
        "checks": len(judged),
        "passed": sum(not severity.fails(run.settings.fail_on) for severity in judged),
        "warnings": severities.count(Severity.WARNING),
        "errors": severities.count(Severity.ERROR),
        "critical": severities.count(Severity.CRITICAL),
        "not_evaluated": severities.count(Severity.NOT_EVALUATED),
        "skipped": severities.count(Severity.SKIPPED),
        "not_run": sum(table is None or spec.table == table for spec in run.not_run),
    }


def _tables(run: "HealthRun") -> dict[str, Any]:
    """Per monitored table, in the configuration's order: its status (INCOMPLETE when a selected
    check of it never ran, NOT_SELECTED when none was selected), its counts, and the dimensions
    its configuration does not give what they need (not collected)."""
    from feature_store_health.checks.dimensions import DIMENSIONS
    from feature_store_health.checks.plan import applicable_dimensions

    tables = {}
    for table in run.config.tables:
        applicable = applicable_dimensions(table)
        tables[table.name] = {
            "table": table.table,
            "status": run.table_status(table.name),
            "summary": summary_counts(run, table.name),
            "not_configured": [dimension for dimension in DIMENSIONS if dimension not in applicable],
        }
    return tables


def results_document(run: "HealthRun", slack: dict[str, Any] | None = None,
                     incidents: list[dict[str, Any]] | None = None,
                     channels: dict[str, Any] | None = None) -> dict[str, Any]:
    """``slack``: the alert's outcome ({"sent", "detail", "events"}; never the webhook);
    ``incidents``: each (table, dimension, date) incident the run judged, with its event."""
    settings = run.settings
    return {
        "status": run.status,
        "run_at": run.started_at.isoformat(),
        "backend": settings.backend,
        "source": run.source_description(),
        "dates": [check_date.isoformat() for check_date in settings.dates],
        "as_of": {check_date.isoformat(): run.as_of(check_date).isoformat() for check_date in settings.dates},
        "fail_on": settings.fail_on,
        "config": str(run.config.path),
        "rerun": run.rerun_command(),
        "complete": run.complete,
        "incomplete_reason": None if run.complete else run.incomplete_reason(),
        "judged_status": run.judged_status,
        "summary": summary_counts(run),
        "gate": run.gate_json(),
        "tables": _tables(run),
        "checks": [{**verdict.to_json(), "muted": _muted(run, verdict)} for verdict in run.verdicts],
        "mutes": run.mutes.to_json(run.verdicts),   # [[mutes]]: active (with the checks each silences) and expired
        "queries": [stats.to_json() for stats in run.queries],
        "metadata_lookups": run.metadata_lookups,
        "profile": _profiles(run),
        "history": _history(run),
        "incidents": incidents or [],
        "slack": slack or {"sent": False, "detail": "no webhook configured", "events": {}},
        "reprocess": _reprocess(run),
        "learned": run.learned_json(),
        **_models(run),
        **(channels or {}),   # each other on-call channel's outcome by name (alerting/oncall.py): "pagerduty", ...
    }


def _muted(run: "HealthRun", verdict: Any) -> dict[str, str] | None:
    """A check's ``muted``: {"until", "reason"} of the mute silencing its alerts, or null. Its
    severity, the status and the exit code are what they would be without it."""
    mute = run.mutes.of(verdict)
    return None if mute is None else {"until": mute.until.isoformat(), "reason": mute.reason}


def _models(run: "HealthRun") -> dict[str, Any]:
    """``models`` (only with [[models]] configured): each model's status and the features touched."""
    from feature_store_health.reporting.models_affected import models_json

    document = models_json(run)
    return {} if document is None else {"models": document}


def _reprocess(run: "HealthRun") -> list[dict[str, Any]]:
    """The reprocess decisions ([remediation]): per table, sent (and the answer) or held (and why)."""
    from feature_store_health.alerting.remediation_run import reprocess_json

    return reprocess_json(run)


def _history(run: "HealthRun") -> dict[str, Any]:
    """Where the metric history is, what reading and writing it cost (or why they failed), and
    which dates of the reports came from it (their partitions expired)."""
    from feature_store_health.backends.base import BackendError
    from feature_store_health.history import HistoryError

    if run.settings.history_off:
        return {"enabled": False}
    try:
        location = run.history_store.location if run.history_store is not None else None
    except HistoryError as exc:
        return {"enabled": True, "error": str(exc)}
    from_history = {}
    for table in run.config.tables:
        try:
            dates = [row.check_date.isoformat() for row in run.trend(table.name) if row.from_history]
        except (BackendError, HistoryError):
            continue
        if dates:
            from_history[table.name] = dates
    return {"enabled": True, "location": location, "run_id": run.run_id, "read": run.history_read,
            "write": run.history_write, "dates_from_history": from_history}


def _profiles(run: "HealthRun") -> dict[str, Any]:
    """table -> {"columns": {date: {column: stats}}, "flagged": {date: {column: [why]}}}; a table
    whose query failed has {"error": why}."""
    from feature_store_health.backends.base import BackendError
    from feature_store_health.reporting.columns import flagged_columns, verdicts_by_table_date

    groups = verdicts_by_table_date(run)
    profiles: dict[str, Any] = {}
    for table in run.config.tables:
        try:
            by_date = run.profile(table.name)
        except BackendError as exc:
            profiles[table.name] = {"error": str(exc)}
            continue
        profiles[table.name] = {
            "columns": {check_date.isoformat(): columns for check_date, columns in by_date.items()},
            "flagged": {check_date.isoformat(): flags for check_date in by_date
                        if (flags := flagged_columns(run, table.name, groups.get((table.name, check_date), ())))},
        }
    return profiles


def results_json(run: "HealthRun", slack: dict[str, Any] | None = None,
                 incidents: list[dict[str, Any]] | None = None, channels: dict[str, Any] | None = None) -> str:
    """Strict JSON: a non-finite number (which no config admits) is written as null, never NaN.
    Compact: an indented document goes through json's pure-Python encoder, 10 times slower on a
    weekly run's 600 kB (`python -m json.tool` or `jq` indents it for reading)."""
    document = results_document(run, slack, incidents, channels)
    try:   # the common case, no non-finite number: encoded as it is, without a copy
        return json.dumps(document, separators=(",", ":"), default=str, allow_nan=False) + "\n"
    except ValueError:
        return json.dumps(_finite(document), separators=(",", ":"), default=str, allow_nan=False) + "\n"


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
