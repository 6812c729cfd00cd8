"""PagerDuty Events API v2 (opt-in ``[pagerduty]``): a trigger when an incident at a paging severity
opens or gets worse, a resolve when it is OK again, each keyed by the incident's dedup_key.

The decision is a pure function of the incident event and what PagerDuty was last told (the
channel's own state in the incident record); end to end, the real suite on a scratch warehouse
sends its events to a loopback stand-in for the Events API, run after run on one history, with
the clock moved by freezegun (the outbound code keeps the real monotonic clock, as in production).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import time

import pytest
from freezegun import freeze_time

from feature_store_health.alerting.incidents import Incident, IncidentState, assess
from feature_store_health.alerting.pagerduty import action_for, dedup_key
from feature_store_health.alerting.pagerduty_config import DEFAULT_EVENTS_URL, PagerDutyConfig, parse_pagerduty
from feature_store_health.checks.verdict import Severity, Verdict
from feature_store_health.config import ConfigError, load_config
from loopback_http import Reply, WebhookServer
from test_incidents import history_texts

ROUTING_KEY = "R0UT1NGk3yPAGERDUTYs3cret00000"
ENV = "PD_TEST_ROUTING_KEY"
ACCEPTED = Reply(202, '{"status":"success","message":"Event processed"}')
DATE = dt.date(2026, 2, 5)
KEY = Incident("player_daily_cache", "production_readiness", DATE)
READINESS = "feature-store-health/player_daily_cache/production_readiness/2026-02-05"
ANOMALIES = "feature-store-health/player_daily_cache/anomalies/2026-02-05"
DEFAULT = ("ERROR", "CRITICAL")
T0 = dt.datetime(2026, 2, 5, 7, 45, tzinfo=dt.timezone.utc)
T1 = T0 + dt.timedelta(hours=1)
# the outbound code's monotonic clock (and the loopback server's) stays real under freezegun: the
# time bounds are real ones
REAL_CLOCK = ["feature_store_health.alerting", "loopback_http"]


# -- what to tell PagerDuty -----------------------------------------------------------------------

def verdict(severity: str, key: Incident = KEY) -> Verdict:
    return Verdict(key.table, key.check_date, key.dimension, Severity(severity), None, {}, f"{severity.lower()} message")


def recorded(severity: str, told: dict | None = None, alerted: bool = False) -> dict:
    channels = {"pagerduty": told} if told is not None else None
    return {KEY: IncidentState(severity, T0, T0 if alerted else None, severity if alerted else None, "m",
                               channels=channels)}


def action(states: dict, severity: str, severities=DEFAULT, muted=None) -> str | None:
    (event,) = assess(states, [verdict(severity)], T1, dt.timedelta(hours=24), "warning",
                      muted=(lambda v: muted) if muted else None).events
    return action_for(event, severities)


TOLD_ERROR = {"severity": "ERROR", "triggered_at": T0.isoformat(), "resolved_at": None}


@pytest.mark.parametrize(("states", "severity", "expected"), [
    ({}, "ERROR", "trigger"),                                   # opened at a paging severity
    ({}, "CRITICAL", "trigger"),
    ({}, "NOT_EVALUATED", "trigger"),                           # ranks, and pages, with ERROR
    ({}, "WARNING", None),                                      # opened, below the paging severities
    (recorded("WARNING"), "ERROR", "trigger"),                  # worse, into a paging severity
    (recorded("ERROR"), "ERROR", "trigger"),                    # open, PagerDuty never told (it failed)
    (recorded("ERROR", TOLD_ERROR), "ERROR", None),             # unchanged: told already
    (recorded("ERROR", TOLD_ERROR, alerted=True), "ERROR", None),
    (recorded("ERROR", TOLD_ERROR), "NOT_EVALUATED", None),     # the same rank
    (recorded("ERROR", TOLD_ERROR), "CRITICAL", "trigger"),     # worse than PagerDuty was told
    (recorded("ERROR", TOLD_ERROR), "WARNING", None),           # better, not OK: stays open
    (recorded("ERROR", TOLD_ERROR), "OK", "resolve"),           # closed (no Slack alert)
    (recorded("ERROR", TOLD_ERROR, alerted=True), "OK", "resolve"),   # resolved
    (recorded("ERROR"), "OK", None),                            # never told: nothing to resolve
    (recorded("ERROR", {**TOLD_ERROR, "resolved_at": T1.isoformat()}), "OK", None),
])
def test_what_pagerduty_is_told(states, severity, expected):
    assert action(states, severity) == expected


def test_only_the_configured_severities_page_and_a_muted_event_sends_nothing():
    assert action({}, "ERROR", ("CRITICAL",)) is None
    assert action({}, "WARNING", ("WARNING", "ERROR", "CRITICAL")) == "trigger"
    assert action({}, "NOT_EVALUATED", ("CRITICAL",)) is None
    assert action({}, "CRITICAL", muted="a mute") is None
    assert action(recorded("ERROR", TOLD_ERROR), "CRITICAL", muted="a mute") is None
    assert dedup_key(KEY) == READINESS


# -- [pagerduty] ----------------------------------------------------------------------------------

def test_the_section_defaults():
    assert parse_pagerduty(None) is None
    assert parse_pagerduty({"routing_key_env": "PAGERDUTY_ROUTING_KEY"}) == PagerDutyConfig(
        "PAGERDUTY_ROUTING_KEY", DEFAULT_EVENTS_URL, ("ERROR", "CRITICAL"), "feature-store-health", 10.0, 30.0, 4)
    assert DEFAULT_EVENTS_URL == "https://events.pagerduty.com/v2/enqueue"
    assert load_config().pagerduty is None
    config = parse_pagerduty({"routing_key_env": "PD", "severities": ["critical", "WARNING"], "max_attempts": 2})
    assert (config.severities, config.max_attempts) == (("WARNING", "CRITICAL"), 2)


@pytest.mark.parametrize(("text", "message"), [
    ("", 'pagerduty.routing_key_env is required: the name of the environment variable holding the routing key, '
         'e.g. routing_key_env = "PAGERDUTY_ROUTING_KEY" (never the key itself)'),
    ('routing_key_env = "R0UT1NG k3y"', 'pagerduty.routing_key_env must be an environment variable name (letters, '
     'digits, _), e.g. "PAGERDUTY_ROUTING_KEY"; put the routing key itself in that variable'),
    ('routing_key_env = "PD"\nevents_url = "events.pagerduty.com/v2/enqueue"',
     "pagerduty.events_url must be an http(s) URL, e.g. 'https://events.pagerduty.com/v2/enqueue', "
     "got 'events.pagerduty.com/v2/enqueue'"),
    ('routing_key_env = "PD"\nevents_url = "http://127.0.0.1:99999/x"',
     "pagerduty.events_url must be an http(s) URL, e.g. 'https://events.pagerduty.com/v2/enqueue', "
     "got 'http://127.0.0.1:99999/x'"),
    ('routing_key_env = "PD"\nseverities = ["ERROR", "FATAL"]',
     "pagerduty.severities: 'FATAL' is not one of WARNING, ERROR, CRITICAL (NOT_EVALUATED pages with ERROR)"),
    ('routing_key_env = "PD"\nseverities = []',
     "pagerduty.severities must be a non-empty list of WARNING, ERROR, CRITICAL, got []"),
    ('routing_key_env = "PD"\ntimeout_seconds = 0', "pagerduty.timeout_seconds must be a positive finite number, got 0"),
    ('routing_key_env = "PD"\ntotal_seconds = "30"',
     "pagerduty.total_seconds must be a positive finite number, got '30'"),
    ('routing_key_env = "PD"\nmax_attempts = 2.5', "pagerduty.max_attempts must be a whole number from 1 to 100, got 2.5"),
    ('routing_key_env = "PD"\nsource = ""', "pagerduty.source must be a non-empty text of at most 255 characters, got ''"),
    ('routing_key_env = "PD"\nrouting_key = "x"', "unknown key pagerduty.routing_key (allowed: events_url, max_attempts, "
     "routing_key_env, severities, source, timeout_seconds, total_seconds)"),
])
def test_a_bad_value_names_its_key(tmp_path, text, message):
    path = tmp_path / "health.toml"
    path.write_text(f"[pagerduty]\n{text}\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"config {path}: {message}"


def test_a_bad_value_is_exit_4_in_one_line(run_suite, tmp_path):
    path = tmp_path / "health.toml"
    path.write_text('[pagerduty]\nrouting_key_env = "PD"\nseverities = "ERROR"\n')
    run = run_suite(f"--health-config={path}", results=False)
    assert run.ret == 4
    assert run.stderr.strip() == (f"ERROR: config {path}: pagerduty.severities must be a non-empty list of "
                                  "WARNING, ERROR, CRITICAL, got 'ERROR'")


def test_the_example_in_health_toml_parses_uncommented(tmp_path):
    from feature_store_health.config import DEFAULT_CONFIG_PATH

    text = DEFAULT_CONFIG_PATH.read_text()
    block = text[text.index("# [pagerduty]"):].split("\n\n")[0]
    path = tmp_path / "example.toml"
    path.write_text("\n".join(line.removeprefix("# ") for line in block.splitlines()) + "\n")
    config = load_config(path).pagerduty
    assert config == PagerDutyConfig("PAGERDUTY_ROUTING_KEY", DEFAULT_EVENTS_URL, ("ERROR", "CRITICAL"),
                                     "feature-store-health", 10.0, 30.0, 4)


# -- end to end -----------------------------------------------------------------------------------

@pytest.fixture
def pagerduty():
    """A stand-in for PagerDuty's Events API v2 on 127.0.0.1, answering 202."""
    server = WebhookServer([ACCEPTED])
    yield server
    server.close()


