"""The guarded reprocess request ([remediation], SPEC §13): the planner's every branch without a
network, the shared retry policy and the sender against a loopback server, and end-to-end runs
of the real suite on a scratch copy of the demo warehouse with the clock frozen on the failing
date, a loopback server standing in for the Phase 4 endpoint and a test plugin for the ID token."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import socket
from pathlib import Path

import duckdb
import pytest
from freezegun import freeze_time

# imported here, not first inside a frozen in-process run: their clocks are the real ones
from feature_store_health.alerting import http as http_module  # noqa: F401
from feature_store_health.alerting.http import RetryPolicy, post, retry_transient, retry_unsent
from feature_store_health.alerting.remediation import (
    DEFAULT_TRIGGERS, GuardCounts, Recorded, RemediationConfig, Trigger, parse_remediation, plan_requests,
    send_request,
)
from feature_store_health.alerting.secret import REDACTED, Redactor, Secret, redact
from feature_store_health.checks.plan import table_query
from feature_store_health.checks.verdict import Severity, Verdict
from feature_store_health.config import DEFAULT_CONFIG_PATH, ConfigError, load_config
from conftest import CACHE, COMPOSITE, HEALTH_TESTS, SuiteRun
from loopback_http import Reply, WebhookServer

ROOT = Path(__file__).resolve().parents[1]
DATE = dt.date(2026, 3, 10)
TOKEN = "test-id-token-XYZ"
FROZEN = "2026-03-10 14:00:00"   # 10:00 in New York: 2026-03-10 is today
MESSAGE = "0 records found while 5 games are scheduled"   # coverage of 2026-03-10, its rows deleted


# -- configuration ------------------------------------------------------------------------------

def test_defaults_and_the_audience_from_the_url():
    config = parse_remediation({"url": "https://phase4-abc-uc.a.run.app/reprocess?x=1"})
    assert config == RemediationConfig(url="https://phase4-abc-uc.a.run.app/reprocess?x=1",
                                       audience="https://phase4-abc-uc.a.run.app")
    assert config.triggers == (Trigger("coverage", Severity.CRITICAL), Trigger("arrival", Severity.ERROR),
                               Trigger("source_consistency", Severity.CRITICAL))
    assert (config.max_requests_per_date, config.guard_share_pct, config.timeout_seconds, config.total_seconds,
            config.max_attempts) == (1, 50.0, 10.0, 30.0, 3)
    assert (config.circuit_breaker_column, config.manual_override_column) == ("circuit_breaker_active",
                                                                              "manual_override_required")
    assert parse_remediation(None) is None
    assert load_config().remediation is None   # the shipped example stays commented out: off


@pytest.mark.parametrize(("text", "message"), [
    ('audience = "x"', "remediation.url is required: the Phase 4 reprocess endpoint, e.g. "
                       'url = "https://phase4-reprocess-abc123-uc.a.run.app/reprocess"'),
    ('url = "ftp://host/x"', 'remediation.url must be an http(s) URL, e.g. '
                             '"https://phase4-reprocess-abc123-uc.a.run.app/reprocess", got \'ftp://host/x\''),
    ('url = "https://h/x"\naudience = ""', "remediation.audience must be the endpoint's audience (its URL), got ''"),
    ('url = "https://h/x"\ntriggers = ["coverage"]',
     "remediation.triggers: 'coverage': give the least severity that asks for a reprocess after the dimension: "
     "coverage:WARNING, coverage:ERROR or coverage:CRITICAL"),
    ('url = "https://h/x"\ntriggers = ["freshness:ERROR"]', "remediation.triggers: 'freshness:ERROR': 'freshness' "
     "is not a dimension (arrival, coverage, production_readiness, null_rates, quality_tiers, completeness, "
     "downstream_usage, staleness, schema, uniqueness, value_ranges, source_consistency, anomalies, drift, continuity)"),
    ('url = "https://h/x"\ntriggers = ["coverage:ERROR", "coverage:CRITICAL"]',
     "remediation.triggers: coverage is listed twice; list each dimension once"),
    ('url = "https://h/x"\ntriggers = []',
     'remediation.triggers must be a non-empty list like ["coverage:CRITICAL", "arrival:ERROR"]'),
    ('url = "https://h/x"\nmax_requests_per_date = 0',
     "remediation.max_requests_per_date must be a whole number from 1 to 100, got 0"),
    ('url = "https://h/x"\nmax_requests_per_date = 1.5',
     "remediation.max_requests_per_date must be a whole number from 1 to 100, got 1.5"),
    ('url = "https://h/x"\nguard_share_pct = 120',
     "remediation.guard_share_pct must be a percentage from 0 to 100, got 120"),
    ('url = "https://h/x"\ntimeout_seconds = 0', "remediation.timeout_seconds must be a positive finite number, got 0"),
    ('url = "https://h/x"\ntotal_seconds = inf', "remediation.total_seconds must be a positive finite number, got inf"),
    ('url = "https://h/x"\nmax_attempts = true', "remediation.max_attempts must be a whole number from 1 to 100, got True"),
    ('url = "https://h/x"\ncircuit_breaker_column = "a b"', "remediation.circuit_breaker_column = 'a b' is not a column name"),
    # cannot work: an unclosed IPv6 host, a port out of range, credentials, a guard column no contract has
    ('url = "http://[::1/x"', 'remediation.url must be an http(s) URL, e.g. '
                              '"https://phase4-reprocess-abc123-uc.a.run.app/reprocess", got \'http://[::1/x\''),
    ('url = "http://127.0.0.1:99999/x"', 'remediation.url must be an http(s) URL, e.g. '
                                         '"https://phase4-reprocess-abc123-uc.a.run.app/reprocess", '
                                         'got \'http://127.0.0.1:99999/x\''),
    ('url = "http://svc:H5PASSWORD@127.0.0.1:18504/reprocess"',
     "remediation.url must not carry credentials (user:password@): the request authenticates with a Google ID token"),
    ('url = "https://h/x"\ncircuit_breaker_column = "circuit_breaker_actve"',
     "remediation.circuit_breaker_column = 'circuit_breaker_actve' is no BOOL column in any monitored table's "
     "contract; name the table's guard column (e.g. circuit_breaker_active) or leave the key out"),
    ('url = "https://h/x"\nretries = 2', "unknown key remediation.retries (allowed: audience, circuit_breaker_column, "
     "guard_share_pct, manual_override_column, max_attempts, max_requests_per_date, timeout_seconds, total_seconds, "
     "triggers, url)"),
])
def test_a_bad_remediation_value_names_its_key(tmp_path, text, message):
    path = tmp_path / "health.toml"
    path.write_text(f"[remediation]\n{text}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"config {path}: {message}"


def test_a_bad_remediation_value_is_exit_4(run_suite, tmp_path):
    path = tmp_path / "health.toml"
    path.write_text('[remediation]\nurl = "https://h/x"\nmax_requests_per_date = 0\n')
    run = run_suite(f"--health-config={path}", results=False)
    assert run.ret == 4
    assert run.stderr.strip() == (f"ERROR: config {path}: remediation.max_requests_per_date must be a whole number "
                                  "from 1 to 100, got 0")


def test_the_examples_parse_with_the_section_filled_in(tmp_path):
    """health.toml and docs/production.example.toml carry the section commented out: uncommented,
    both are valid and say what the defaults are."""
    for source in (DEFAULT_CONFIG_PATH, ROOT / "docs" / "production.example.toml"):
        text = source.read_text()
        start = text.index("# [remediation]")
        block = text[start:].split("\n\n")[0]
        assert block.count("\n") >= 10, block
        uncommented = "\n".join(line.removeprefix("# ") for line in block.splitlines())
        path = tmp_path / "example.toml"
        path.write_text(uncommented + "\n")
        config = load_config(path).remediation
        assert config.triggers == DEFAULT_TRIGGERS and config.max_requests_per_date == 1, source
        assert config.guard_share_pct == 50 and config.url.startswith("https://"), source


def test_bad_reprocess_option_values_are_exit_4(run_suite):
    run = run_suite("--reprocess=later", results=False)
    assert run.ret == 4
    assert run.stderr.splitlines()[1].endswith(
        ": error: argument --reprocess: invalid choice: 'later' (choose from 'send', 'dry-run', 'off')")
    run = run_suite("--reprocess=send", results=False)
    assert run.ret == 4
    assert run.stderr.strip() == (
        "ERROR: --reprocess=send needs a [remediation] section in the config with the endpoint's url "
        '(e.g. url = "https://phase4-reprocess-abc123-uc.a.run.app/reprocess"), or leave --reprocess out')


# -- the guard counts ride in the table's one query ---------------------------------------------

def test_guard_metrics_are_in_the_query_only_with_remediation_and_the_columns(tmp_path):
    path = tmp_path / "health.toml"
    path.write_text('[remediation]\nurl = "https://h/x"\n')
    plain, configured = load_config(), load_config(path)
    cache, composite = configured.tables
    sql = table_query(cache, configured).sql
    assert "COUNTIF(circuit_breaker_active) AS guard_rows__circuit_breaker_active" in sql
    assert "COUNTIF(manual_override_required) AS guard_rows__manual_override_required" in sql
    assert ("ARRAY_AGG(IF(circuit_breaker_active AND cache_date = @end_date, player_lookup, NULL) IGNORE NULLS) "
            "AS guard_players__circuit_breaker_active") in sql
    assert "guard_" not in table_query(plain.tables[0], plain).sql          # [remediation] absent
    assert "guard_" not in table_query(composite, configured).sql           # its contract has neither column


# -- the planner (pure) --------------------------------------------------------------------------

CONFIG = RemediationConfig(url="https://p4.example/reprocess", audience="https://p4.example")


def verdict(dimension: str, severity: Severity, table: str = CACHE, check_date: dt.date = DATE,
            message: str = "what it says") -> Verdict:
    return Verdict(table, check_date, dimension, severity, None, {}, message)


def plan(verdicts, **kwargs):
    kwargs.setdefault("recorded", {})
    return plan_requests(verdicts, kwargs.pop("config", CONFIG), check_date=DATE, run_id="run-2", **kwargs)


def test_a_table_that_landed_late_asks_for_no_reprocess():
    """arrival ERROR "landed 06:40, after ready_by": the rows are there; reprocessing cannot undo the
    06:00 read it missed. Not landed by then (CRITICAL, landed False): a request."""
    late = Verdict(CACHE, DATE, "arrival", Severity.ERROR, 6.67, {}, "landed 06:40", {"landed": True})
    missing = Verdict(CACHE, DATE, "arrival", Severity.CRITICAL, None, {}, "not landed by ready_by", {"landed": False})
    assert plan([late]) == []
    [decision] = plan([missing])
    assert (decision.decision, decision.body["dimension"], decision.body["reason"]) == (
        "send", "arrival", "not landed by ready_by")


def test_the_worst_triggering_verdict_is_the_one_request_per_table_and_date():
    decisions = plan([verdict("coverage", Severity.ERROR), verdict("source_consistency", Severity.CRITICAL, message="off"),
                      verdict("coverage", Severity.CRITICAL, message="0 rows"),
                      verdict("null_rates", Severity.CRITICAL), verdict("coverage", Severity.CRITICAL, COMPOSITE)])
    assert [(d.table, d.decision, d.reason) for d in decisions] == [(CACHE, "send", ""), (COMPOSITE, "send", "")]
    # among equal severities, the trigger configured first (coverage, then arrival, then source_consistency)
    assert decisions[0].body == {"table": CACHE, "date": "2026-03-10", "dimension": "coverage",
                                 "severity": "CRITICAL", "reason": "0 rows", "run_id": "run-2"}


def test_below_the_triggers_severity_or_another_date_or_not_judged_asks_for_nothing():
    assert plan([verdict("coverage", Severity.ERROR), verdict("arrival", Severity.WARNING),
                 verdict("coverage", Severity.NOT_EVALUATED), verdict("source_consistency", Severity.SKIPPED),
                 verdict("coverage", Severity.CRITICAL, check_date=DATE - dt.timedelta(days=1))]) == []
    [decision] = plan([verdict("arrival", Severity.CRITICAL)])
    assert (decision.body["dimension"], decision.decision) == ("arrival", "send")   # ERROR or worse
    custom = CONFIG._replace(triggers=(Trigger("null_rates", Severity.WARNING),))
    [decision] = plan([verdict("null_rates", Severity.WARNING), verdict("coverage", Severity.CRITICAL)], config=custom)
    assert decision.body["dimension"] == "null_rates"


CRITICAL = [verdict("coverage", Severity.CRITICAL)]


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"not_checked": "a backfill check of an older date"}, "a backfill check of an older date"),
    ({"expired": {CACHE: True}}, "past partition expiry"),
    ({"guards": {CACHE: GuardCounts(250, (180, ("a", "b")), (0, ()))}},
     "circuit breaker active on 180 of 250 rows (more than 50 %): a, b and 178 more — reprocess by hand"),
    ({"guards": {CACHE: GuardCounts(250, (126, ("a",) * 10), (200, ("m",)))}},
     "circuit breaker active on 126 of 250 rows (more than 50 %): a, a, a, a, a, a, a, a, a, a and 116 more; "
     "manual override required on 200 of 250 rows (more than 50 %): m and 199 more — reprocess by hand"),
    ({"guards": {CACHE: GuardCounts(0, error="circuit_breaker_active missing or retyped in the warehouse")}},
     "the circuit-breaker counts could not be read (circuit_breaker_active missing or retyped in the warehouse) "
     "— reprocess by hand"),
    ({"history_error": "history h.duckdb: cannot open it"},
     "the history could not be read, so requests cannot be counted: history h.duckdb: cannot open it"),
    ({"recorded": {CACHE: Recorded(1, "run-1", "2026-03-10T14:00:05.123+00:00")}},
     "already requested 1 of max 1 for this date (run run-1 at 2026-03-10 14:00 UTC)"),
    ({"dry_run": True}, "--reprocess=dry-run"),
])
def test_each_reason_a_request_is_held(kwargs, reason):
    [decision] = plan(CRITICAL, **kwargs)
    assert (decision.decision, decision.reason) == ("held", reason)
    assert decision.body["reason"] == "what it says"   # what it would have sent


def test_what_the_guards_let_through():
    # exactly half is not more than half; a date without rows has no share; no guard columns: no guard
    for guard in (GuardCounts(250, (125, ("a",)), (125, ("b",))), GuardCounts(0, (0, ()), (0, ())), None):
        assert [d.decision for d in plan(CRITICAL, guards={CACHE: guard})] == ["send"]
    config = CONFIG._replace(max_requests_per_date=2, guard_share_pct=80)
    assert [d.decision for d in plan(CRITICAL, config=config, recorded={CACHE: Recorded(1, "r", "t")},
                                     guards={CACHE: GuardCounts(250, (180, ()), None)})] == ["send"]


def test_with_history_off_a_run_sends_one_request_at_most():
    decisions = plan([*CRITICAL, verdict("coverage", Severity.CRITICAL, COMPOSITE)], recorded=None)
    assert [(d.table, d.decision, d.reason) for d in decisions] == [
        (CACHE, "send", ""), (COMPOSITE, "held", "history off: at most one request per run (not counted across runs)")]


# -- one redactor for several secrets -----------------------------------------------------------

def test_one_redactor_takes_out_the_webhook_and_the_token_and_the_old_api_still_works():
    webhook = Secret("https://hooks.slack.com/services/T0/B0/s3cret")
    token = Secret("eyJhbGciOi.payload.sig", "ID token")
    text = ("POST https://hooks.slack.com/services/T0/B0/s3cret failed; header Bearer eyJhbGciOi.payload.sig; "
            "lower eyjhbgcioi.PAYLOAD.sig; path /services/T0/B0/s3cret")
    assert Redactor(webhook, token, None)(text) == (
        f"POST {REDACTED} failed; header Bearer <redacted ID token>; lower <redacted ID token>; path /<redacted>")
    assert redact(text, webhook) == (f"POST {REDACTED} failed; header Bearer eyJhbGciOi.payload.sig; "
                                     "lower eyjhbgcioi.PAYLOAD.sig; path /<redacted>")
    assert redact(text, None) == text
    assert repr(token) == "Secret('<redacted ID token>')" and str(webhook) == f"Secret({REDACTED!r})"


# -- the shared retry policy and the sender, on a loopback server ---------------------------------

@pytest.fixture
def endpoint():
    server = WebhookServer([Reply(200, "ok")])
    yield server
    server.close()


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fast(url: str, **changes) -> RemediationConfig:
    return RemediationConfig(url=url, audience=url.rsplit("/", 1)[0])._replace(
        **{"timeout_seconds": 1.0, "total_seconds": 5.0, **changes})


def test_the_policy_says_which_answers_are_tried_again(endpoint):
    waits: list[float] = []
    transient = RetryPolicy(1, 5, 3, retry_transient)
    unsent = RetryPolicy(1, 5, 3, retry_unsent, frozenset({429, 503}))
    endpoint.script(Reply(500, "boom"))
    assert post(endpoint.origin, {}, transient, sleep=waits.append).attempts == 3 and waits == [1.0, 2.0]
    assert post(endpoint.origin, {}, unsent, sleep=waits.append).attempts == 1      # a 500 never again
    endpoint.script(Reply(503, "busy"))
    assert post(endpoint.origin, {}, unsent, sleep=waits.append).attempts == 1      # no Retry-After: never again
    endpoint.script(Reply(503, "busy", {"Retry-After": "0.25"}), Reply(200, "ok"))
    waits.clear()
    result = post(endpoint.origin, {}, unsent, sleep=waits.append)
    assert (result.attempts, result.detail, waits) == (2, "HTTP 200", [0.25])
    refused = f"http://127.0.0.1:{closed_port()}/reprocess"
    waits.clear()
    result = post(refused, {}, unsent, sleep=waits.append)
    assert (result.attempts, result.answer.unsent, waits) == (3, True, [1.0, 2.0])  # never reached it: again


@pytest.mark.parametrize(("reply", "outcome", "counted", "seen"), [
    (Reply(200, "ok"), "sent: HTTP 200", True, 1),
    (Reply(409, "conflict"), "sent: HTTP 409 (a reprocess is already running)", True, 1),
    (Reply(500, "x" * 250), f"sent: HTTP 500 {'x' * 200}… (not retried: the endpoint may have started it)", True, 1),
    (Reply(200, "late", delay=2.5), "sent: no answer within 1 s (not retried)", True, 1),
    (Reply(403, "forbidden"), "sent: HTTP 403 forbidden (refused: the endpoint did not accept the ID token for "
                              "{audience})", False, 1),
    (Reply(429, "slow down", {"Retry-After": "0"}), "sent: HTTP 429 slow down after 3 attempts (the endpoint was "
                                                    "busy: not started, not counted)", False, 3),
])
def test_send_outcomes(endpoint, reply, outcome, counted, seen):
    endpoint.script(reply)
    config = fast(f"{endpoint.origin}/reprocess")
    asked = []
    result = send_request(config, {"table": CACHE}, lambda audience: asked.append(audience) or TOKEN, sleep=lambda s: None)
    assert (result.text, result.counted) == (outcome.format(audience=config.audience), counted)
    assert len(endpoint.received) == seen and asked == [endpoint.origin]
    assert endpoint.received[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert endpoint.received[0]["json"] == {"table": CACHE}


def test_an_endpoint_never_reached_or_no_token_sends_nothing():
    port = closed_port()
    result = send_request(fast(f"http://127.0.0.1:{port}/reprocess"), {}, lambda audience: TOKEN, sleep=lambda s: None)
    assert (result.text, result.counted) == (
        f"not sent: cannot connect to 127.0.0.1:{port} (Connection refused) after 3 attempts", False)

    def no_token(audience: str) -> str:
        raise RuntimeError(f"metadata server unreachable (for {TOKEN})")

    result = send_request(fast(f"http://127.0.0.1:{port}/reprocess"), {}, no_token)
    assert (result.text, result.counted) == (
        f"not sent: no ID token for http://127.0.0.1:{port}: RuntimeError: metadata server unreachable "
        f"(for {TOKEN})", False)   # the hook's own text; no token was had, so none to hide


def test_a_token_with_a_newline_is_stripped_and_one_with_whitespace_inside_is_never_sent(endpoint):
    """`gcloud auth print-identity-token` ends in a newline: stripped. A token holding whitespace
    inside is no header value: not sent, not counted, and never printed (an exception's repr of it
    would escape the newline past the redactor)."""
    endpoint.script(Reply(200, "ok"))
    sent = send_request(fast(f"{endpoint.origin}/reprocess"), {}, lambda audience: TOKEN + "\n")
    assert (sent.text, sent.counted) == ("sent: HTTP 200", True)
    assert endpoint.received[0]["headers"]["Authorization"] == f"Bearer {TOKEN}"
    broken = send_request(fast(f"{endpoint.origin}/reprocess"), {}, lambda audience: "abc\ndef")
    assert (broken.text, broken.counted) == (
        f"not sent: no ID token for {endpoint.origin}: RuntimeError: the token returned holds whitespace or "
        "control characters", False)
    assert len(endpoint.received) == 1



def test_a_token_echoed_by_the_endpoint_is_redacted(endpoint):
    endpoint.script(Reply(500, f"bad header: Bearer {TOKEN}"))
    result = send_request(fast(f"{endpoint.origin}/reprocess"), {}, lambda audience: TOKEN)
    assert result.text == ("sent: HTTP 500 bad header: Bearer <redacted ID token> (not retried: the endpoint "
                           "may have started it)")


# -- end to end: the real suite, a frozen clock, a loopback Phase 4 endpoint ----------------------

@pytest.fixture(scope="module")
def march_file(tmp_path_factory, demo_generator) -> Path:
    path = tmp_path_factory.mktemp("march") / "march.duckdb"
    demo_generator.build_warehouse(path, dt.date(2026, 2, 28), DATE)
    return path


class Scratch:
    def __init__(self, path: Path):
        self.path = path

    def execute(self, sql: str, parameters: list | None = None) -> list[tuple]:
        connection = duckdb.connect(str(self.path))
        try:
            return connection.execute(sql, parameters or []).fetchall()
        finally:
            connection.close()

    def delete_date(self, day: dt.date) -> None:
        self.execute("DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [day])

    def delete_teams(self, day: dt.date, count: int) -> None:
        self.execute("""DELETE FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND team_abbr IN (
                          SELECT DISTINCT team_abbr FROM nba_precompute.player_daily_cache WHERE cache_date = ?
                          ORDER BY team_abbr LIMIT ?)""", [day, day, count])


@pytest.fixture
def scratch(tmp_path, march_file) -> Scratch:
    path = tmp_path / "march.duckdb"
    shutil.copyfile(march_file, path)
    return Scratch(path)


TOKEN_PLUGIN = f'''
from pathlib import Path

def pytest_feature_store_health_id_token(audience):
    with open(Path(__file__).with_name("audiences.txt"), "a") as handle:
        handle.write(audience + "\\n")
    return "{TOKEN}"
'''


@pytest.fixture
def suite(pytester, tmp_path, scratch, endpoint):
    """Runs of the real suite on the scratch warehouse with [remediation] pointing at the loopback
    endpoint, the token plugin, a history file and an archive folder; (run, every file written)."""
    pytester.makepyfile(test_health=HEALTH_TESTS.read_text())
    pytester.makeconftest(TOKEN_PLUGIN)
    config = tmp_path / "health.toml"
    config.write_text(f'[remediation]\nurl = "{endpoint.origin}/reprocess"\ntimeout_seconds = 1\ntotal_seconds = 5\n')
    results = tmp_path / "results.json"

    def run(*args: str, history: bool = True, health_config: Path = config, database: bool = True) -> SuiteRun:
        results.unlink(missing_ok=True)
        options = [*([f"--database={scratch.path}"] if database else []), f"--health-config={health_config}",
                   f"--results-json={results}",
                   f"--reports-dir={tmp_path / 'reports'}", *([f"--history={tmp_path / 'history.duckdb'}"] if history else [])]
        outcome = pytester.runpytest("-p", "feature_store_health.plugin", "-p", "no:cacheprovider", *options, *args)
        document = json.loads(results.read_text()) if results.exists() else None
        return SuiteRun(int(outcome.ret), outcome.stdout.str(), outcome.stderr.str(), document)

    run.audiences = lambda: (pytester.path / "audiences.txt").read_text().splitlines() \
        if (pytester.path / "audiences.txt").exists() else []
    return run


def everything_written(tmp_path: Path, runs: list[SuiteRun]) -> str:
    """Every run's console output and results JSON, and every file the runs left (the archived HTML,
    JSON and JUnit, the history file's bytes and its text columns)."""
    texts = [part for run in runs for part in (run.stdout, run.stderr, json.dumps(run.results))]
    for path in (tmp_path / "reports").rglob("*"):
        if path.is_file():
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    history = tmp_path / "history.duckdb"
    if history.exists():
        texts.append(history.read_bytes().decode("latin-1"))
        connection = duckdb.connect(str(history), read_only=True)
        texts += [f"{name} {text}" for name, text in connection.execute("SELECT name, text FROM metric_history").fetchall()]
        connection.close()
    return "\n".join(texts)


