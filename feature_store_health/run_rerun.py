"""The rerun command: the same run as a shell command, every option that changes what is checked
or how it is judged, quoted for the shell. Never a secret: the Slack webhook is not part of it."""

from __future__ import annotations

import shlex

from feature_store_health.options import DEFAULT_MAX_BYTES_BILLED, DEFAULT_QUERY_TIMEOUT
from feature_store_health.settings import RunSettings

__all__ = ["rerun_command"]


def rerun_command(settings: RunSettings) -> str:
    """The run of ``settings`` again, e.g. for the runbook's Verify step and the alerts."""
    parts = ["pytest", "data_tests", f"--date={settings.check_date.isoformat()}"]
    if settings.days > 1:
        parts.append(f"--days={settings.days}")
    if settings.backend != "duckdb":
        parts.append(f"--backend={settings.backend}")
    optional = (
        ("--project", settings.project),
        ("--location", settings.location),
        ("--bigquery-endpoint", settings.bigquery_endpoint),
        ("--database", settings.database),
        ("--as-of", settings.as_of.isoformat() if settings.as_of is not None else None),
        ("--health-config", settings.config_path),
    )
    parts.extend(f"{flag}={value}" for flag, value in optional if value is not None)
    # the baselines come from the history: where it is (an explicit flag even when the run
    # read it from $FEATURE_STORE_HEALTH_HISTORY), or that it was off, changes the verdict
    if settings.history_off:
        parts.append("--no-history")
    elif settings.history is not None:
        parts.append(f"--history={settings.history}")
    if settings.reports_dir_option is not None:  # the default history lives in the archive folder
        parts.append(f"--reports-dir={settings.reports_dir_option}")
    if settings.backend == "bigquery" and settings.max_bytes_billed != DEFAULT_MAX_BYTES_BILLED:
        parts.append(f"--max-bytes-billed={settings.max_bytes_billed}")
    if settings.backend == "bigquery" and settings.query_timeout != DEFAULT_QUERY_TIMEOUT:
        parts.append(f"--query-timeout={settings.query_timeout:g}")
    if settings.fail_on != "error":
        parts.append(f"--fail-on={settings.fail_on}")
    if settings.model is not None:
        parts.append(f"--model={settings.model}")
    parts.extend(settings.selection)
    return shlex.join(parts)
