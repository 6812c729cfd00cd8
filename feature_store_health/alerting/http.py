"""One bounded retry policy for every outbound POST (the Slack webhook, the reprocess endpoint).

Each attempt has its timeout, all attempts together ``total_seconds``, at most ``max_attempts``;
the wait doubles from 1 s, or is what a Retry-After header says. Which answers are tried again is
the caller's: a Slack message may arrive twice, a reprocess request must not (``retry_transient``
against ``retry_unsent``). Every text an answer carries went through the caller's redactor, so no
secret (a webhook path, a bearer token) reaches a message, a log or a report.
"""

from __future__ import annotations

import contextlib
import logging
import time
import urllib.parse
from typing import Any, Callable, Iterator, Mapping, NamedTuple

__all__ = ["Answer", "PostResult", "RetryPolicy", "post", "retry_transient", "retry_unsent"]

BODY_SHOWN = 200   # characters of an error body kept in a detail text


class Answer(NamedTuple):
    """What one attempt got: an HTTP status, or no answer (a timeout, a connection error)."""

    status: int | None = None        # None: no HTTP answer
    body: str = ""                   # redacted, stripped, at most BODY_SHOWN characters
    body_cut: bool = False           # the body was longer than BODY_SHOWN
    retry_after: float | None = None  # seconds, from a Retry-After header given in seconds
    timed_out: bool = False          # sent, no answer within the attempt's timeout
    error: str | None = None         # a connection error as the library says it (redacted)
    error_summary: str | None = None  # ... in a few words ("cannot connect to host:port (Connection refused)")
    unsent: bool = False             # the request never reached the server: refused, DNS, connect timeout
    detail: str = "not attempted"    # the answer as one line: "HTTP 500 <body>", "no answer within 10 s", ...

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class RetryPolicy(NamedTuple):
    timeout_seconds: float
    total_seconds: float
    max_attempts: int
    retries: Callable[[Answer], bool]                  # whether this answer is tried again
    retry_after_statuses: frozenset[int] = frozenset({429})   # statuses whose Retry-After sets the wait


class PostResult(NamedTuple):
    answer: Answer        # the last attempt's
    attempts: int
    detail: str           # the last answer's detail, and why retries stopped when the time ran out


def retry_transient(answer: Answer) -> bool:
    """For a request that may arrive twice (Slack): 429, 5xx, timeouts and connection errors."""
    if answer.status is not None:
        return answer.status == 429 or answer.status >= 500
    return True


def retry_unsent(answer: Answer) -> bool:
    """For a request that must not arrive twice (it starts a job): only what never reached the
    server, and a 429 or 503 that says when to come back. Never a 500 or a timeout: the endpoint
    may have started it."""
    if answer.status is not None:
        return answer.status in (429, 503) and answer.retry_after is not None
    return answer.unsent


@contextlib.contextmanager
def _quiet_http_logs() -> Iterator[None]:
    """urllib3 logs request URLs at DEBUG; a webhook path is a secret."""
    logger = logging.getLogger("urllib3")
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def post(
    url: str,
    body: Any,
    policy: RetryPolicy,
    *,
    headers: Mapping[str, str] | None = None,
    redactor: Callable[[str], str] = str,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> PostResult:
    """POST ``body`` as JSON until an answer is not to be retried, the attempts are used up, or the
    next wait would pass ``total_seconds``."""
    deadline = clock() + policy.total_seconds
    answer = Answer()
    detail = answer.detail
    attempts = 0
    backoff = 1.0
    with _quiet_http_logs():
        while attempts < policy.max_attempts:
            remaining = deadline - clock()
            if remaining <= 0:
                break
            attempts += 1
            answer = _attempt(url, body, headers, min(policy.timeout_seconds, remaining), redactor)
            detail = answer.detail
            if answer.ok or not policy.retries(answer):
                return PostResult(answer, attempts, detail)
            wait = backoff
            if answer.status in policy.retry_after_statuses and answer.retry_after is not None:
                wait = answer.retry_after
            backoff *= 2
            if attempts >= policy.max_attempts:
                break
            if wait >= deadline - clock():
                detail += f"; next retry would pass the {policy.total_seconds:g} s limit"
                break
            sleep(wait)
    return PostResult(answer, attempts, detail)


def _attempt(url: str, body: Any, headers: Mapping[str, str] | None, timeout: float,
             redactor: Callable[[str], str]) -> Answer:
    import requests

    try:
        response = requests.post(url, json=body, headers=dict(headers) if headers else None, timeout=timeout)
    except requests.ConnectTimeout:  # before the Timeout clause: no connection, so nothing was sent
        return Answer(error=f"ConnectTimeout: no connection within {timeout:g} s", unsent=True,
                      error_summary=redactor(f"no connection to {_netloc(url)} within {timeout:g} s"),
                      detail=f"no answer within {_seconds(timeout)} s")
    except requests.Timeout:
        return Answer(timed_out=True, detail=f"no answer within {_seconds(timeout)} s")
    except requests.RequestException as exc:
        error = redactor(f"{type(exc).__name__}: {exc}")
        summary, unsent = _connection_error(exc, url)
        return Answer(error=error, error_summary=redactor(summary), unsent=unsent, detail=error)
    if 200 <= response.status_code < 300:
        return Answer(status=response.status_code, detail=f"HTTP {response.status_code}")
    # redacted before it is cut: a secret the endpoint echoes across the cut would leave its start
    text = redactor(response.text.strip())
    shown = text[:BODY_SHOWN]
    return Answer(status=response.status_code, body=shown, body_cut=len(text) > BODY_SHOWN,
                  retry_after=_retry_after(response.headers.get("Retry-After")),
                  detail=f"HTTP {response.status_code}" + (f" {shown}" if shown else ""))


def _connection_error(exc: Exception, url: str) -> tuple[str, bool]:
    """A few words for a connection error, and whether the request surely never reached the server:
    no connection was made (refused, the name did not resolve). A reset or a closed connection
    after connecting may come after the server read the request: not "unsent"."""
    from urllib3.exceptions import NameResolutionError, NewConnectionError

    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    netloc = _netloc(url)
    if isinstance(reason, NameResolutionError):
        cause = reason.__cause__
        why = getattr(cause, "strerror", None) or str(cause or reason)
        return f"cannot resolve {urllib.parse.urlsplit(url).hostname} ({why})", True
    if isinstance(reason, NewConnectionError):
        cause = reason.__cause__
        why = getattr(cause, "strerror", None) or str(cause or reason)
        return f"cannot connect to {netloc} ({why})", True
    return f"{type(exc).__name__}: {reason or exc}", False


def _netloc(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname + (f":{parts.port}" if parts.port else "") if parts.hostname else "the endpoint"


def _retry_after(header: str | None) -> float | None:
    """Retry-After in seconds (an HTTP date is not honoured: the backoff applies)."""
    try:
        return max(0.0, float(header)) if header is not None else None
    except ValueError:
        return None


def _seconds(value: float) -> str:
    """A timeout for a message: "10", "2", "0.5" (an attempt cut short by the total limit is
    2 s, never 1.99997 s)."""
    return f"{round(value, 1):g}"