def history_records(tmp_path: Path) -> list[tuple]:
    """The reprocess records in the history file: (requests, last_run_id, outcome) each."""
    connection = duckdb.connect(str(tmp_path / "history.duckdb"), read_only=True)
    try:
        texts = connection.execute("SELECT text FROM metric_history WHERE name = 'reprocess' AND kind = 'record' "
                                   "ORDER BY run_id").fetchall()
    finally:
        connection.close()
    return [(record["requests"], record["last_run_id"], record["outcome"]) for record in map(json.loads, (t for (t,) in texts))]


def line(run: SuiteRun) -> str:
    [found] = [text for text in run.stdout.splitlines() if text.startswith("Reprocess: ")]
    return found


@freeze_time(FROZEN)
@pytest.mark.parametrize(("reply", "outcome"), [
    (Reply(200, "accepted"), "sent: HTTP 200"),
    (Reply(409, "already running"), "sent: HTTP 409 (a reprocess is already running)"),
    (Reply(500, "job runner crashed"), "sent: HTTP 500 job runner crashed (not retried: the endpoint may have started it)"),
    (Reply(200, "late", delay=2.5), "sent: no answer within 1 s (not retried)"),
], ids=["200", "409", "500", "hang"])
def test_three_runs_on_the_same_failing_date_send_one_request(suite, scratch, endpoint, tmp_path, reply, outcome):
    scratch.delete_date(DATE)
    endpoint.script(reply)
    runs = [suite("--date=2026-03-10") for _ in range(3)]
    assert len(endpoint.received) == 1   # counted at the endpoint, over the three runs
    request = endpoint.received[0]
    first_run = runs[0].results["history"]["run_id"]
    assert request["path"] == "/reprocess"
    assert request["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert request["json"] == {"table": CACHE, "date": "2026-03-10", "dimension": "coverage", "severity": "CRITICAL",
                               "reason": MESSAGE, "run_id": first_run}
    assert suite.audiences() == [endpoint.origin]   # asked once, for the endpoint's audience
    assert line(runs[0]) == f"Reprocess: {CACHE} 2026-03-10 (coverage CRITICAL): {outcome}"
    assert runs[0].results["reprocess"] == [{"table": CACHE, "date": "2026-03-10", "decision": "send",
                                             "body": request["json"], "outcome": outcome}]
    held = f"already requested 1 of max 1 for this date (run {first_run} at 2026-03-10 14:00 UTC)"
    for later in runs[1:]:
        assert line(later) == f"Reprocess: {CACHE} 2026-03-10 (coverage CRITICAL): held: {held}"
        [entry] = later.results["reprocess"]
        assert (entry["decision"], entry["outcome"], entry["body"]["run_id"]) == (
            "held", held, later.results["history"]["run_id"])
    for run in runs:   # the verdict and the exit code are the data's
        assert (run.ret, run.results["status"], run.verdict("coverage", "2026-03-10")["severity"]) == (1, "CRITICAL", "CRITICAL")
        assert run.results["queries"] and len(run.results["queries"]) == 3   # never a query of its own
    reports = sorted((tmp_path / "reports").glob("2026-03-10/*/report.html"))
    assert len(reports) == 3 and all("<h3>Reprocess requests</h3>" in path.read_text() for path in reports)
    assert outcome in "".join(path.read_text() for path in reports)
    assert history_records(tmp_path) == [(1, first_run, outcome)]
    assert TOKEN not in everything_written(tmp_path, runs)


