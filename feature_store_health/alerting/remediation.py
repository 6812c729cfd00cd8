"""The reprocess request (opt-in ``[remediation]``, SPEC §13): a POST to the Phase 4 endpoint asking it
to rebuild one table's date, guarded so that it never becomes a retry storm.

Three parts, each testable alone:
- ``RemediationConfig``: the ``[remediation]`` section, validated (a bad value is a ConfigError).
- ``plan_requests``: a pure function from the checked date's verdicts, the guard counts, the
  requests already recorded and the date's standing to one decision per triggering table:
  ``send`` (with its JSON body) or ``held`` (and why).
- ``send_request``: the POST with a Google ID token for the endpoint's audience, on the shared
  retry policy (alerting/http.py) that retries only what never reached the endpoint: the request
  is not idempotent. Its outcome is a line of text; the token appears in none.
"""

from __future__ import annotations

import datetime as dt
import re
import urllib.parse
from typing import Any, Callable, Iterable, Mapping, NamedTuple

from feature_store_health.alerting.http import RetryPolicy, post, retry_unsent
from feature_store_health.alerting.secret import Redactor, Secret
from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.verdict import Severity, Verdict
from feature_store_health.config_types import ConfigError
from feature_store_health.config_values import _is_number, _no_unknown_keys, positive_numbers, whole_numbers

__all__ = ["ARRIVAL", "Decision", "GuardCounts", "Recorded", "RemediationConfig", "SendOutcome", "Trigger",
           "google_id_token", "parse_remediation", "plan_requests", "send_request", "trigger_text"]

ARRIVAL = "arrival"   # the arrival dimension (SPEC §13)
_RANK = {Severity.WARNING: 1, Severity.ERROR: 2, Severity.CRITICAL: 3}
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$")


class Trigger(NamedTuple):
    """A verdict of ``dimension`` at ``severity`` or worse on the checked date asks for a reprocess."""

    dimension: str
    severity: Severity

    def __str__(self) -> str:
        return f"{self.dimension}:{self.severity.value}"


DEFAULT_TRIGGERS = (Trigger("coverage", Severity.CRITICAL), Trigger(ARRIVAL, Severity.ERROR),
                    Trigger("source_consistency", Severity.CRITICAL))


class RemediationConfig(NamedTuple):
    url: str
    audience: str
    triggers: tuple[Trigger, ...] = DEFAULT_TRIGGERS
    max_requests_per_date: int = 1
    guard_share_pct: float = 50.0
    circuit_breaker_column: str = "circuit_breaker_active"
    manual_override_column: str = "manual_override_required"
    timeout_seconds: float = 10.0
    total_seconds: float = 30.0
    max_attempts: int = 3


