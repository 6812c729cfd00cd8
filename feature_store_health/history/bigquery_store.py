"""The history in a BigQuery table (the bigquery backend), in a dataset of the user's choosing.

Created on the first write: partitioned by check_date with no partition expiry (it must outlive
the monitored tables' partitions), clustered by table and metric. Each run appends its rows with
one load job (no streaming insert, no DML), and reads its baselines with one query. The read
and the write each end within --query-timeout, retries included (backends/bigquery_calls.py).
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any, Callable, Sequence

from feature_store_health.history.records import HISTORY_COLUMNS, READ_COLUMNS, HistoryError, Names, decode_rows, ndjson

__all__ = ["BigQueryHistory"]

WRITE_HINT = "the caller needs write access to that dataset (roles/bigquery.dataEditor on it) and bigquery.jobs.create"


class BigQueryHistory:
    def __init__(self, client_factory: Callable[[], Any], table_ref: str, labels: dict[str, str],
                 timeout: float, explain: Callable[[BaseException], str]) -> None:
        self._client_factory = client_factory
        self.table_ref = table_ref          # [project.]dataset.table
        self.labels = labels
        self.timeout = timeout              # --query-timeout: the read's bound, and the write's
        self._explain = explain             # the backend's one line for a failed call
        self.location = table_ref

    def _client(self):
        from feature_store_health.backends.base import BackendError

        try:
            return self._client_factory()
        except BackendError as exc:
            raise HistoryError(f"history {self.table_ref}: {exc}") from None

    def _full_ref(self, client) -> str:
        return self.table_ref if self.table_ref.count(".") == 2 else f"{client.project}.{self.table_ref}"

    def read(self, tables: Sequence[str], start: dt.date, end: dt.date, source: str,
             only: Names | None = None) -> dict[tuple[str, dt.date], dict[str, Any]]:
        from google.api_core import exceptions
        from google.cloud import bigquery

        from feature_store_health.backends.bigquery_calls import query_rows

        client = self._client()
        ref = self._full_ref(client)
        named: list = []
        where = ""
        if only is not None:   # some names only (the dashboard's): filtered before the newest-per-name window
            where = " AND (name IN UNNEST(@names)" + "".join(
                f" OR STARTS_WITH(name, @prefix{index})" for index in range(len(only.prefixes))) + ")"
            named = [bigquery.ArrayQueryParameter("names", "STRING", list(only.names)),
                     *(bigquery.ScalarQueryParameter(f"prefix{index}", "STRING", prefix)
                       for index, prefix in enumerate(only.prefixes))]
        sql = (
            f"SELECT {', '.join(READ_COLUMNS)}\n"
            f"FROM `{ref}`\n"
            f"WHERE check_date BETWEEN @start_date AND @end_date AND table_name IN UNNEST(@tables) "
            f"AND source = @source{where}\n"
            f"QUALIFY ROW_NUMBER() OVER (PARTITION BY table_name, check_date, name "
            f"ORDER BY run_at DESC, run_id DESC) = 1"
        )
        config = bigquery.QueryJobConfig(
            query_parameters=[bigquery.ScalarQueryParameter("start_date", "DATE", start),
                              bigquery.ScalarQueryParameter("end_date", "DATE", end),
                              bigquery.ArrayQueryParameter("tables", "STRING", list(tables)),
                              bigquery.ScalarQueryParameter("source", "STRING", source), *named],
            labels={**self.labels, "purpose": "history-read"},
        )
        try:
            _, found = query_rows(client, sql, config, None, self.timeout)
            rows = [tuple(row[name] for name in READ_COLUMNS) for row in found]
        except exceptions.NotFound:
            # nothing recorded yet: the first write creates the table (or says its dataset is missing)
            return {}
        except exceptions.Forbidden:
            raise HistoryError(f"history {ref}: permission denied reading it; the caller needs read access "
                               "to its dataset and bigquery.jobs.create") from None
        except Exception as exc:
            raise HistoryError(f"history {ref}: cannot read it: {self._explain(exc)}") from None
        self.damaged: list[str] = []
        return decode_rows(rows, self.damaged)

    def write(self, rows: list[dict[str, Any]]) -> None:
        from google.api_core import exceptions
        from google.cloud import bigquery

        from feature_store_health.backends.bigquery_calls import Deadline

        if not rows:
            return
        client = self._client()
        ref = self._full_ref(client)
        deadline = Deadline(self.timeout)  # one bound for the table's creation, the upload and the load
        schema = [bigquery.SchemaField(name, kind) for name, kind in HISTORY_COLUMNS.items()]
        try:
            table = bigquery.Table(ref, schema=schema)
            table.time_partitioning = bigquery.TimePartitioning(type_=bigquery.TimePartitioningType.DAY,
                                                                field="check_date", expiration_ms=None)
            table.clustering_fields = ["table_name", "name"]
            table.description = "feature-store-health metric history: every run's metrics and verdicts"
            client.create_table(table, exists_ok=True, **deadline.call())
            # a resumable upload of newline-delimited JSON (the emulator rejects the multipart path)
            job = client.load_table_from_file(
                io.BytesIO(ndjson(rows)), ref,
                job_config=bigquery.LoadJobConfig(
                    source_format=bigquery.SourceFormat.NEWLINE_DELIMITED_JSON, schema=schema,
                    write_disposition=bigquery.WriteDisposition.WRITE_APPEND,
                    labels={**self.labels, "purpose": "history-write"},
                ),
                **deadline.upload(),
            )
            job.result(**deadline.call())
        except exceptions.Forbidden:
            raise HistoryError(f"history {ref}: permission denied writing it; {WRITE_HINT}") from None
        except exceptions.NotFound as exc:
            raise HistoryError(f"history {ref}: {_first_line(exc)}; create the dataset first "
                               "(the table is created on the first write)") from None
        except Exception as exc:
            raise HistoryError(f"history {ref}: cannot write it: {self._write_failure(exc)}") from None

    def _write_failure(self, exc: BaseException) -> str:
        """The API's failures (retries spent included) in the backend's words, a timeout as a
        timeout, a rejected load (400) or anything else in its own first line."""
        import concurrent.futures

        import requests
        from google.api_core import exceptions

        if isinstance(exc, (TimeoutError, concurrent.futures.TimeoutError, requests.exceptions.ReadTimeout)):
            return f"timed out after {self.timeout:g} s (--query-timeout)"
        if isinstance(exc, (exceptions.RetryError, exceptions.GoogleAPICallError)) and \
                not isinstance(exc, exceptions.BadRequest):
            return self._explain(exc)
        response = getattr(exc, "response", None)  # an upload's failure (google-resumable-media): its HTTP answer
        if response is not None and getattr(response, "status_code", None):
            return self._explain(exceptions.from_http_response(response))
        return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