@freeze_time(FROZEN)
def test_a_date_the_circuit_breakers_hold_sends_none_and_names_the_players(suite, scratch, endpoint, tmp_path):
    scratch.delete_teams(DATE, 3)   # 3 of 10 playing teams without rows: CRITICAL
    [(rows,)] = scratch.execute("SELECT count(*) FROM nba_precompute.player_daily_cache WHERE cache_date = ?", [DATE])
    flagged = rows // 2 + 1
    scratch.execute("""UPDATE nba_precompute.player_daily_cache SET circuit_breaker_active = TRUE
                       WHERE cache_date = ? AND player_lookup IN (SELECT player_lookup FROM nba_precompute.player_daily_cache
                       WHERE cache_date = ? ORDER BY player_lookup DESC LIMIT ?)""", [DATE, DATE, flagged])
    players = [player for (player,) in scratch.execute(
        """SELECT player_lookup FROM nba_precompute.player_daily_cache WHERE cache_date = ? AND circuit_breaker_active
           ORDER BY player_lookup LIMIT 10""", [DATE])]
    run = suite("--date=2026-03-10")
    assert endpoint.received == [] and suite.audiences() == []
    coverage = run.verdict("coverage", "2026-03-10")
    assert coverage["severity"] == "CRITICAL" and coverage["message"].startswith(f"{rows} records found, but 3 of 10")
    reason = (f"circuit breaker active on {flagged} of {rows} rows (more than 50 %): {', '.join(players)} and "
              f"{flagged - 10} more — reprocess by hand")
    assert line(run) == f"Reprocess: {CACHE} 2026-03-10 (coverage CRITICAL): held: {reason}"
    assert run.results["reprocess"][0]["outcome"] == reason
    # a held request does not count: with the breakers cleared, the next run sends it
    scratch.execute("UPDATE nba_precompute.player_daily_cache SET circuit_breaker_active = FALSE")
    again = suite("--date=2026-03-10")
    assert line(again) == f"Reprocess: {CACHE} 2026-03-10 (coverage CRITICAL): sent: HTTP 200"
    assert len(endpoint.received) == 1