@pytest.fixture
def pager(warehouse, run_suite, pagerduty, tmp_path, monkeypatch):
    """Runs of the suite on one history and one archive, at New York times of 2026-02-05, with
    [pagerduty] pointed at the loopback server and the routing key in the environment."""
    history, reports, config = tmp_path / "history.duckdb", tmp_path / "reports", tmp_path / "health.toml"
    monkeypatch.setenv(ENV, ROUTING_KEY)

    def configure(limits: str = "timeout_seconds = 1\ntotal_seconds = 5\nmax_attempts = 3\n", extra: str = "") -> None:
        config.write_text(f'[pagerduty]\nrouting_key_env = "{ENV}"\nevents_url = "{pagerduty.origin}/v2/enqueue"\n'
                          f'{limits}\n[runbook]\nurl = "https://runbooks.example.com/feature-store"\n{extra}')

    def run(when_utc: str, *extra: str, date: str = "2026-02-05"):
        with freeze_time(when_utc, ignore=REAL_CLOCK):
            return run_suite(f"--database={warehouse.path}", f"--date={date}", f"--history={history}",
                             f"--reports-dir={reports}", f"--health-config={config}", *extra)

    configure()
    run.configure, run.history, run.reports, run.config = configure, history, reports, config
    return run


def not_ready(warehouse, rows: int) -> None:
    """``rows`` of 2026-02-05 not production ready (one already is not): 13 → ERROR, 30 → CRITICAL."""
    warehouse.affect_rows(DATE, rows, "is_production_ready = FALSE")