def parse_remediation(raw: Any) -> RemediationConfig | None:
    """``[remediation]``: None when the section is absent. Raises ConfigError naming the key."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError("[remediation] must be a table")
    _no_unknown_keys(raw, set(RemediationConfig._fields), "remediation.")
    if "url" not in raw:
        raise ConfigError('remediation.url is required: the Phase 4 reprocess endpoint, e.g. '
                          'url = "https://phase4-reprocess-abc123-uc.a.run.app/reprocess"')
    url = _url(raw["url"], "remediation.url")
    parts = urllib.parse.urlsplit(url)
    audience = raw.get("audience", f"{parts.scheme}://{parts.netloc}")
    if not isinstance(audience, str) or not audience.strip() or any(char.isspace() for char in audience):
        raise ConfigError(f"remediation.audience must be the endpoint's audience (its URL), got {audience!r}")
    config = RemediationConfig(url=url, audience=audience)
    if "triggers" in raw:
        config = config._replace(triggers=_triggers(raw["triggers"]))
    config = config._replace(**whole_numbers(raw, ("max_requests_per_date", "max_attempts"), "remediation."))
    if "guard_share_pct" in raw:
        value = raw["guard_share_pct"]
        if not _is_number(value) or not 0 <= value <= 100:
            raise ConfigError(f"remediation.guard_share_pct must be a percentage from 0 to 100, got {value!r}")
        config = config._replace(guard_share_pct=float(value))
    config = config._replace(**positive_numbers(raw, ("timeout_seconds", "total_seconds"), "remediation."))
    for key in ("circuit_breaker_column", "manual_override_column"):
        if key in raw:
            value = raw[key]
            if not isinstance(value, str) or not _COLUMN.match(value):
                raise ConfigError(f"remediation.{key} = {value!r} is not a column name")
            config = config._replace(**{key: value})
    return config


def _url(value: Any, key: str) -> str:
    try:   # an unclosed IPv6 bracket, a port out of range: a config error, never a traceback
        parts = urllib.parse.urlsplit(value) if isinstance(value, str) else None
        if parts is not None:
            parts.port  # noqa: B018  raises on a port that is no number or out of range
    except ValueError:
        parts = None
    if parts is not None and (parts.username or parts.password):
        raise ConfigError(f"{key} must not carry credentials (user:password@): the request authenticates with a "
                          "Google ID token")
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname or parts.port == 0 \
            or any(char.isspace() for char in value):
        raise ConfigError(f"{key} must be an http(s) URL, e.g. \"https://phase4-reprocess-abc123-uc.a.run.app/reprocess\", "
                          f"got {value!r}")
    return value


def _triggers(value: Any) -> tuple[Trigger, ...]:
    key = "remediation.triggers"
    known = list(DIMENSIONS)
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise ConfigError(f'{key} must be a non-empty list like ["coverage:CRITICAL", "arrival:ERROR"]')
    triggers: list[Trigger] = []
    for item in value:
        dimension, _, severity = item.partition(":")
        if dimension not in known:
            raise ConfigError(f"{key}: {item!r}: {dimension!r} is not a dimension ({', '.join(known)})")
        if severity not in ("WARNING", "ERROR", "CRITICAL"):
            raise ConfigError(f"{key}: {item!r}: give the least severity that asks for a reprocess after the "
                              f"dimension: {dimension}:WARNING, {dimension}:ERROR or {dimension}:CRITICAL")
        if any(trigger.dimension == dimension for trigger in triggers):
            raise ConfigError(f"{key}: {dimension} is listed twice; list each dimension once")
        triggers.append(Trigger(dimension, Severity(severity)))
    return tuple(triggers)


def trigger_text(triggers: Iterable[Trigger]) -> str:
    """``coverage is CRITICAL, arrival is ERROR or worse, or source_consistency is CRITICAL``."""
    parts = [f"{trigger.dimension} is {trigger.severity.value}"
             + ("" if trigger.severity is Severity.CRITICAL else " or worse") for trigger in triggers]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f", or {parts[-1]}"


# -- the planner (pure) ----------------------------------------------------------------------

class GuardCounts(NamedTuple):
    """A table's date as its reprocess machinery sees it, from the table's one query."""

    rows: int
    circuit_breaker: tuple[int, tuple[str, ...]] | None = None   # (TRUE rows, up to 10 players); None: no column
    manual_override: tuple[int, tuple[str, ...]] | None = None
    error: str | None = None      # the counts could not be read (the query failed, a column is missing)


class Recorded(NamedTuple):
    """The requests already recorded in the history for a table's date."""

    requests: int = 0
    last_run_id: str | None = None
    last_at: str | None = None    # ISO time, UTC


class Decision(NamedTuple):
    table: str
    check_date: dt.date
    decision: str                 # "send" or "held"
    body: dict[str, Any]          # the request's JSON body (a held one: what it would have been)
    reason: str = ""              # held: why