@freeze_time(FROZEN)
def test_an_expired_date_and_a_backfill_check_send_none(suite, scratch, endpoint, tmp_path):
    # 2026-03-01 checked "as it happens" (--as-of on that date), but past a 5-day partition expiry
    text = DEFAULT_CONFIG_PATH.read_text().replace(
        'name = "player_daily_cache"\n', 'name = "player_daily_cache"\npartition_expiration_days = 5\n', 1)
    expiring = tmp_path / "expiring.toml"
    expiring.write_text(text + f'\n[remediation]\nurl = "{endpoint.origin}/reprocess"\n')
    scratch.delete_teams(dt.date(2026, 3, 1), 4)   # 4 of 14 teams: CRITICAL, rows left so not an expired 0
    run = suite("--date=2026-03-01", "--as-of=2026-03-01T08:00", health_config=expiring)
    assert run.verdict("coverage", "2026-03-01")["severity"] == "CRITICAL"
    assert line(run) == f"Reprocess: {CACHE} 2026-03-01 (coverage CRITICAL): held: past partition expiry"
    # yesterday, checked at its deadline: a backfill check of an older date
    scratch.delete_date(dt.date(2026, 3, 9))
    run = suite("--date=2026-03-09")
    assert run.verdict("coverage", "2026-03-09")["severity"] == "CRITICAL"
    assert line(run) == f"Reprocess: {CACHE} 2026-03-09 (coverage CRITICAL): held: a backfill check of an older date"
    assert endpoint.received == [] and suite.audiences() == []


