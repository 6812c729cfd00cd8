"""Command-line options: declared once, parsed and validated at parse time.

A bad value is an ``argparse.ArgumentTypeError``, which pytest turns into a one-line usage
error with exit code 4. Flags that contradict each other raise ``pytest.UsageError`` when the
settings object is built.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import re
from pathlib import Path
from typing import NamedTuple

import pytest

from feature_store_health.alerting.secret import Secret
from feature_store_health.history.duckdb_store import history_path_problem

__all__ = ["DEFAULT_MAX_BYTES_BILLED", "DEFAULT_QUERY_TIMEOUT", "MAX_DAYS", "RunSettings", "add_options",
           "parse_as_of", "parse_bytes", "parse_date", "parse_days", "parse_seconds", "resolve_config_path"]

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


class RunSettings(NamedTuple):
    """Every per-run value, read once from the command line."""

    check_date: dt.date
    days: int
    backend: str
    database: Path | None
    project: str | None
    as_of: dt.datetime | None
    results_json: Path | None
    fail_on: str
    config_path: Path | None
    location: str | None = None
    max_bytes_billed: int = DEFAULT_MAX_BYTES_BILLED
    query_timeout: float = DEFAULT_QUERY_TIMEOUT
    bigquery_endpoint: str | None = None
    dry_run: bool = False
    reports_dir: Path | None = None        # None: this run is not archived
    slack_webhook: Secret | None = None
    slack_on: str = "warning"
    # $SLACK_WEBHOOK_URL set but not a URL: said when the run would send, never before
    slack_webhook_problem: str | None = None
    selection: tuple[str, ...] = ()        # -m / -k as given: part of "the same run"
    runbook_default: str = "docs/runbook.md"   # the runbook in the checkout, when no [runbook] url
    history: str | None = None             # --history or $FEATURE_STORE_HEALTH_HISTORY; None: the config's
    history_off: bool = False              # --no-history (or the variable set to "off")
    # $FEATURE_STORE_HEALTH_HISTORY names no possible file: refused by runs of health checks only
    history_problem: str | None = None
    history_dir: Path | None = None        # the archive folder, where history.duckdb lives by default
    reports_dir_option: Path | None = None  # --reports-dir as given (resolved): part of the rerun command
    rootdir: Path | None = None            # relative paths of the config file are from here
    reprocess: str | None = None           # --reprocess as given; None: send when [remediation] is configured
    model: str | None = None               # --model: the checks of one [[models]] entry (config narrowed to it)

    @property
    def dates(self) -> tuple[dt.date, ...]:
        first = self.check_date - dt.timedelta(days=self.days - 1)
        return tuple(first + dt.timedelta(days=offset) for offset in range(self.days))

    @classmethod
    def from_pytest_config(
        cls, config: pytest.Config, *, config_path: Path | None, today: dt.date, timezone: str
    ) -> "RunSettings":
        option = config.option
        backend = option.health_backend
        if backend == "bigquery" and option.health_database is not None:
            raise pytest.UsageError("--database is a DuckDB file; it cannot be used with --backend=bigquery")
        if backend == "duckdb":
            for flag, value in (("--project", option.health_project), ("--location", option.health_location),
                                ("--bigquery-endpoint", option.health_bigquery_endpoint)):
                if value is not None:
                    raise pytest.UsageError(f"{flag} is for --backend=bigquery; the duckdb backend reads --database")
        endpoint = option.health_bigquery_endpoint or os.environ.get(ENDPOINT_ENV) or None
        if backend == "bigquery" and endpoint and not option.health_project:
            raise pytest.UsageError("--project is required with a BigQuery emulator endpoint, e.g. --project=demo")
        database = option.health_database
        if database is not None:
            database = database.expanduser().resolve()
            if not database.is_file():
                raise pytest.UsageError(
                    f"--database: no DuckDB file at {database}; give an existing file "
                    "(it is never created) or leave --database out to use the demo warehouse"
                )
            _check_duckdb_file(database)
        check_date = option.health_date or today
        if check_date.toordinal() - option.health_days + 1 < dt.date.min.toordinal():
            raise pytest.UsageError(
                f"--date={check_date.isoformat()} with --days={option.health_days} starts before "
                f"{dt.date.min.isoformat()}; give a later --date or fewer --days"
            )
        as_of = _as_of_in_zone(option.health_as_of, timezone)
        results_json = option.health_results_json
        if results_json is not None and results_json.is_dir():
            raise pytest.UsageError(f"--results-json: {results_json} is a directory; give a file path, e.g. {results_json / 'results.json'}")
        if option.health_history is not None and not option.health_history.strip():
            # an empty --history is a mistake (an unset shell variable), never the default location
            raise pytest.UsageError("--history is empty; give a DuckDB file path (duckdb backend) or "
                                    "[project.]dataset.table (bigquery backend), or --no-history")
        history = option.health_history or os.environ.get(HISTORY_ENV, "").strip() or None
        history_problem = None
        history_off = option.health_no_history or (history or "").strip().lower() == "off"
        if history_off:
            history = None
        elif history is not None and backend == "duckdb":
            history_path = (config.invocation_params.dir / Path(history).expanduser()).resolve()
            history_problem = history_path_problem(history_path)
            if history_problem and option.health_history:
                raise pytest.UsageError(f"--history: {history_problem}")
            if history_problem:  # like $SLACK_WEBHOOK_URL: refused by the runs of health checks only
                history_problem = f"${HISTORY_ENV}: {history_problem}"
            history = str(history_path)
        reports_dir = option.health_reports_dir.expanduser().resolve() if option.health_reports_dir is not None else None
        webhook, webhook_problem = option.health_slack_webhook, None
        if webhook is None:
            webhook, webhook_problem = _webhook_from_environment()
        return cls(
            check_date=check_date,
            days=option.health_days,
            backend=backend,
            database=database,
            project=option.health_project,
            as_of=as_of,
            results_json=results_json,
            fail_on=option.health_fail_on,
            config_path=config_path,
            location=option.health_location,
            max_bytes_billed=option.health_max_bytes_billed,
            query_timeout=option.health_query_timeout,
            bigquery_endpoint=endpoint if backend == "bigquery" else None,
            dry_run=option.health_dry_run,
            reports_dir=_reports_dir(config),
            slack_webhook=webhook,
            slack_on=option.health_slack_on,
            slack_webhook_problem=webhook_problem,
            selection=_selection(option),
            runbook_default=_runbook_file(config.rootpath),
            history=history,
            history_off=history_off,
            history_problem=history_problem,
            reports_dir_option=reports_dir,
            rootdir=config.rootpath,
            history_dir=reports_dir or config.rootpath / config.getini("health_reports_dir"),
            reprocess=option.health_reprocess,
            model=option.health_model,
        )


def _check_duckdb_file(path: Path) -> None:
    """A DuckDB database file carries the magic bytes ``DUCK`` at offset 8; anything else is a
    wrong path, said now rather than as seven checks that could not run."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(12)
    except OSError as exc:
        raise pytest.UsageError(f"--database: cannot read {path}: {exc.strerror or exc}") from None
    if header[8:12] != b"DUCK":
        raise pytest.UsageError(f"--database: {path} is not a DuckDB database file; give a .duckdb file "
                                "laid out as fixtures/schema/ describes")


