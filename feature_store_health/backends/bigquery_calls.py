"""One bound on every Google API call: ``--query-timeout``, retries of transient errors included.

google-cloud-bigquery's defaults retry a transient error (429, 5xx, a dropped connection) for ten
minutes per call, resubmit a failed query job for forty, retry an upload's requests for ten and
wait on a request for ever: a 5xx storm would outlast Cloud Run's task timeout and the run would
end with no report and no alert. So each operation (a query and its rows, a dry run, a metadata
lookup, the history's read, the history's write) gets a ``Deadline`` of ``--query-timeout``, and
every call it makes is given the time left, as its retry's deadline and as its request timeout.

Google's libraries are imported inside the functions: only ``--backend=bigquery`` loads them.
"""

from __future__ import annotations

import time
from typing import Any

__all__ = ["Deadline", "job_failed_transiently", "query_rows"]

# The resumable upload's backoff (google-resumable-media): 1 s, doubled after each retry up to
# 64 s, each wait plus up to 1 s of jitter.
_UPLOAD_FIRST_WAIT, _UPLOAD_LONGEST_WAIT, _UPLOAD_JITTER = 1.0, 64.0, 1.0
_TRANSIENT_JOB_REASONS = {"rateLimitExceeded", "jobRateLimitExceeded", "backendError", "internalError"}


def _now() -> float:
    """The monotonic clock, read so that no test's frozen time (freezegun) ever fakes it: freezegun
    fakes ``time.monotonic`` or not by the few frames above each call, so in a query's thread
    (run_ahead.py) one call could read the frozen clock and the next the real one."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


class Deadline:
    """The time one operation may take, shared by the API calls it makes."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._ends = _now() + seconds

    def left(self) -> float:
        """Seconds left; TimeoutError when none are (a call is never started with no time)."""
        left = self._ends - _now()
        if left <= 0:
            raise TimeoutError(f"timed out after {self.seconds:g} s (--query-timeout)")
        return left

    def call(self) -> dict[str, Any]:
        """The ``retry=`` and ``timeout=`` of one call: the client's retry of transient errors,
        with backoff, given up once the time is spent, and no request waiting longer than that."""
        from google.cloud.bigquery.retry import DEFAULT_RETRY

        left = self.left()
        return {"retry": DEFAULT_RETRY.with_timeout(left), "timeout": left}

    def upload(self) -> dict[str, Any]:
        """``num_retries=`` and ``timeout=`` of ``load_table_from_file``, which takes no retry
        object: as many retries of its requests as their backoff leaves time for."""
        left = self.left()
        retries, waited, wait = 0, 0.0, _UPLOAD_FIRST_WAIT
        while waited + wait + _UPLOAD_JITTER <= left:
            waited += wait + _UPLOAD_JITTER
            retries += 1
            wait = min(2 * wait, _UPLOAD_LONGEST_WAIT)
        return {"num_retries": retries, "timeout": left}


def job_failed_transiently(exc: BaseException) -> bool:
    """A job (or its submission) that failed for a reason worth submitting it again for."""
    from google.api_core import exceptions as api

    try:
        reason = exc.errors[0]["reason"]  # type: ignore[attr-defined]
    except (AttributeError, IndexError, KeyError, TypeError):
        reason = None
    return reason in _TRANSIENT_JOB_REASONS or isinstance(
        exc, (api.TooManyRequests, api.InternalServerError, api.BadGateway, api.ServiceUnavailable))


def query_rows(client: Any, sql: str, job_config: Any, location: str | None,
               seconds: float, started: Any = None) -> tuple[Any, list[Any]]:
    """Run a query and read all its rows within ``seconds``: (the job, its rows).

    A job that fails for a transient reason (rate limit, backend error) is submitted again, with
    backoff, inside the same bound; the client's own job retry (a fixed 40-minute deadline) is
    off. A dry run's job comes back with no rows. ``started(job)``, if given, is told of each job
    submitted (the backend cancels those still running when the run is interrupted)."""
    from google.api_core.retry import Retry

    deadline = Deadline(seconds)

    def attempt() -> tuple[Any, list[Any]]:
        job = client.query(sql, job_config=job_config, location=location, job_retry=None, **deadline.call())
        if started is not None:
            started(job)
        if job_config.dry_run:
            return job, []
        return job, list(job.result(job_retry=None, **deadline.call()))

    resubmit = Retry(predicate=job_failed_transiently, initial=1.0, maximum=8.0, multiplier=2.0,
                     timeout=seconds)
    return resubmit(attempt)()