@freeze_time(FROZEN)
def test_reprocess_dry_run_judges_prints_the_request_and_sends_nothing(suite, scratch, endpoint, tmp_path):
    scratch.delete_date(DATE)
    run = suite("--date=2026-03-10", "--reprocess=dry-run")
    assert endpoint.received == [] and suite.audiences() == []
    [entry] = run.results["reprocess"]
    assert (entry["decision"], entry["outcome"]) == ("held", "--reprocess=dry-run")
    assert entry["body"] == {"table": CACHE, "date": "2026-03-10", "dimension": "coverage", "severity": "CRITICAL",
                             "reason": MESSAGE, "run_id": run.results["history"]["run_id"]}
    assert line(run) == (f"Reprocess: {CACHE} 2026-03-10 (coverage CRITICAL): held: --reprocess=dry-run: would POST "
                         f"{endpoint.origin}/reprocess (audience {endpoint.origin}) {json.dumps(entry['body'])}")
    off = suite("--date=2026-03-10", "--reprocess=off")
    assert (off.ret, off.results["status"], off.results["reprocess"]) == (run.ret, run.results["status"], [])
    assert "Reprocess" not in off.stdout
    # a dry run did not count: the next run sends it
    assert line(suite("--date=2026-03-10")).endswith("sent: HTTP 200") and len(endpoint.received) == 1
    assert TOKEN not in everything_written(tmp_path, [run, off])