def _runbook_file(rootpath: Path) -> str:
    """docs/runbook.md in the rootdir, else in the checkout that holds this package."""
    candidates = [rootpath / "docs" / "runbook.md", Path(__file__).resolve().parents[1] / "docs" / "runbook.md"]
    return str(next((path for path in candidates if path.is_file()), candidates[0]))


def _as_of_in_zone(as_of: dt.datetime | None, timezone: str) -> dt.datetime | None:
    """``--as-of`` with its offset; a local time (no offset) read in ``timezone``. A local time the
    clocks skip (02:30 on the spring-forward night) or pass twice (01:30 in the autumn) is refused:
    moving it silently would measure staleness at a time nobody asked for."""
    if as_of is None:
        return None
    if as_of.tzinfo is None:
        from zoneinfo import ZoneInfo

        zone = ZoneInfo(timezone)
        earlier, later = as_of.replace(tzinfo=zone, fold=0), as_of.replace(tzinfo=zone, fold=1)
        if earlier.utcoffset() != later.utcoffset():
            try:
                round_trip = earlier.astimezone(dt.timezone.utc).astimezone(zone).replace(tzinfo=None)
            except OverflowError:
                round_trip = None
            problem = "does not exist" if round_trip != as_of else "happens twice"
            raise pytest.UsageError(
                f"--as-of={as_of.isoformat()} {problem} in {timezone} (a daylight-saving change); "
                f"give a UTC offset, e.g. --as-of={as_of.isoformat()}{_offset_text(later.utcoffset())}"
            )
        as_of = earlier
    try:
        as_of.astimezone(dt.timezone.utc)
    except OverflowError:
        raise pytest.UsageError(f"--as-of={as_of.isoformat()} is out of range in UTC; give a time between years 1 and 9999") from None
    return as_of


def _offset_text(offset: dt.timedelta | None) -> str:
    minutes = int((offset or dt.timedelta()).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def _selection(option: argparse.Namespace) -> tuple[str, ...]:
    selection: list[str] = []
    if getattr(option, "markexpr", ""):
        selection += ["-m", option.markexpr]
    if getattr(option, "keyword", ""):
        selection += ["-k", option.keyword]
    return tuple(selection)


def _webhook_from_environment() -> tuple[Secret | None, str | None]:
    """$SLACK_WEBHOOK_URL as a Secret, or the problem with it. A malformed value must not stop
    ``pytest --help`` or the project's own tests: it is reported by the runs that would send."""
    value = os.environ.get(SLACK_ENV, "").strip()
    if not value:
        return None, None
    try:
        return parse_webhook(value), None
    except argparse.ArgumentTypeError as exc:
        return None, f"${SLACK_ENV}: {exc}"


def _reports_dir(config: pytest.Config) -> Path | None:
    """Runs of the health suite (data_tests) are archived; the project's own tests are not."""
    option = config.option
    if option.health_no_archive or option.collectonly or option.health_dry_run:
        return None
    if option.health_reports_dir is not None:
        return option.health_reports_dir.expanduser().resolve()
    health_tests = (config.rootpath / "data_tests").resolve()
    for argument in config.args:
        path = (config.invocation_params.dir / argument.split("::")[0]).resolve()
        if path == health_tests or health_tests in path.parents:
            return config.rootpath / config.getini("health_reports_dir")
    return None


def resolve_config_path(config: pytest.Config) -> Path | None:
    """``--health-config`` wins over the ``health_config`` ini value; None means built-in defaults."""
    if config.option.health_config is not None:
        return config.option.health_config
    ini_value = config.getini("health_config")
    return config.rootpath / ini_value if ini_value else None
