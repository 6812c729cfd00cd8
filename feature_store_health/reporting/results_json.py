"""The machine-readable results (SPEC §4), also archived beside each report."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.run import HealthRun

__all__ = ["results_document", "results_json", "summary_counts"]


def summary_counts(run: "HealthRun") -> dict[str, int]:
    severities = [verdict.severity for verdict in run.verdicts]
    judged = [severity for severity in severities if severity is not Severity.SKIPPED]
    return {
        "checks": len(judged),
        "passed": sum(not severity.fails(run.settings.fail_on) for severity in judged),
        "warnings": severities.count(Severity.WARNING),
        "errors": severities.count(Severity.ERROR),
        "critical": severities.count(Severity.CRITICAL),
        "not_evaluated": severities.count(Severity.NOT_EVALUATED),
        "skipped": severities.count(Severity.SKIPPED),
    }


def results_document(run: "HealthRun") -> dict[str, Any]:
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
        "summary": summary_counts(run),
        "checks": [verdict.to_json() for verdict in run.verdicts],
        "queries": [stats.to_json() for stats in run.queries],
    }


def results_json(run: "HealthRun") -> str:
    return json.dumps(results_document(run), indent=2, default=str) + "\n"
