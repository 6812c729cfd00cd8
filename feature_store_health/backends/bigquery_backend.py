"""BigQuery backend: google-cloud-bigquery, query parameters, bounded cost, errors a user can act on.

Only this module, bigquery_calls (every call's bounded retry and timeout) and the BigQuery history
import Google's libraries (~0.4 s), and only when ``--backend=bigquery`` runs.
The SQL is the same BigQuery text the DuckDB backend transpiles: dates are DATE query
parameters, the date filter prunes partitions, ``maximum_bytes_billed`` caps the cost, and
jobs carry labels naming the suite, the table and the date.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from typing import Any, Mapping, NamedTuple

from feature_store_health.backends.base import BackendError, QueryResult, QueryStats, TableDescription, as_utc
from feature_store_health.backends.bigquery_calls import Deadline, query_rows
from feature_store_health.checks.query import sql_hash

__all__ = ["BigQueryBackend", "BigQuerySettings", "normalize_endpoint"]

AUTH_HINT = (
    "authenticate with `gcloud auth application-default login`, or set GOOGLE_APPLICATION_CREDENTIALS "
    "to a service-account key file"
)
PERMISSION_HINT = "the caller needs bigquery.jobs.create on the project and read access (bigquery.tables.getData) on the datasets"
CANCEL_SECONDS = 5.0   # each job's cancel request on an interrupted run (BigQueryBackend.interrupt)


class BigQuerySettings(NamedTuple):
    project: str | None
    location: str | None
    endpoint: str | None          # an emulator's URL; anonymous credentials then
    max_bytes_billed: int
    query_timeout: float          # seconds for one operation's API calls, retries included (bigquery_calls)
    labels: Mapping[str, str]


def normalize_endpoint(value: str) -> str:
    """``127.0.0.1:9050`` or ``http://127.0.0.1:9050`` -> ``http://127.0.0.1:9050``."""
    value = value.strip().rstrip("/")
    return value if "://" in value else f"http://{value}"