@freeze_time(FROZEN)
def test_dry_run_says_per_table_what_would_be_sent(suite, endpoint):
    run = suite("--date=2026-03-10", "--dry-run")
    assert run.ret == 0 and endpoint.received == []
    lines = [text for text in run.stdout.splitlines() if text.startswith("Reprocess: ")]
    would = (f"would POST {endpoint.origin}/reprocess (audience {endpoint.origin}) when coverage is CRITICAL, "
             "arrival is ERROR or worse, or source_consistency is CRITICAL; at most 1 per date; ")
    assert lines == [
        f"Reprocess: {CACHE} 2026-03-10: {would}none when circuit_breaker_active or manual_override_required is TRUE "
        "on more than 50 % of rows; nothing is sent by --dry-run",
        f"Reprocess: {COMPOSITE} 2026-03-10: {would}no circuit-breaker guard (the contract has neither column); "
        "nothing is sent by --dry-run",
    ]
    backfill = suite("--date=2026-03-08", "--dry-run")
    assert [text for text in backfill.stdout.splitlines() if text.startswith("Reprocess: ")] == [
        f"Reprocess: {table} 2026-03-08: no request would be sent: a backfill check of an older date"
        for table in (CACHE, COMPOSITE)]


@freeze_time(FROZEN)
def test_without_history_each_run_sends_one_and_says_it_is_not_counted(suite, scratch, endpoint):
    scratch.delete_date(DATE)
    for count in (1, 2):
        run = suite("--date=2026-03-10", history=False)
        assert line(run) == (f"Reprocess: {CACHE} 2026-03-10 (coverage CRITICAL): sent: HTTP 200 "
                             "(history off: not counted across runs)")
        assert len(endpoint.received) == count


