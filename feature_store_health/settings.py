"""The run's settings: ``RunSettings``, every per-run value read once from the command line (the
options of options.py), the environment and the ini file. Flags that contradict each other, and
paths that cannot be what they claim, raise ``pytest.UsageError`` when it is built: a one-line
error with exit code 4.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import os
from pathlib import Path
from typing import NamedTuple

import pytest

from feature_store_health.alerting.secret import Secret
from feature_store_health.history.duckdb_store import history_path_problem
from feature_store_health.options import (
    DEFAULT_MAX_BYTES_BILLED, DEFAULT_QUERY_TIMEOUT, ENDPOINT_ENV, HISTORY_ENV, SLACK_ENV, parse_webhook,
)

__all__ = ["RunSettings", "resolve_config_path"]


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
        return _dates(self.check_date, self.days)

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


@functools.lru_cache(maxsize=16)
def _dates(check_date: dt.date, days: int) -> tuple[dt.date, ...]:
    """The run's dates, oldest first: asked for thousands of times a run, computed once."""
    first = check_date - dt.timedelta(days=days - 1)
    return tuple(first + dt.timedelta(days=offset) for offset in range(days))
