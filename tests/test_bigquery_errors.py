"""Failures the emulator cannot produce (Google's own limits and IAM), mapped to one actionable line."""

from __future__ import annotations

import concurrent.futures

import pytest
import requests
from google.api_core import exceptions as api

from feature_store_health.backends.bigquery_backend import BigQueryBackend, BigQuerySettings, normalize_endpoint

BACKEND = BigQueryBackend(BigQuerySettings(
    project="my-project", location=None, endpoint=None, max_bytes_billed=2**30, query_timeout=120, labels={}))


def api_error(kind, reason: str, message: str):
    return kind(f"POST https://bigquery.googleapis.com/bigquery/v2/projects/my-project/jobs: {message}",
                errors=[{"reason": reason, "message": message}])


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (api_error(api.BadRequest, "bytesBilledLimitExceeded",
                   "Query exceeded limit for bytes billed: 1073741824. 2147483648 or higher required."),
         "bytes limit exceeded: the query would bill more than --max-bytes-billed=1,073,741,824 bytes; raise the "
         "limit or check fewer --days (Query exceeded limit for bytes billed: 1073741824. 2147483648 or higher required.)"),
        (api_error(api.Forbidden, "accessDenied",
                   "Access Denied: Project my-project: User does not have bigquery.jobs.create permission"),
         "permission denied: Access Denied: Project my-project: User does not have bigquery.jobs.create permission; "
         "the caller needs bigquery.jobs.create on the project and read access (bigquery.tables.getData) on the datasets"),
        (api_error(api.NotFound, "notFound", "Not found: Dataset my-project:nba_precompute"),
         "Not found: Dataset my-project:nba_precompute; check the dataset and table names in the configuration and --project"),
        (concurrent.futures.TimeoutError(),
         "query timed out after 120 s (--query-timeout); the job may still be running"),
        (api.RetryError("Timeout of 120.0s exceeded", cause=api_error(api.ServiceUnavailable, "backendError", "Backend error")),
         "still failing after retries for 120 s: BigQuery error 503: Backend error"),
        (api.RetryError("Timeout of 120.0s exceeded", cause=requests.exceptions.ConnectionError("Connection refused")),
         "BigQuery is unreachable: gave up after retrying for 120 s (--query-timeout): Connection refused"),
        # the server took the request and did not answer within the time left: a timeout, not unreachable
        (api.RetryError("Timeout of 120.0s exceeded", cause=requests.exceptions.ReadTimeout(
            "HTTPConnectionPool(host='127.0.0.1', port=9050): Read timed out. (read timeout=119.9)")),
         "query timed out after 120 s (--query-timeout); the job may still be running"),
        (api_error(api.BadRequest, "invalidQuery", "Unrecognized name: cache_dat at [3:5]"),
         "query rejected: Unrecognized name: cache_dat at [3:5]"),
    ],
)
def test_errors_become_one_actionable_line(error, expected):
    assert BACKEND.explain(error) == expected


def test_endpoint_normalization():
    assert normalize_endpoint("127.0.0.1:9050") == "http://127.0.0.1:9050"
    assert normalize_endpoint("http://127.0.0.1:9050/") == "http://127.0.0.1:9050"