def pd_line(run) -> str:
    (line,) = [line for line in run.stdout.splitlines() if line.startswith(("PagerDuty", "WARNING: PagerDuty"))]
    return line


def events(server) -> list[tuple[str, str]]:
    return [(m["json"]["event_action"], m["json"]["dedup_key"]) for m in server.received]


def rerun(run) -> str:
    (line,) = [line for line in run.stdout.splitlines() if line.startswith("Rerun: ")]
    return line.removeprefix("Rerun: ")


def test_one_trigger_none_repeated_a_worse_trigger_then_one_resolve_each(pager, warehouse, pagerduty,
                                                                         healthy_warehouse_file):
    not_ready(warehouse, 13)
    first = pager("2026-02-05 07:45:00")  # 02:45 New York
    assert first.ret == 1
    assert pd_line(first) == "PagerDuty: 1 trigger sent (HTTP 202, 1 attempt)"
    (received,) = pagerduty.received  # anomalies is WARNING: an incident, but it does not page
    assert (received["path"], received["content_type"]) == ("/v2/enqueue", "application/json")
    assert received["json"] == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": READINESS,
        "client": "feature-store-health",
        "payload": {
            "summary": "ERROR player_daily_cache · Production Readiness · 2026-02-05: 94.4% production ready "
                       "(238/252) (value 94.44; warning < 98 · error < 95 · critical < 90)",
            "source": "feature-store-health",
            "severity": "error",
            "timestamp": "2026-02-05T07:45:00+00:00",
            "component": "player_daily_cache",
            "group": "production_readiness",
            "class": "Production Readiness",
            "custom_details": {
                "table": "player_daily_cache", "dimension": "production_readiness", "date": "2026-02-05",
                "severity": "ERROR", "message": "94.4% production ready (238/252)", "value": "94.44",
                "threshold": "warning < 98 · error < 95 · critical < 90",
                "opened_at": "2026-02-05T07:45:00+00:00",
                "runbook": "https://runbooks.example.com/feature-store#production_readiness",
                "rerun": rerun(first),
                "report": str(next(pager.reports.rglob("report.html"))),
            },
        },
        "links": [{"href": "https://runbooks.example.com/feature-store#production_readiness",
                   "text": "Runbook: Production Readiness"}],
    }
    assert first.results["pagerduty"] == {
        "sent": 1, "failed": 0, "attempts": 1, "detail": "1 trigger sent (HTTP 202, 1 attempt)",
        "events": [{"dedup_key": READINESS, "action": "trigger", "severity": "ERROR", "status": "sent",
                    "detail": "HTTP 202", "attempts": 1}]}

    runs = [first]
    for when in ("2026-02-05 09:00:00", "2026-02-05 10:30:00", "2026-02-05 14:00:00"):  # 04:00, 05:30, 09:00
        again = pager(when)
        assert again.ret == 1
        assert pd_line(again) == "PagerDuty: no event (1 incident already triggered)"
        assert again.results["pagerduty"] == {"sent": 0, "failed": 0, "events": [],
                                              "detail": "no event (1 incident already triggered)"}
        runs.append(again)
    assert len(pagerduty.received) == 1  # four runs, one event

    not_ready(warehouse, 30)  # 87.7 % ready: CRITICAL; and anomalies now ERROR: it pages too
    worse = pager("2026-02-05 14:45:00")  # 09:45
    assert worse.ret == 1 and pd_line(worse) == "PagerDuty: 2 triggers sent (HTTP 202, 2 attempts)"
    assert events(pagerduty)[1:] == [("trigger", READINESS), ("trigger", ANOMALIES)]
    readiness = pagerduty.received[1]["json"]
    assert readiness["payload"]["severity"] == "critical"
    assert readiness["payload"]["summary"] == (
        "CRITICAL player_daily_cache · Production Readiness · 2026-02-05: 87.7% production ready (221/252) "
        "(value 87.7; warning < 98 · error < 95 · critical < 90)")
    assert readiness["payload"]["custom_details"]["opened_at"] == "2026-02-05T07:45:00+00:00"  # the same incident
    assert pagerduty.received[2]["json"]["payload"]["severity"] == "error"
    runs.append(worse)
    again = pager("2026-02-05 14:50:00")
    assert pd_line(again) == "PagerDuty: no event (2 incidents already triggered)" and len(pagerduty.received) == 3
    runs.append(again)

    shutil.copyfile(healthy_warehouse_file, warehouse.path)
    fixed = pager("2026-02-05 15:00:00")  # 10:00
    assert fixed.ret == 0 and pd_line(fixed) == "PagerDuty: 2 resolves sent (HTTP 202, 2 attempts)"
    # one resolve per incident PagerDuty holds; none for the WARNING ones it was never told of
    assert events(pagerduty)[3:] == [("resolve", READINESS), ("resolve", ANOMALIES)]
    assert pagerduty.received[3]["json"] == {"routing_key": ROUTING_KEY, "event_action": "resolve",
                                             "dedup_key": READINESS}
    assert fixed.results["pagerduty"]["events"] == [
        {"dedup_key": READINESS, "action": "resolve", "severity": "CRITICAL", "status": "sent", "detail": "HTTP 202",
         "attempts": 1},
        {"dedup_key": ANOMALIES, "action": "resolve", "severity": "ERROR", "status": "sent", "detail": "HTTP 202",
         "attempts": 1}]
    quiet = pager("2026-02-05 16:00:00")
    assert quiet.ret == 0 and pd_line(quiet) == "PagerDuty: no event" and len(pagerduty.received) == 5
    runs += [fixed, quiet]

    # the routing key is nowhere: console, results JSON, archived reports (HTML, JSON, JUnit), history
    assert "channels" in history_texts(pager.history) and "triggered_at" in history_texts(pager.history)
    written = [run.stdout + run.stderr + json.dumps(run.results) for run in runs]
    written += [path.read_text(errors="replace") for path in pager.reports.rglob("*") if path.is_file()]
    written += [history_texts(pager.history), pager.history.read_bytes().decode("latin-1")]
    assert len([path for path in pager.reports.rglob("report.html")]) == len(runs)
    for text in written:
        assert ROUTING_KEY not in text and ROUTING_KEY.lower() not in text.lower()