class BigQueryBackend:
    name = "bigquery"

    def __init__(self, settings: BigQuerySettings) -> None:
        self.settings = settings
        self._client = None
        self._making = threading.Lock()   # queries run from the run's threads (run_ahead.py): one client
        self._jobs: set = set()           # the query jobs running now (interrupt cancels them)

    def describe(self) -> str:
        where = f"project {self.settings.project or '(from credentials)'}"
        if self.settings.endpoint:
            where += f" at {self.settings.endpoint}"
        return where

    @property
    def client(self):
        with self._making:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def _make_client(self):
        try:
            from google.cloud import bigquery
        except ImportError:
            raise BackendError(
                "google-cloud-bigquery is not installed: pip install -e '.[bigquery]'"
            ) from None
        import google.auth.exceptions

        options: dict[str, Any] = {"project": self.settings.project, "location": self.settings.location}
        if self.settings.endpoint:
            from google.api_core.client_options import ClientOptions
            from google.auth.credentials import AnonymousCredentials

            options["credentials"] = AnonymousCredentials()
            options["client_options"] = ClientOptions(api_endpoint=self.settings.endpoint)
        try:
            return bigquery.Client(**options)
        except google.auth.exceptions.DefaultCredentialsError:
            raise BackendError(f"no Google credentials found: {AUTH_HINT}") from None
        except google.auth.exceptions.GoogleAuthError as exc:
            raise BackendError(f"Google credentials are not usable ({_first_line(exc)}): {AUTH_HINT}") from None
        except OSError as exc:
            # google.auth raises OSError when the default project cannot be determined
            raise BackendError(f"cannot create a BigQuery client: {_first_line(exc)}; pass --project") from None

    def _job_config(self, table: str, parameters: Mapping[str, dt.date], *, dry_run: bool):
        from google.cloud import bigquery

        labels = self._labels(table)
        return bigquery.QueryJobConfig(
            query_parameters=[
                bigquery.ScalarQueryParameter(name, "DATE", value) for name, value in parameters.items()
            ],
            maximum_bytes_billed=self.settings.max_bytes_billed,
            labels=labels,
            dry_run=dry_run,
            use_query_cache=not dry_run,
        )

    def _labels(self, table: str) -> dict[str, str]:
        return {**self.settings.labels, "table": _label(table)}

    def run_query(self, table: str, sql: str, parameters: Mapping[str, dt.date]) -> QueryResult:
        started = time.perf_counter()
        mine: list = []   # this call's jobs (a transient failure submits another)

        def submitted(job) -> None:
            mine.append(job)
            self._jobs.add(job)

        try:
            job, rows = query_rows(self.client, sql, self._job_config(table, parameters, dry_run=False),
                                   self.settings.location, self.settings.query_timeout, started=submitted)
        except BackendError:
            raise
        except Exception as exc:  # every failure becomes one actionable line, never a pass
            raise BackendError(f"{table}: {self.explain(exc)}") from None
        finally:
            self._jobs.difference_update(mine)
        rows = [{key: as_utc(value) for key, value in row.items()} for row in rows]
        seconds = time.perf_counter() - started
        stats = QueryStats(table, sql_hash(sql), len(rows), seconds, job.total_bytes_processed,
                           job_id=job.job_id, labels=job.labels or self._labels(table))
        return QueryResult(rows, stats)

    def interrupt(self) -> None:
        """Cancel the query jobs running now (a run interrupted while its queries run ahead of it):
        they stop being billed; each cancel is bounded, and one that fails is left to end alone."""
        for job in list(self._jobs):
            try:
                job.cancel(timeout=CANCEL_SECONDS)
            except Exception:   # noqa: BLE001 -- the run is stopping: nothing to report it to
                pass

    def describe_table(self, table_ref: str) -> TableDescription:
        """The table's schema from its metadata (tables.get): no job, no bytes billed."""
        from feature_store_health.checks.contract import normalize_bigquery_type

        started = time.perf_counter()
        try:
            table = self.client.get_table(table_ref, **Deadline(self.settings.query_timeout).call())
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"{table_ref}: {self.explain(exc)}") from None
        columns = {field.name: normalize_bigquery_type(field.field_type, field.mode) for field in table.schema}
        return TableDescription(columns, time.perf_counter() - started)

    def dry_run(self, table: str, sql: str, parameters: Mapping[str, dt.date]) -> int | None:
        """Validate the query without running it; the estimated bytes it would process."""
        try:
            job, _ = query_rows(self.client, sql, self._job_config(table, parameters, dry_run=True),
                                self.settings.location, self.settings.query_timeout)
        except BackendError:
            raise
        except Exception as exc:
            raise BackendError(f"{table}: {self.explain(exc)}") from None
        return job.total_bytes_processed

    def explain(self, exc: BaseException) -> str:
        """One line a user can act on, for any failure of a BigQuery call."""
        import concurrent.futures

        import google.auth.exceptions
        import requests
        from google.api_core import exceptions as api

        if isinstance(exc, api.RetryError):
            last = exc.cause
            if isinstance(last, requests.exceptions.ReadTimeout):  # connected, but no answer in time
                return self.explain(last)
            if last is None or _is_connection_error(last):
                return (f"BigQuery is unreachable{self._at()}: gave up after retrying for "
                        f"{self.settings.query_timeout:g} s (--query-timeout): {_first_line(last or exc)}")
            return f"still failing after retries for {self.settings.query_timeout:g} s: {self.explain(last)}"
        reason = _reason(exc)
        message = _api_message(exc)
        if isinstance(exc, google.auth.exceptions.DefaultCredentialsError):
            return f"no Google credentials found: {AUTH_HINT}"
        if isinstance(exc, google.auth.exceptions.RefreshError):
            return f"Google credentials were refused ({message}): {AUTH_HINT}"
        if reason == "bytesBilledLimitExceeded" or "bytes billed" in message.lower():
            return (
                f"bytes limit exceeded: the query would bill more than --max-bytes-billed="
                f"{self.settings.max_bytes_billed:,} bytes; raise the limit or check fewer --days ({message})"
            )
        if isinstance(exc, (concurrent.futures.TimeoutError, TimeoutError, api.DeadlineExceeded,
                            requests.exceptions.ReadTimeout)):
            return f"query timed out after {self.settings.query_timeout:g} s (--query-timeout); the job may still be running"
        if _is_connection_error(exc):
            return f"BigQuery is unreachable{self._at()}: {_first_line(exc)}"
        if isinstance(exc, api.NotFound):
            found = message if message.lower().startswith("not found") else f"not found: {message}"
            return f"{found}; check the dataset and table names in the configuration and --project"
        if isinstance(exc, api.Forbidden) or reason == "accessDenied":
            return f"permission denied: {message}; {PERMISSION_HINT}"
        if isinstance(exc, api.Unauthorized):
            return f"not authenticated: {message}; {AUTH_HINT}"
        if isinstance(exc, api.BadRequest):
            return f"query rejected: {message}"
        if isinstance(exc, api.GoogleAPICallError):
            return f"BigQuery error {exc.code}: {message}"
        return f"query failed: {type(exc).__name__}: {_first_line(exc)}"

    def _at(self) -> str:
        return f" at {self.settings.endpoint}" if self.settings.endpoint else ""

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


def _is_connection_error(exc: BaseException) -> bool:
    import requests

    return isinstance(exc, (ConnectionError, requests.exceptions.ConnectionError, requests.exceptions.Timeout))


def _reason(exc: BaseException) -> str | None:
    try:
        return exc.errors[0]["reason"]  # type: ignore[attr-defined]
    except (AttributeError, IndexError, KeyError, TypeError):
        return None


def _api_message(exc: BaseException) -> str:
    """The API's own words: no 'POST https://…/jobs:' prefix, no repeated 'reason: …' tail."""
    message = str(getattr(exc, "message", None) or exc)
    message = re.sub(r"^(GET|POST|PUT|PATCH|DELETE) \S+: ", "", message)
    return _first_line(Exception(message.split("; reason:")[0]))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _label(value: str) -> str:
    """BigQuery label values: lowercase letters, digits, _ and -, at most 63 characters."""
    cleaned = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in value.lower())
    return cleaned[:63]
