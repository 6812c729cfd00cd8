"""Command-line options: declared once (``add_options``), parsed and validated at parse time.

A bad value is an ``argparse.ArgumentTypeError``, which pytest turns into a one-line usage
error with exit code 4. Flags that contradict each other raise ``pytest.UsageError`` when the
settings object is built (settings.py: ``RunSettings``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import re
from pathlib import Path

import pytest

from feature_store_health.alerting.secret import Secret

__all__ = ["DEFAULT_MAX_BYTES_BILLED", "DEFAULT_QUERY_TIMEOUT", "MAX_DAYS", "add_options",
           "parse_as_of", "parse_bytes", "parse_date", "parse_days", "parse_seconds"]

MAX_DAYS = 366
DEFAULT_MAX_BYTES_BILLED = 2**30
DEFAULT_QUERY_TIMEOUT = 300.0
MAX_BYTES = 2**63 - 1            # BigQuery's maximum_bytes_billed is an int64
MAX_SECONDS = 7 * 24 * 3600.0   # a query timeout beyond a week is a typo
ENDPOINT_ENV = "BIGQUERY_EMULATOR_HOST"
SLACK_ENV = "SLACK_WEBHOOK_URL"
HISTORY_ENV = "FEATURE_STORE_HEALTH_HISTORY"  # a history location, or "off" (the project's tests set it)
BACKENDS = ("duckdb", "bigquery")


def parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; expected YYYY-MM-DD, e.g. 2026-02-05") from None


def parse_days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days from 1 to {MAX_DAYS}")
    return days


def parse_as_of(text: str) -> dt.datetime:
    """ISO-8601 date-time; without an offset it is read in the deadline time zone (New York)."""
    try:
        return dt.datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO-8601 time; expected e.g. 2026-02-05T09:00 or 2026-02-05T14:00:00Z"
        ) from None


_BYTE_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_BYTE_COUNT = re.compile(r"^(\d+(?:\.\d+)?)([KMGT]I?B|B)?$")


def parse_bytes(text: str) -> int:
    """A byte count: ``1073741824``, ``500MB``, ``1GiB``, ``2TB``; at least 1, at most 2**63-1."""
    match = _BYTE_COUNT.match(text.strip().upper().replace(" ", ""))
    value = 0
    if match:
        number, unit = match.groups()
        # exact arithmetic: no float overflow (1e400, inf are not byte counts and do not match)
        whole, _, fraction = number.partition(".")
        scale = _BYTE_UNITS[unit or ""]
        value = int(whole) * scale + (int(fraction) * scale // 10 ** len(fraction) if fraction else 0)
    if not 1 <= value <= MAX_BYTES:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a byte count; expected e.g. 1GiB, 500MB or 1073741824 (at most {MAX_BYTES})"
        )
    return value


def parse_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not (math.isfinite(seconds) and 0 < seconds <= MAX_SECONDS):
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds (at most {MAX_SECONDS:g})")
    return seconds


def parse_webhook(text: str) -> Secret:
    """An http(s) URL, held as a Secret. The error never echoes the value: it is a credential."""
    if not text.startswith(("https://", "http://")) or len(text) < 12:
        raise argparse.ArgumentTypeError("not an http(s) URL (the value is not shown: it is a secret)")
    return Secret(text)


def add_options(parser: pytest.Parser) -> None:
    group = parser.getgroup("feature store health", "feature store health checks (data_tests)")
    group.addoption(
        "--date", dest="health_date", type=parse_date, metavar="YYYY-MM-DD", default=None,
        help="Date checked (the last one with --days). Default: today in America/New_York.",
    )
    group.addoption(
        "--days", dest="health_days", type=parse_days, metavar="N", default=1,
        help="Check the N dates ending at --date (7 for the weekly report). Default: 1.",
    )
    group.addoption(
        "--backend", dest="health_backend", choices=BACKENDS, default="duckdb",
        help="Warehouse to query: duckdb (embedded demo warehouse or --database) or bigquery. Default: duckdb.",
    )
    group.addoption(
        "--database", dest="health_database", type=Path, metavar="PATH", default=None,
        help="DuckDB file to check instead of the demo warehouse; tables are <dataset>.<table>. "
        "Never created. Default: the demo warehouse.",
    )
    group.addoption(
        "--project", dest="health_project", metavar="ID", default=None,
        help="GCP project for --backend=bigquery. Default: the credentials' project.",
    )
    group.addoption(
        "--as-of", dest="health_as_of", type=parse_as_of, metavar="ISO-8601", default=None,
        help="Time staleness is measured at; no offset means America/New_York. "
        "Default: now for today, 09:00 New York on the date for a past date.",
    )
    group.addoption(
        "--results-json", dest="health_results_json", type=Path, metavar="PATH", default=None,
        help="Write machine-readable results here. Default: not written.",
    )
    group.addoption(
        "--fail-on", dest="health_fail_on", choices=("warning", "error"), default="error",
        help="Lowest severity that fails the run. Default: error.",
    )
    group.addoption(
        "--location", dest="health_location", metavar="LOCATION", default=None,
        help="BigQuery location of the datasets, e.g. US or europe-west1. Default: the client's default.",
    )
    group.addoption(
        "--max-bytes-billed", dest="health_max_bytes_billed", type=parse_bytes, metavar="BYTES",
        default=DEFAULT_MAX_BYTES_BILLED,
        help="BigQuery maximum_bytes_billed per query (e.g. 1GiB, 500MB); a query over it fails, never bills. "
        "Default: 1GiB.",
    )
    group.addoption(
        "--query-timeout", dest="health_query_timeout", type=parse_seconds, metavar="SECONDS",
        default=DEFAULT_QUERY_TIMEOUT,
        help="Seconds each BigQuery operation (a query, a metadata lookup, the history's read or write) may take, "
        "retries of transient errors included. Default: 300.",
    )
    group.addoption(
        "--bigquery-endpoint", dest="health_bigquery_endpoint", metavar="URL", default=None,
        help="BigQuery API endpoint of an emulator (anonymous credentials), e.g. http://127.0.0.1:9050. "
        f"Default: ${ENDPOINT_ENV}, else Google's.",
    )
    group.addoption(
        "--dry-run", dest="health_dry_run", action="store_true", default=False,
        help="Validate and print every planned query with its estimated bytes; run no check. Default: off.",
    )
    group.addoption(
        "--reports-dir", dest="health_reports_dir", type=Path, metavar="PATH", default=None,
        help="Archive folder: each run of data_tests writes report.html, results.json and junit.xml under "
        "PATH/<date>/<run time>/ and updates PATH/index.html. Default: the health_reports_dir ini value (reports).",
    )
    group.addoption(
        "--no-archive", dest="health_no_archive", action="store_true", default=False,
        help="Do not archive this run (no default HTML report either). Default: archive runs of data_tests.",
    )
    group.addoption(
        "--slack-webhook", dest="health_slack_webhook", type=parse_webhook, metavar="URL", default=None,
        help=f"Slack Incoming Webhook for the alert (a secret: prefer ${SLACK_ENV}). Default: ${SLACK_ENV}, else no message.",
    )
    group.addoption(
        "--slack-on", dest="health_slack_on", choices=("always", "warning", "error"), default="warning",
        help="Send the Slack message always, when the status is DEGRADED or worse (warning), or UNHEALTHY "
        "or worse (error). Default: warning.",
    )
    group.addoption(
        "--reprocess", dest="health_reprocess", choices=("send", "dry-run", "off"), default=None,
        help="With [remediation] configured: send the guarded reprocess request, print it without sending "
        "(dry-run), or neither (off). Default: send when [remediation] is configured, else off.",
    )
    group.addoption(
        "--health-config", dest="health_config", type=Path, metavar="PATH", default=None,
        help="Configuration file (tables, critical features, thresholds) merged over the defaults. "
        "Default: the health_config ini value, else the built-in defaults.",
    )
    group.addoption(
        "--history", dest="health_history", metavar="PATH|TABLE", default=None,
        help="Metric history: a DuckDB file (duckdb backend) or [project.]dataset.table (bigquery backend). "
        f"Default: ${HISTORY_ENV}, else [history] in the config (history.duckdb in the archive folder).",
    )
    group.addoption(
        "--no-history", dest="health_no_history", action="store_true", default=False,
        help="Neither read nor write the metric history (baselines then come from the warehouse alone). "
        "Default: history on.",
    )
    group.addoption(
        "--model", dest="health_model", metavar="NAME", default=None,
        help="Run only the checks of the [[models]] entry NAME: the table-level checks of the tables it reads, and "
        "the column-level checks judged on its features alone (a prediction job gating on its own inputs). "
        "Nothing is recorded in the history. Default: every check.",
    )
    parser.addini(
        "health_reports_dir", type="string", default="reports",
        help="Run archive folder for the feature store health checks, relative to the rootdir.",
    )
    parser.addini(
        "health_config", type="string", default="",
        help="Configuration file for the feature store health checks, relative to the rootdir.",
    )