@pytest.mark.parametrize("status", [200, 202])
def test_429_then_accepted_is_retried_within_bounds(pager, warehouse, pagerduty, status):
    not_ready(warehouse, 13)
    pagerduty.script(Reply(429, "rate limited", {"Retry-After": "1"}), Reply(status, "ok"))
    run = pager("2026-02-05 07:45:00")
    assert run.ret == 1
    assert pd_line(run) == f"PagerDuty: 1 trigger sent (HTTP {status}, 2 attempts)"
    assert events(pagerduty) == [("trigger", READINESS)] * 2
    assert 1.0 <= pagerduty.times[1] - pagerduty.times[0] < 2.0  # Retry-After honoured, nothing more
    assert run.results["pagerduty"]["events"][0] == {"dedup_key": READINESS, "action": "trigger", "severity": "ERROR",
                                                     "status": "sent", "detail": f"HTTP {status}", "attempts": 2}
    assert pd_line(pager("2026-02-05 09:00:00")) == "PagerDuty: no event (1 incident already triggered)"
    assert len(pagerduty.received) == 2


def test_500_forever_stops_within_total_seconds_the_exit_code_stands_and_the_next_run_sends_it(
        pager, warehouse, pagerduty):
    pager.configure("timeout_seconds = 1\ntotal_seconds = 2.5\nmax_attempts = 10\n")
    not_ready(warehouse, 13)
    pagerduty.script(Reply(500, "internal error"))
    started = time.monotonic()
    failed = pager("2026-02-05 07:45:00")
    assert failed.ret == 1  # the verdict's: production_readiness ERROR
    # attempts at 0 s and 1 s; the next wait (2 s) would pass the 2.5 s limit: the 10 attempts never used
    assert len(pagerduty.received) == 2 and pagerduty.times[1] - pagerduty.times[0] < 2.5
    assert time.monotonic() - started < 60
    assert pd_line(failed) == ("WARNING: PagerDuty: 1 trigger not delivered after 2 attempts: HTTP 500 internal "
                               "error; next retry would pass the 2.5 s limit; the next run tries again; the data "
                               "verdict and exit code stand")
    assert failed.results["pagerduty"]["sent"] == 0 and failed.results["pagerduty"]["failed"] == 1
    assert failed.results["pagerduty"]["events"][0]["status"] == "failed"
    pagerduty.script(ACCEPTED)
    next_run = pager("2026-02-05 09:00:00")
    assert pd_line(next_run) == "PagerDuty: 1 trigger sent (HTTP 202, 1 attempt)"
    assert events(pagerduty)[2:] == [("trigger", READINESS)]
    assert pd_line(pager("2026-02-05 10:30:00")) == "PagerDuty: no event (1 incident already triggered)"
    assert len(pagerduty.received) == 3