def plan_requests(
    verdicts: Iterable[Verdict],
    config: RemediationConfig,
    *,
    check_date: dt.date,
    run_id: str,
    not_checked: str | None = None,
    expired: Mapping[str, bool] | None = None,
    guards: Mapping[str, GuardCounts | None] | None = None,
    recorded: Mapping[str, Recorded] | None = None,
    history_error: str | None = None,
    dry_run: bool = False,
) -> list[Decision]:
    """One decision per table with a triggering verdict on ``check_date``, in the verdicts' order.

    ``not_checked``: why the date is not the run's checked date (a backfill), None when it is.
    ``guards``: per table its guard counts (None or absent: the table has no guard columns).
    ``recorded``: per table the requests already recorded for the date; None: the history is off,
    so none is counted across runs and this run sends at most one. ``history_error``: the history
    could not be read, so nothing can be counted: every request is held."""
    expired, guards = expired or {}, guards or {}
    worst: dict[str, Verdict] = {}
    for verdict in verdicts:
        if verdict.check_date == check_date and _triggers_on(verdict, config.triggers):
            current = worst.get(verdict.table)
            # the worst; among equals, the one whose trigger comes first in the configuration (a
            # night that never landed is coverage's "0 records", not arrival's "not landed" too)
            if current is None or (_RANK[verdict.severity], -_trigger_index(verdict, config.triggers)) \
                    > (_RANK[current.severity], -_trigger_index(current, config.triggers)):
                worst[verdict.table] = verdict
    decisions: list[Decision] = []
    for table, verdict in worst.items():
        body = {"table": table, "date": check_date.isoformat(), "dimension": verdict.dimension,
                "severity": verdict.severity.value, "reason": verdict.message, "run_id": run_id}
        sending = any(decision.decision == "send" for decision in decisions)
        reason = _held_reason(table, config, not_checked, expired.get(table, False), guards.get(table),
                              recorded, history_error, dry_run, sending)
        decisions.append(Decision(table, check_date, "held" if reason else "send", body, reason or ""))
    return decisions


def _trigger_index(verdict: Verdict, triggers) -> int:
    return next((index for index, trigger in enumerate(triggers) if trigger.dimension == verdict.dimension), len(triggers))


def _triggers_on(verdict: Verdict, triggers: Iterable[Trigger]) -> bool:
    rank = _RANK.get(verdict.severity)  # OK, SKIPPED and NOT_EVALUATED never ask for a reprocess
    if verdict.dimension == ARRIVAL and (verdict.details or {}).get("landed"):
        return False   # landed, only late: reprocessing cannot undo the read it missed
    return rank is not None and any(trigger.dimension == verdict.dimension and rank >= _RANK[trigger.severity]
                                    for trigger in triggers)


def _held_reason(table: str, config: RemediationConfig, not_checked: str | None, expired: bool,
                 guard: GuardCounts | None, recorded: Mapping[str, Recorded] | None, history_error: str | None,
                 dry_run: bool, sending: bool) -> str | None:
    """Why no request goes out for the table, the strongest reason first; None: it goes."""
    if not_checked:
        return not_checked
    if expired:
        return "past partition expiry"
    if guard is not None:
        if guard.error:
            return f"the circuit-breaker counts could not be read ({guard.error}) — reprocess by hand"
        dominated = [_guard_text(label, counts, guard.rows, config.guard_share_pct)
                     for label, counts in (("circuit breaker active", guard.circuit_breaker),
                                           ("manual override required", guard.manual_override))
                     if counts is not None and guard.rows and 100.0 * counts[0] / guard.rows > config.guard_share_pct]
        if dominated:
            return "; ".join(dominated) + " — reprocess by hand"
    if history_error:
        return f"the history could not be read, so requests cannot be counted: {history_error}"
    previous = (recorded or {}).get(table, Recorded())
    if recorded is not None and previous.requests >= config.max_requests_per_date:
        return (f"already requested {previous.requests} of max {config.max_requests_per_date} for this date "
                f"(run {previous.last_run_id} at {_shown_time(previous.last_at)})")
    if dry_run:
        return "--reprocess=dry-run"
    if recorded is None and sending:
        return "history off: at most one request per run (not counted across runs)"
    return None


def _guard_text(label: str, counts: tuple[int, tuple[str, ...]], rows: int, share_pct: float) -> str:
    flagged, players = counts
    named = ", ".join(players) + (f" and {flagged - len(players)} more" if flagged > len(players) else "")
    return f"{label} on {flagged} of {rows} rows (more than {share_pct:g} %): {named}"