@freeze_time(FROZEN)
def test_no_id_token_is_an_outcome_not_a_traceback(suite, scratch, endpoint, pytester, monkeypatch, tmp_path):
    """No plugin answers: google-auth looks in the environment, here a key file that is not there."""
    (pytester.path / "conftest.py").unlink()
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "no-such-key.json"))
    scratch.delete_date(DATE)
    run = suite("--date=2026-03-10")
    assert run.ret == 1 and "Traceback" not in run.stdout + run.stderr
    assert line(run) == (f"Reprocess: {CACHE} 2026-03-10 (coverage CRITICAL): not sent: no ID token for "
                         f"{endpoint.origin}: DefaultCredentialsError: GOOGLE_APPLICATION_CREDENTIALS path is either "
                         "not found or invalid.")
    assert endpoint.received == [] and history_records(tmp_path) == []   # not counted: the next run asks again


@freeze_time(FROZEN)
def test_the_guard_counts_are_the_same_on_bigquery(suite, scratch, endpoint, bigquery_emulator, tmp_path):
    """The BigQuery SQL itself (ARRAY_AGG … IGNORE NULLS ORDER BY … LIMIT), on the emulator: the
    same held request, naming the same players, as the DuckDB run of the same warehouse."""
    scratch.delete_teams(DATE, 3)
    scratch.execute("""UPDATE nba_precompute.player_daily_cache SET manual_override_required = TRUE
                       WHERE cache_date = ? AND team_abbr IN (SELECT DISTINCT team_abbr FROM
                       nba_precompute.player_daily_cache WHERE cache_date = ? ORDER BY team_abbr DESC LIMIT 5)""",
                    [DATE, DATE])
    duckdb_run = suite("--date=2026-03-10", "--no-history", history=False)
    bigquery_emulator.load("reprocess-guard", scratch.path)
    bigquery_run = suite("--date=2026-03-10", "--no-history", "--backend=bigquery", "--project=reprocess-guard",
                         f"--bigquery-endpoint={bigquery_emulator.url}", history=False, database=False)
    [on_duckdb], [on_bigquery] = duckdb_run.results["reprocess"], bigquery_run.results["reprocess"]
    assert on_duckdb["outcome"].startswith("manual override required on ")
    assert on_duckdb["outcome"].endswith(" more — reprocess by hand")
    assert on_bigquery["outcome"] == on_duckdb["outcome"]
    assert (on_bigquery["body"]["dimension"], on_bigquery["body"]["severity"]) == ("coverage", "CRITICAL")
    assert endpoint.received == []