def test_a_refused_event_is_not_retried(pager, warehouse, pagerduty):
    not_ready(warehouse, 13)
    pagerduty.script(Reply(400, '{"status":"invalid event","message":"Event object is invalid"}'))
    run = pager("2026-02-05 07:45:00")
    assert run.ret == 1 and len(pagerduty.received) == 1
    assert pd_line(run) == ('WARNING: PagerDuty: 1 trigger not delivered after 1 attempt: HTTP 400 {"status":"invalid '
                            'event","message":"Event object is invalid"} (not retried: check the routing key and the '
                            'event); the next run tries again; the data verdict and exit code stand')


def test_a_resolve_that_failed_is_sent_by_the_next_run(pager, warehouse, pagerduty, healthy_warehouse_file):
    not_ready(warehouse, 13)
    pager("2026-02-05 07:45:00")
    shutil.copyfile(healthy_warehouse_file, warehouse.path)
    pagerduty.script(Reply(503, "unavailable"))
    fixed = pager("2026-02-05 09:00:00")  # the incident closes (OK again) whatever PagerDuty answered
    assert fixed.ret == 0 and len(pagerduty.received) == 4  # 1 trigger, 3 attempts at the resolve
    assert pd_line(fixed) == ("WARNING: PagerDuty: 1 resolve not delivered after 3 attempts: HTTP 503 unavailable; "
                              "the next run tries again; the data verdict and exit code stand")
    assert fixed.results["incidents"][0]["event"] == "closed"
    pagerduty.script(ACCEPTED)
    later = pager("2026-02-05 10:30:00")  # no incident open: the resolve comes from the closed record
    assert pd_line(later) == "PagerDuty: 1 resolve sent (HTTP 202, 1 attempt)"
    assert events(pagerduty)[4:] == [("resolve", READINESS)]
    assert later.results["incidents"] == []
    assert pd_line(pager("2026-02-05 11:00:00")) == "PagerDuty: no event" and len(pagerduty.received) == 5