def _shown_time(text: str | None) -> str:
    try:
        moment = dt.datetime.fromisoformat(text or "")
    except ValueError:
        return text or "an unknown time"
    return f"{moment.astimezone(dt.timezone.utc):%Y-%m-%d %H:%M} UTC"


# -- the sender --------------------------------------------------------------------------------

class SendOutcome(NamedTuple):
    text: str           # "sent: HTTP 200", "not sent: ...": never a token
    counted: bool       # the endpoint got it, or may have: it counts toward max_requests_per_date
    attempts: int = 0


def google_id_token(audience: str) -> str:
    """A Google ID token for ``audience`` from the environment (a service account key named by
    GOOGLE_APPLICATION_CREDENTIALS, else the metadata server on Cloud Run). google-auth is no
    dependency of its own: it comes with google-cloud-bigquery (the ``bigquery`` extra in
    pyproject.toml), which a production run against BigQuery installs anyway."""
    try:
        import google.auth.transport.requests
        import google.oauth2.id_token
    except ImportError:
        raise RuntimeError("google-auth is not installed (pip install 'feature-store-health[bigquery]')") from None
    return google.oauth2.id_token.fetch_id_token(google.auth.transport.requests.Request(), audience)


def send_request(
    config: RemediationConfig,
    body: Mapping[str, Any],
    id_token: Callable[[str], str | None],
    *,
    redactor: Redactor = Redactor(),
    sleep: Callable[[float], None] | None = None,
) -> SendOutcome:
    """POST ``body`` with ``Authorization: Bearer <ID token for the audience>``. Only a request that
    never reached the endpoint (no connection) and a 429/503 saying when to come back are tried
    again; never a 500 or a timeout, after which the endpoint may have started the job."""
    try:
        token = id_token(config.audience)
        if not token:
            raise RuntimeError("no token was returned")
        # `gcloud auth print-identity-token` ends in a newline: never a header value to send, nor
        # to print in an exception (whose repr would escape it past the redactor)
        token = token.strip()
        if not token or any(char.isspace() or ord(char) < 32 for char in token):
            raise RuntimeError("the token returned holds whitespace or control characters")
    except Exception as exc:  # a missing token is an outcome, never a traceback
        return SendOutcome(f"not sent: no ID token for {config.audience}: {redactor(_exception_text(exc))}", False)
    redactor = redactor.adding(Secret(token, "ID token"))
    policy = RetryPolicy(config.timeout_seconds, config.total_seconds, config.max_attempts, retry_unsent,
                         frozenset({429, 503}))
    extra = {"sleep": sleep} if sleep is not None else {}
    result = post(config.url, dict(body), policy, headers={"Authorization": f"Bearer {token}"},
                  redactor=redactor, **extra)
    return SendOutcome(*_outcome(result, config), result.attempts)


def _outcome(result, config: RemediationConfig) -> tuple[str, bool]:
    """The outcome's text, and whether it counts as a request made."""
    answer, attempts = result.answer, result.attempts
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    if answer.ok:
        return f"sent: HTTP {answer.status}", True
    body = answer.body + ("…" if answer.body_cut else "")
    http = f"HTTP {answer.status}" + (f" {body}" if body else "")
    if answer.status == 409:
        return "sent: HTTP 409 (a reprocess is already running)", True
    if answer.status == 429 or (answer.status == 503 and answer.retry_after is not None):
        stopped = " (the next retry would pass the time limit)" if "next retry would pass" in result.detail else ""
        return f"sent: {http} after {tries}{stopped} (the endpoint was busy: not started, not counted)", False
    if answer.status in (401, 403):
        return f"sent: {http} (refused: the endpoint did not accept the ID token for {config.audience})", False
    if answer.status is not None and answer.status < 500:
        return f"sent: {http} (refused by the endpoint: not started)", False
    if answer.status is not None:
        return f"sent: {http} (not retried: the endpoint may have started it)", True
    if answer.timed_out:
        return f"sent: {answer.detail} (not retried)", True
    if answer.unsent:
        return f"not sent: {answer.error_summary} after {tries}", False
    return f"sent: {answer.error_summary} (not retried: the endpoint may have started it)", True


def _exception_text(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
