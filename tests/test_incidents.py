"""Incidents (table, dimension, date): alerted when they open, get worse, are due again or resolve.

The transitions are a pure function, tested with exact times; end to end, the real suite on a
scratch warehouse sends its Slack messages to a loopback webhook, run after run on one history,
with the clock moved by freezegun.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pytest
from freezegun import freeze_time

from feature_store_health.alerting.incident_messages import (
    DIGEST, RESOLVED_ONLY, local_time, marks, message_kind, quiet_note, resolved_line, resolved_message, summary,
)
from feature_store_health.alerting.incidents import (
    Assessment, Incident, IncidentState, assess, duration_text, recorded_states,
)
from feature_store_health.checks.verdict import Severity, Verdict
from conftest import FAST_SLACK
from loopback_http import Reply

NY = "America/New_York"
DATE = dt.date(2026, 2, 5)
KEY = Incident("player_daily_cache", "coverage", DATE)
DAY = dt.timedelta(hours=24)


def utc(day: int, hour: int, minute: int = 0) -> dt.datetime:
    """A time on 2026-02-<day> in UTC (New York is UTC-5 in February)."""
    return dt.datetime(2026, 2, day, hour, minute, tzinfo=dt.timezone.utc)


T0245, T0400, T0530, T0900 = utc(5, 7, 45), utc(5, 9), utc(5, 10, 30), utc(5, 14)


def verdict(severity: str, key: Incident = KEY, message: str = "") -> Verdict:
    return Verdict(key.table, key.check_date, key.dimension, Severity(severity), None, {},
                   message or f"{severity.lower()} message")


def alerted(severity: str, at: dt.datetime, opened: dt.datetime | None = None) -> IncidentState:
    return IncidentState(severity, opened or at, at, severity, "recorded message")


def one(recorded: dict, severity: str, now: dt.datetime, slack_on: str = "warning", repeat_after=DAY):
    assessment = assess(recorded, [verdict(severity)], now, repeat_after, slack_on)
    assert len(assessment.events) <= 1
    return assessment.events[0] if assessment.events else None


# -- transitions ----------------------------------------------------------------------------

def test_a_failing_check_with_no_open_incident_opens_one():
    event = one({}, "ERROR", T0245)
    assert (event.incident, event.kind, event.severity, event.sends) == (KEY, "opened", "ERROR", True)
    assert event.state(delivered=True) == IncidentState("ERROR", T0245, T0245, "ERROR", "error message")
    # not delivered: opened now, never alerted (the next run sends it again)
    assert event.state(delivered=False) == IncidentState("ERROR", T0245, None, None, "error message")


@pytest.mark.parametrize(("severity", "slack_on", "opens"), [
    ("WARNING", "warning", True), ("WARNING", "always", True), ("WARNING", "error", False),
    ("ERROR", "error", True), ("NOT_EVALUATED", "error", True), ("CRITICAL", "error", True),
    ("OK", "warning", False), ("SKIPPED", "warning", False), ("SKIPPED", "always", False),
])
def test_the_alert_level_decides_what_opens_an_incident(severity, slack_on, opens):
    event = one({}, severity, T0245, slack_on)
    assert (event is not None and event.kind == "opened") is opens
    if not opens:
        assert event is None


def test_unchanged_within_repeat_after_is_not_re_sent():
    recorded = {KEY: alerted("ERROR", T0245)}
    for now in (T0400, T0530, T0900, utc(6, 7, 44)):  # up to 23 h 59 m after the alert
        event = one(recorded, "ERROR", now)
        assert (event.kind, event.sends) == ("unchanged", False)
        assert event.state(delivered=True) is None and event.state(delivered=False) is None
        assert assess(recorded, [verdict("ERROR")], now, DAY, "warning").records(delivered=True) == []


def test_unchanged_is_repeated_once_repeat_after_has_passed():
    recorded = {KEY: alerted("ERROR", T0245)}
    event = one(recorded, "ERROR", utc(6, 7, 45))  # exactly 24 h later
    assert (event.kind, event.sends) == ("repeat", True)
    assert event.state(delivered=True) == IncidentState("ERROR", T0245, utc(6, 7, 45), "ERROR", "error message")
    assert event.state(delivered=False) is None  # still due: the next run sends it
    # a shorter repeat_after: due sooner
    assert one(recorded, "ERROR", T0900, repeat_after=dt.timedelta(hours=6)).kind == "repeat"
    assert one(recorded, "ERROR", T0900, repeat_after=dt.timedelta(hours=7)).kind == "unchanged"


def test_an_incident_whose_alert_was_never_delivered_is_sent_again():
    recorded = {KEY: IncidentState("ERROR", T0245, None, None, "error message")}
    event = one(recorded, "ERROR", T0400)
    assert (event.kind, event.opened_at) == ("repeat", T0245)
    assert event.state(delivered=True) == IncidentState("ERROR", T0245, T0400, "ERROR", "error message")
    assert event.state(delivered=False) is None
    # better since, but still at the alert level and never heard of: sent too
    assert one(recorded, "WARNING", T0400).kind == "repeat"
    # better and below the level it was opened at (--slack-on=error): kept open, quietly
    assert one(recorded, "WARNING", T0400, "error").kind == "better"


def test_worse_than_alerted_is_sent_and_a_failed_delivery_is_worse_again_next_run():
    recorded = {KEY: alerted("ERROR", T0245)}
    event = one(recorded, "CRITICAL", T0400)
    assert (event.kind, event.sends) == ("worse", True)
    assert event.state(delivered=True) == IncidentState("CRITICAL", T0245, T0400, "CRITICAL", "critical message")
    undelivered = event.state(delivered=False)
    assert undelivered == IncidentState("CRITICAL", T0245, T0245, "ERROR", "critical message")
    assert one({KEY: undelivered}, "CRITICAL", T0530).kind == "worse"  # compared with what was alerted
    assert one({KEY: alerted("WARNING", T0245)}, "ERROR", T0400).kind == "worse"
    assert one({KEY: alerted("WARNING", T0245)}, "NOT_EVALUATED", T0400).kind == "worse"
    assert one({KEY: alerted("ERROR", T0245)}, "NOT_EVALUATED", T0400).kind == "unchanged"  # the same rank


def test_better_but_not_ok_keeps_the_incident_open_at_the_alerted_severity():
    recorded = {KEY: alerted("CRITICAL", T0245)}
    event = one(recorded, "ERROR", T0400)
    assert (event.kind, event.sends, event.state(delivered=True)) == ("better", False, None)
    assert one(recorded, "WARNING", utc(6, 9)).kind == "better"  # never repeated, even a day later
    assert one(recorded, "CRITICAL", T0530).kind == "unchanged"  # back where it was alerted: no news


def test_ok_again_resolves_an_alerted_incident_with_how_long_it_was_open():
    recorded = {KEY: alerted("CRITICAL", T0400, opened=T0245)}
    event = one(recorded, "OK", utc(5, 12, 45))
    assert (event.kind, event.sends, event.open_for) == ("resolved", True, dt.timedelta(hours=5))
    assert resolved_line(event) == "✅ resolved: player_daily_cache · coverage · 2026-02-05 is OK again after 5 h 0 m"
    assert event.state(delivered=True) == IncidentState("OK", T0245, T0400, "CRITICAL", "ok message",
                                                        closed_at=utc(5, 12, 45))
    assert event.state(delivered=False) is None  # open as recorded: the next run resolves it again
    assert one(recorded, "OK", T0900, "error").kind == "resolved"  # whatever --slack-on says


def test_ok_again_closes_a_never_alerted_incident_with_no_message():
    recorded = {KEY: IncidentState("WARNING", T0245, None, None, "warning message")}
    event = one(recorded, "OK", T0400)
    assert (event.kind, event.sends) == ("closed", False)
    assert event.state(delivered=False) == IncidentState("OK", T0245, None, None, "ok message", closed_at=T0400)


def test_a_check_that_did_not_judge_leaves_its_incident_as_recorded():
    recorded = {KEY: alerted("CRITICAL", T0245)}
    assert one(recorded, "SKIPPED", T0400) is None  # e.g. "not landed yet"
    assert assess(recorded, [], T0400, DAY, "warning").events == ()  # not selected, not run
    other = Incident("player_daily_cache", "staleness", DATE)
    assessment = assess(recorded, [verdict("OK", other)], T0400, DAY, "warning")
    assert assessment.events == () and assessment.records(delivered=True) == []


def test_a_closed_incident_that_fails_again_opens_anew():
    closed = alerted("ERROR", T0245)._replace(severity="OK", closed_at=T0400)
    event = one({KEY: closed}, "ERROR", T0900)
    assert (event.kind, event.opened_at, event.previous) == ("opened", T0900, None)


def test_records_are_the_changed_states_named_incident_dimension():
    staleness = Incident("player_daily_cache", "staleness", DATE)
    recorded = {KEY: alerted("ERROR", T0245), staleness: alerted("WARNING", T0245)}
    assessment = assess(recorded, [verdict("CRITICAL"), verdict("WARNING", staleness)], T0400, DAY, "warning")
    assert [event.kind for event in assessment.events] == ["worse", "unchanged"]
    assert assessment.records(delivered=True) == [("player_daily_cache", DATE, "incident:coverage", {
        "severity": "CRITICAL", "opened_at": "2026-02-05T07:45:00+00:00", "alerted_at": "2026-02-05T09:00:00+00:00",
        "alerted_severity": "CRITICAL", "message": "critical message", "closed_at": None})]
    assert assessment.counts() == {"opened": 0, "worse": 1, "repeat": 0, "resolved": 0, "unchanged": 1,
                                   "better": 0, "closed": 0}


def test_recorded_states_read_back_from_the_history_dict():
    state = alerted("ERROR", T0245)
    history = {
        ("player_daily_cache", DATE): {"row_count": 252, "incident:coverage": state.to_record(),
                                       "incident:staleness": {"severity": "ERROR"},  # damaged: no opened_at
                                       "incident:uniqueness": {**state.to_record(), "closed_at": T0400.isoformat()},
                                       "verdict:coverage": {"severity": "ERROR"}},
        ("player_daily_cache", DATE - dt.timedelta(days=1)): {"incident:schema": {"severity": "BAD", "opened_at": "x"}},
    }
    assert recorded_states(history) == {KEY: state}  # the closed, damaged and other names left out
    assert IncidentState.from_record(json.loads(json.dumps(state.to_record()))) == state


@pytest.mark.parametrize(("minutes", "text"), [(0, "0 m"), (45, "45 m"), (60, "1 h 0 m"), (300, "5 h 0 m"),
                                                (435, "7 h 15 m"), (1500, "25 h 0 m")])
def test_durations(minutes, text):
    assert duration_text(dt.timedelta(minutes=minutes, seconds=59)) == text


# -- texts ----------------------------------------------------------------------------------

def test_times_are_new_york_with_the_day_when_not_the_runs():
    assert local_time(T0245, T0400, NY) == "02:45"
    assert local_time(T0245 + DAY, T0400, NY) == "02:45 tomorrow"
    assert local_time(T0245, T0400 + DAY, NY) == "2026-02-05 02:45"
    assert local_time(utc(6, 3), T0900, NY) == "22:00"  # 03:00 UTC on the 6th is the 5th in New York


def test_the_note_of_a_run_that_sends_nothing():
    other = Incident("player_daily_cache", "anomalies", DATE)
    recorded = {KEY: alerted("ERROR", T0400), other: alerted("WARNING", T0400)}
    assessment = assess(recorded, [verdict("ERROR"), verdict("WARNING", other)], T0530, DAY, "warning")
    assert message_kind(assessment, "warning", complete=True, should_alert=True) is None
    assert quiet_note(assessment, DAY, NY, T0530, "warning") == (
        "Slack: no message: 2 incidents still open, alerted at 04:00 (not re-sent before 04:00 tomorrow)")
    assert quiet_note(assessment, dt.timedelta(hours=6), NY, T0530, "warning") == (
        "Slack: no message: 2 incidents still open, alerted at 04:00 (not re-sent before 10:00)")
    better = assess({KEY: alerted("CRITICAL", T0245)}, [verdict("ERROR")], T0530, DAY, "warning")
    assert quiet_note(better, DAY, NY, T0530, "warning") == (
        "Slack: no message: 1 incident still open, alerted at 02:45 (better since: not re-sent)")
    assert quiet_note(assess({}, [verdict("OK")], T0530, DAY, "warning"), DAY, NY, T0530, "warning") is None


def test_marks_on_the_digest_lines():
    anomalies, staleness, nulls = (Incident("player_daily_cache", name, DATE)
                                   for name in ("anomalies", "staleness", "null_rates"))
    undelivered = IncidentState("ERROR", T0245, None, None, "")
    recorded = {KEY: alerted("ERROR", T0245), anomalies: alerted("ERROR", T0245 - DAY),
                staleness: alerted("WARNING", T0245), nulls: undelivered}
    verdicts = [verdict("ERROR"), verdict("ERROR", anomalies), verdict("ERROR", staleness), verdict("ERROR", nulls),
                verdict("CRITICAL", Incident("player_daily_cache", "schema", DATE))]
    assessment = assess(recorded, verdicts, T0900, DAY, "warning")
    assert [event.kind for event in assessment.events] == ["unchanged", "repeat", "worse", "repeat", "opened"]
    assert marks(assessment, DAY, NY) == {
        tuple(KEY): "still open since 02:45 (not re-sent)",
        tuple(anomalies): "still open since 2026-02-04 02:45 (re-sent after 24 h)",
        tuple(staleness): "worse: was WARNING, open since 02:45",
        tuple(nulls): "open since 02:45 (its alert was not delivered)",
    }
    assert marks(assessment, DAY, NY, every_run=True)[tuple(KEY)] == "still open since 02:45"
    assert summary(assessment) == "1 new, 1 worse, 2 re-sent, 1 still open (not re-sent)"
    assert message_kind(assessment, "warning", complete=True, should_alert=True) == DIGEST


def test_the_short_resolved_message():
    anomalies = Incident("player_daily_cache", "anomalies", DATE)
    recorded = {KEY: alerted("CRITICAL", T0400, opened=T0245), anomalies: alerted("WARNING", T0245)}
    assessment = assess(recorded, [verdict("OK"), verdict("WARNING", anomalies)], T0900, DAY, "error")
    assert message_kind(assessment, "error", complete=True, should_alert=False) == RESOLVED_ONLY
    assert resolved_message(assessment, NY, "/reports/report.html") == {
        "text": "✅ resolved: player_daily_cache · coverage · 2026-02-05 is OK again after 6 h 15 m",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text":
                "✅ resolved: player_daily_cache · coverage · 2026-02-05 is OK again after 6 h 15 m"}},
            {"type": "section", "text": {"type": "mrkdwn", "text":
                "still open since 02:45 (not re-sent): player_daily_cache · anomalies · 2026-02-05"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": "Report: /reports/report.html"}]},
        ]}
    two = assess({**recorded, anomalies: alerted("WARNING", T0245)}, [verdict("OK"), verdict("OK", anomalies)],
                 T0900, DAY, "warning")
    assert resolved_message(two, NY, None)["text"] == "✅ resolved: 2 incidents are OK again"


def test_which_message_a_run_sends():
    nothing = Assessment(())
    assert message_kind(nothing, "always", complete=True, should_alert=True) == DIGEST
    assert message_kind(nothing, "warning", complete=True, should_alert=True) is None
    assert message_kind(nothing, "error", complete=False, should_alert=True) == DIGEST  # INCOMPLETE, as today
    resolved = assess({KEY: alerted("ERROR", T0245)}, [verdict("OK")], T0400, DAY, "warning")
    assert message_kind(resolved, "warning", complete=True, should_alert=False) == RESOLVED_ONLY
    assert message_kind(resolved, "always", complete=True, should_alert=True) == DIGEST  # with its resolved line


# -- end to end -----------------------------------------------------------------------------



@pytest.fixture
def morning(warehouse, run_suite, webhook, tmp_path):
    """Runs of the suite on one history and one archive, at New York times of 2026-02-05."""
    history, reports, config = tmp_path / "history.duckdb", tmp_path / "reports", tmp_path / "health.toml"
    config.write_text(FAST_SLACK)

    def run(when_utc: str, *extra: str, date: str = "2026-02-05"):
        with freeze_time(when_utc):
            return run_suite(f"--database={warehouse.path}", f"--date={date}", f"--history={history}",
                             f"--reports-dir={reports}", f"--slack-webhook={webhook.url}", f"--health-config={config}",
                             *extra)

    run.history, run.reports, run.config = history, reports, config
    return run


def not_ready(warehouse, rows: int) -> None:
    """``rows`` of 2026-02-05 not production ready (one already is not): 13 → ERROR, 30 → CRITICAL."""
    warehouse.affect_rows(DATE, rows, "is_production_ready = FALSE")


def restore(warehouse, healthy_warehouse_file) -> None:
    shutil.copyfile(healthy_warehouse_file, warehouse.path)


def slack_line(run) -> str:
    (line,) = [line for line in run.stdout.splitlines() if line.startswith(("Slack", "WARNING: Slack"))]
    return line


def checks_text(message: dict) -> str:
    return next(block["text"]["text"] for block in message["blocks"]
                if block.get("text", {}).get("text", "").startswith("*Checks not OK*"))


def history_texts(path) -> str:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        rows = connection.execute("SELECT * FROM metric_history").fetchall()
    finally:
        connection.close()
    return "\n".join(map(repr, rows))


def incidents(run) -> list[tuple]:
    return [(i["dimension"], i["severity"], i["event"], i["opened_at"], i["alerted_at"])
            for i in run.results["incidents"]]


def test_four_morning_runs_alert_once_then_new_and_worse_then_resolved(morning, warehouse, webhook, healthy_warehouse_file):
    not_ready(warehouse, 13)
    first = morning("2026-02-05 07:45:00")  # 02:45 New York
    assert first.ret == 1 and len(webhook.received) == 1
    assert slack_line(first) == "Slack: alert sent (HTTP 200, 1 attempt)"
    message = webhook.received[0]["json"]
    assert message["text"] == "❌ Feature store UNHEALTHY: player_daily_cache 2026-02-05 (1 failing, 2 not OK) · 2 new"
    assert " — " not in checks_text(message)  # new incidents carry no mark
    assert incidents(first) == [
        ("production_readiness", "ERROR", "opened", "2026-02-05T07:45:00+00:00", "2026-02-05T07:45:00+00:00"),
        ("anomalies", "WARNING", "opened", "2026-02-05T07:45:00+00:00", "2026-02-05T07:45:00+00:00")]
    assert first.results["slack"] == {"sent": True, "detail": "HTTP 200", "events": {
        "opened": 2, "worse": 0, "repeat": 0, "resolved": 0, "unchanged": 0, "better": 0, "closed": 0}}
    for when in ("2026-02-05 09:00:00", "2026-02-05 10:30:00", "2026-02-05 14:00:00"):  # 04:00, 05:30, 09:00
        again = morning(when)
        assert again.ret == 1
        assert slack_line(again) == ("Slack: no message: 2 incidents still open, alerted at 02:45 "
                                     "(not re-sent before 02:45 tomorrow)")
        assert [i[2] for i in incidents(again)] == ["unchanged", "unchanged"]
        assert again.results["slack"]["sent"] is False
    assert len(webhook.received) == 1  # four runs, one message

    # a second dimension fails: WARNING, new; drift (issue 18) sees the POOR share too: WARNING, new
    warehouse.affect_rows(DATE, 6, "quality_tier = 'POOR'")
    second = morning("2026-02-05 14:30:00")  # 09:30
    assert len(webhook.received) == 2
    message = webhook.received[1]["json"]
    assert message["text"] == ("❌ Feature store UNHEALTHY: player_daily_cache 2026-02-05 (1 failing, 4 not OK) "
                               "· 2 new, 2 still open (not re-sent)")
    lines = checks_text(message).splitlines()  # every open incident listed; those not new marked
    assert [line.rpartition("|runbook>")[2] for line in lines[2:]] == [
        " — still open since 02:45 (not re-sent)", "", " — still open since 02:45 (not re-sent)", ""]
    assert lines[3].startswith("⚠️ *Quality Tiers* · 2026-02-05: 2.4% POOR (6/252)")
    assert [i[:3] for i in incidents(second)] == [("production_readiness", "ERROR", "unchanged"),
                                                  ("quality_tiers", "WARNING", "opened"),
                                                  ("anomalies", "WARNING", "unchanged"),
                                                  ("drift", "WARNING", "opened")]

    not_ready(warehouse, 30)  # 87.7 % ready: CRITICAL, and anomalies ERROR
    worse = morning("2026-02-05 14:45:00")  # 09:45
    assert len(webhook.received) == 3
    message = webhook.received[2]["json"]
    assert message["text"] == ("🚨 Feature store CRITICAL: player_daily_cache 2026-02-05 (2 failing, 4 not OK) "
                               "· 2 worse, 2 still open (not re-sent)")
    lines = checks_text(message).splitlines()
    assert lines[2].startswith("🚨 *Production Readiness* · 2026-02-05: 87.7% production ready (221/252)")
    assert [line.rpartition("|runbook>")[2] for line in lines[2:]] == [
        " — worse: was ERROR, open since 02:45", " — still open since 09:30 (not re-sent)",
        " — worse: was WARNING, open since 02:45", " — still open since 09:30 (not re-sent)"]
    assert incidents(worse) == [
        ("production_readiness", "CRITICAL", "worse", "2026-02-05T07:45:00+00:00", "2026-02-05T14:45:00+00:00"),
        ("quality_tiers", "WARNING", "unchanged", "2026-02-05T14:30:00+00:00", "2026-02-05T14:30:00+00:00"),
        ("anomalies", "ERROR", "worse", "2026-02-05T07:45:00+00:00", "2026-02-05T14:45:00+00:00"),
        ("drift", "WARNING", "unchanged", "2026-02-05T14:30:00+00:00", "2026-02-05T14:30:00+00:00")]

    restore(warehouse, healthy_warehouse_file)
    fixed = morning("2026-02-05 15:00:00")  # 10:00
    assert fixed.ret == 0 and len(webhook.received) == 4
    assert slack_line(fixed) == "Slack: resolved message sent (HTTP 200, 1 attempt)"
    resolved = webhook.received[3]["json"]
    assert resolved["text"] == "✅ resolved: 4 incidents are OK again"
    assert resolved["blocks"][0]["text"]["text"] == (
        "✅ resolved: player_daily_cache · production_readiness · 2026-02-05 is OK again after 7 h 15 m\n"
        "✅ resolved: player_daily_cache · quality_tiers · 2026-02-05 is OK again after 30 m\n"
        "✅ resolved: player_daily_cache · anomalies · 2026-02-05 is OK again after 7 h 15 m\n"
        "✅ resolved: player_daily_cache · drift · 2026-02-05 is OK again after 30 m")
    assert [block["type"] for block in resolved["blocks"]] == ["section", "context"]  # and the report
    assert [i[2] for i in incidents(fixed)] == ["resolved", "resolved", "resolved", "resolved"]
    quiet = morning("2026-02-05 16:00:00")  # 11:00: nothing open, nothing to say
    assert quiet.ret == 0 and len(webhook.received) == 4
    assert slack_line(quiet) == "Slack: no message (status HEALTHY, --slack-on=warning)"
    assert quiet.results["incidents"] == []

    # the webhook is nowhere: console, results JSON, archived reports (HTML, JSON, JUnit), history
    written = [run.stdout + run.stderr + json.dumps(run.results) for run in (first, second, worse, fixed, quiet)]
    written += [path.read_text(errors="replace") for path in morning.reports.rglob("*") if path.is_file()]
    written += [history_texts(morning.history), morning.history.read_bytes().decode("latin-1")]
    assert any("report.html" in str(path) for path in morning.reports.rglob("*"))
    for text in written:
        assert "s3cretT0ken" not in text and "B0002" not in text


def test_an_unchanged_incident_is_re_sent_once_after_repeat_after_hours(morning, warehouse, webhook):
    not_ready(warehouse, 13)
    morning("2026-02-05 07:45:00")  # 02:45 on the 5th
    assert len(webhook.received) == 1
    later = morning("2026-02-06 08:45:00")  # 03:45 on the 6th: 25 h later, a backfill check of the 5th
    assert len(webhook.received) == 2 and slack_line(later) == "Slack: alert sent (HTTP 200, 1 attempt)"
    message = webhook.received[1]["json"]
    assert message["text"].endswith(" · 2 re-sent")
    lines = checks_text(message).splitlines()
    assert lines[2].endswith("— still open since 2026-02-05 02:45 (re-sent after 24 h)")
    again = morning("2026-02-06 09:00:00")  # 04:00 on the 6th
    assert len(webhook.received) == 2
    assert slack_line(again) == ("Slack: no message: 2 incidents still open, alerted at 03:45 "
                                 "(not re-sent before 03:45 tomorrow)")


def test_repeat_after_hours_comes_from_the_config_and_resolved_goes_out_whatever_slack_on_says(
        morning, warehouse, webhook, healthy_warehouse_file):
    morning.config.write_text(FAST_SLACK + "repeat_after_hours = 1\n")
    not_ready(warehouse, 13)
    morning("2026-02-05 07:45:00")  # 02:45
    again = morning("2026-02-05 09:00:00")  # 04:00: 1 h 15 m later
    assert len(webhook.received) == 2 and slack_line(again) == "Slack: alert sent (HTTP 200, 1 attempt)"
    assert checks_text(webhook.received[1]["json"]).splitlines()[2].endswith(
        "— still open since 02:45 (re-sent after 1 h)")
    restore(warehouse, healthy_warehouse_file)
    fixed = morning("2026-02-05 09:30:00", "--slack-on=error")  # the WARNING one was alerted: its resolution too
    assert len(webhook.received) == 3 and slack_line(fixed) == "Slack: resolved message sent (HTTP 200, 1 attempt)"
    assert webhook.received[2]["json"]["blocks"][0]["text"]["text"] == (
        "✅ resolved: player_daily_cache · production_readiness · 2026-02-05 is OK again after 1 h 45 m\n"
        "✅ resolved: player_daily_cache · anomalies · 2026-02-05 is OK again after 1 h 45 m")


def test_without_a_history_every_run_alerts_as_before(morning, warehouse, webhook):
    not_ready(warehouse, 13)
    for when in ("2026-02-05 07:45:00", "2026-02-05 09:00:00"):
        run = morning(when, "--no-history")
        assert slack_line(run) == "Slack: alert sent (HTTP 200, 1 attempt)"
        assert run.results["incidents"] == [] and run.results["slack"]["events"] == {}
    assert len(webhook.received) == 2
    assert [m["json"]["text"] for m in webhook.received] == [
        "❌ Feature store UNHEALTHY: player_daily_cache 2026-02-05 (1 failing, 2 not OK)"] * 2
    assert not morning.history.exists()


def test_slack_on_always_still_sends_every_run(morning, warehouse, webhook):
    not_ready(warehouse, 13)
    morning("2026-02-05 07:45:00", "--slack-on=always")
    second = morning("2026-02-05 09:00:00", "--slack-on=always")
    assert len(webhook.received) == 2 and slack_line(second) == "Slack: alert sent (HTTP 200, 1 attempt)"
    message = webhook.received[1]["json"]
    assert message["text"].endswith(" · 2 still open")
    assert checks_text(message).splitlines()[2].endswith("|runbook> — still open since 02:45")
    # the repeat is still counted from the first alert: unchanged ones are not news
    assert [i[4] for i in incidents(second)] == ["2026-02-05T07:45:00+00:00"] * 2


def test_a_failed_delivery_is_sent_again_by_the_next_run(morning, warehouse, webhook):
    not_ready(warehouse, 13)
    webhook.script(Reply(500, "internal_error"))
    failed = morning("2026-02-05 07:45:00")
    assert len(webhook.received) == 3  # every attempt answered 500
    assert slack_line(failed) == ("WARNING: Slack alert not delivered after 3 attempts: HTTP 500 internal_error; "
                                  "the data verdict and exit code stand")
    assert failed.results["slack"]["sent"] is False
    assert [i[2:] for i in incidents(failed)] == [("opened", "2026-02-05T07:45:00+00:00", None)] * 2
    webhook.script(Reply(200, "ok"))
    next_run = morning("2026-02-05 09:00:00")
    assert len(webhook.received) == 4 and slack_line(next_run) == "Slack: alert sent (HTTP 200, 1 attempt)"
    message = webhook.received[3]["json"]
    assert message["text"].endswith(" · 2 re-sent")
    assert checks_text(message).splitlines()[2].endswith("— open since 02:45 (its alert was not delivered)")
    assert [i[2:] for i in incidents(next_run)] == [("repeat", "2026-02-05T07:45:00+00:00",
                                                     "2026-02-05T09:00:00+00:00")] * 2
    third = morning("2026-02-05 10:30:00")
    assert len(webhook.received) == 4
    assert slack_line(third) == ("Slack: no message: 2 incidents still open, alerted at 04:00 "
                                 "(not re-sent before 04:00 tomorrow)")