def test_a_muted_check_sends_no_event_and_the_exit_code_stands(pager, warehouse, pagerduty):
    pager.configure(extra='[[mutes]]\ntable = "player_daily_cache"\ndimension = "production_readiness"\n'
                          'reason = "backfill of February in progress"\nuntil = 2026-02-20\n')
    not_ready(warehouse, 13)
    for when in ("2026-02-05 07:45:00", "2026-02-05 09:00:00"):
        run = pager(when)
        assert run.ret == 1
        assert pd_line(run) == "PagerDuty: no event (1 muted)"
        assert run.results["pagerduty"] == {"sent": 0, "failed": 0, "events": [], "detail": "no event (1 muted)"}
    assert pagerduty.received == []


def test_without_the_routing_key_nothing_is_sent_and_the_exit_code_stands(pager, warehouse, pagerduty, monkeypatch):
    monkeypatch.delenv(ENV)
    not_ready(warehouse, 13)
    run = pager("2026-02-05 07:45:00")
    assert run.ret == 1 and pagerduty.received == []
    assert pd_line(run) == (f"WARNING: PagerDuty not sent: ${ENV} is not set (1 trigger due); "
                            "the data verdict and exit code stand")
    assert run.results["pagerduty"] == {"sent": 0, "failed": 0, "detail": f"not sent: ${ENV} is not set", "events": [
        {"dedup_key": READINESS, "action": "trigger", "severity": "ERROR", "status": "not sent",
         "detail": f"not sent: ${ENV} is not set", "attempts": 0}]}
    monkeypatch.setenv(ENV, ROUTING_KEY)  # set again: the next run sends what was due
    assert pd_line(pager("2026-02-05 09:00:00")) == "PagerDuty: 1 trigger sent (HTTP 202, 1 attempt)"


def test_without_a_history_nothing_is_sent(pager, warehouse, pagerduty):
    not_ready(warehouse, 13)
    run = pager("2026-02-05 07:45:00", "--no-history")
    assert run.ret == 1 and pagerduty.received == []
    assert pd_line(run) == "PagerDuty: no event: --no-history (incidents are kept in the history)"


def test_a_routing_key_echoed_across_the_cut_of_an_error_body_is_redacted_whole(pager, warehouse, pagerduty):
    # an endpoint that echoes the event back in its 400: the key straddles the 200 characters kept
    pagerduty.script(Reply(400, "x" * 170 + json.dumps({"routing_key": ROUTING_KEY})))
    not_ready(warehouse, 13)
    run = pager("2026-02-05 07:45:00")
    assert run.ret == 1 and len(pagerduty.received) == 1
    assert pd_line(run) == ("WARNING: PagerDuty: 1 trigger not delivered after 1 attempt: HTTP 400 " + "x" * 170
                            + '{"routing_key": "<redacted Pag (not retried: check the routing key and the event); the next '
                            "run tries again; the data verdict and exit code stand")
    for text in (run.stdout, json.dumps(run.results)):
        assert ROUTING_KEY[:4] not in text   # "R0UT": no part of the key
