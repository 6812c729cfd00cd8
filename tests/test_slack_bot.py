"""The Slack bot's incident threads, end to end: the real suite on a scratch warehouse and one
history, run morning after morning (freezegun), its Web API calls answered by a loopback server
standing in for https://slack.com/api/ (slack_sdk's WebClient pointed at it by slack.api_url)."""

from __future__ import annotations

import http.server
import json
import sys
import threading
import time
import urllib.parse

import pytest
from freezegun import freeze_time

from feature_store_health.config import ConfigError, load_config
from conftest import FAST_SLACK
from test_incidents import DATE, history_texts, not_ready, restore

TOKEN = "xoxb-1111-2222-s3cretB0tT0ken"
PR, AN = "player_daily_cache · production_readiness · 2026-02-05", "player_daily_cache · anomalies · 2026-02-05"
QT, DRIFT = "player_daily_cache · quality_tiers · 2026-02-05", "player_daily_cache · drift · 2026-02-05"
DRIFT_LINE = (f"⚠️ WARNING · {DRIFT}: 1 of 18 columns off their usual distribution: quality_tier: POOR 2.4 % of rows, "
              "expected 0.0–0.0 % (score 4.9)")


class SlackApi(http.server.ThreadingHTTPServer):
    """Slack's Web API on 127.0.0.1: chat.postMessage answers {"ok": true, "ts", "channel": "C1"},
    chat.update {"ok": true, "ts", "channel"}; ``script`` answers the next calls otherwise (status,
    body, headers).
    Records each call: method, JSON (or form) body, Authorization header, time."""

    daemon_threads = True

    def __init__(self) -> None:
        self.calls: list[dict] = []
        self.scripted: list[tuple[int, dict, dict]] = []
        super().__init__(("127.0.0.1", 0), _SlackHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/"

    def script(self, *answers: tuple[int, dict, dict]) -> None:
        self.scripted = list(answers)

    def of(self, method: str) -> list[dict]:
        return [call for call in self.calls if call["method"] == method]

    def close(self) -> None:
        self.shutdown()
        self.server_close()


def _real_clock() -> float:
    """Seconds, unfrozen: freezegun stops time.monotonic in the runs, not the system clock."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


class _SlackHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        server: SlackApi = self.server
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        body = json.loads(raw) if "json" in (self.headers.get("Content-Type") or "") else \
            dict(urllib.parse.parse_qsl(raw))
        method = self.path.rpartition("/")[2]
        server.calls.append({"method": method, "body": body, "raw": raw, "time": _real_clock(),
                             "authorization": self.headers.get("Authorization")})
        if server.scripted:
            status, answer, headers = server.scripted.pop(0)
        else:
            status, headers = 200, {}
            answer = {"ok": True, "channel": "C1", "ts": body.get("ts") or f"1770000000.{len(server.calls):06d}"}
        payload = json.dumps(answer).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def slack_api():
    server = SlackApi()
    yield server
    server.close()


@pytest.fixture
def bot(warehouse, run_suite, slack_api, tmp_path, monkeypatch):
    """Runs of the suite on one history with the bot configured (no webhook unless given)."""
    history, reports, config = tmp_path / "history.duckdb", tmp_path / "reports", tmp_path / "health.toml"
    config.write_text(FAST_SLACK + f'channel = "#feature-store"\napi_url = "{slack_api.url}"\n')
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    runs = []

    def run(when_utc: str, *extra: str):
        with freeze_time(when_utc):
            result = run_suite(f"--database={warehouse.path}", "--date=2026-02-05", f"--history={history}",
                               f"--reports-dir={reports}", f"--health-config={config}", *extra)
        runs.append(result)
        return result

    run.history, run.reports, run.config, run.runs = history, reports, config, runs
    return run


def bot_line(run) -> str:
    (line,) = [line for line in run.stdout.splitlines() if line.startswith(("Slack bot", "WARNING: Slack bot"))]
    return line


def rerun_line(run) -> str:
    (line,) = [line for line in run.stdout.splitlines() if line.startswith("Rerun: pytest ")]
    return line


def lines(call: dict) -> list[str]:
    """A message's lines without its last, the report's path (a folder named by the run's time)."""
    text = call["body"]["text"].splitlines()
    assert text[-1].startswith("Report: ") and text[-1].endswith("report.html")
    return text[:-1]


def recorded(path, dimension: str) -> dict | None:
    """The bot's state in the newest record of the incident (its ``channels["slack_bot"]``)."""
    import duckdb

    connection = duckdb.connect(str(path), read_only=True)
    try:
        row = connection.execute("SELECT text FROM metric_history WHERE name = ? ORDER BY run_at DESC LIMIT 1",
                                 [f"incident:{dimension}"]).fetchone()
    finally:
        connection.close()
    return (json.loads(row[0]).get("channels") or {}).get("slack_bot") if row else None


def assert_token_nowhere(bot) -> None:
    written = [run.stdout + run.stderr + json.dumps(run.results) for run in bot.runs]
    written += [path.read_text(errors="replace") for path in bot.reports.rglob("*") if path.is_file()]
    written += [history_texts(bot.history), bot.history.read_bytes().decode("latin-1")]
    for text in written:
        assert TOKEN not in text and "s3cretB0tT0ken" not in text


def test_a_thread_per_incident_replies_when_worse_or_due_and_the_parent_resolved(
        bot, warehouse, slack_api, healthy_warehouse_file):
    not_ready(warehouse, 13)  # production readiness ERROR, anomalies WARNING
    first = bot("2026-02-05 07:45:00")  # 02:45 New York
    assert first.ret == 1
    assert bot_line(first) == "Slack bot: 1 thread started (#feature-store)"
    (parent,) = slack_api.calls
    assert (parent["method"], parent["authorization"]) == ("chat.postMessage", f"Bearer {TOKEN}")
    assert parent["body"]["channel"] == "#feature-store" and "thread_ts" not in parent["body"]
    assert lines(parent) == [
        "❌ Feature store: 2 incidents open",
        f"❌ ERROR · {PR}: 94.4% production ready (238/252)",
        f"⚠️ WARNING · {AN}: 1 of 183 metrics off their baseline (7 game days): % production ready 94.4, "
        "expected 94.8–100.0 (score 4.9)",
        "Rerun: `" + rerun_line(first).removeprefix("Rerun: ") + "`"]
    parent_ts = "1770000000.000001"
    assert first.results["slack_bot"] == {
        "sent": True, "channel": "#feature-store", "detail": "1 thread started", "retries": 0,
        "posted": [{"ts": parent_ts, "incidents": ["player_daily_cache/production_readiness/2026-02-05",
                                                    "player_daily_cache/anomalies/2026-02-05"]}],
        "replied": [], "updated": []}

    assert recorded(bot.history, "production_readiness") == {
        "channel": "C1", "ts": parent_ts, "said": "ERROR", "said_at": "2026-02-05T07:45:00+00:00"}
    assert recorded(bot.history, "anomalies")["ts"] == parent_ts   # one parent for the run's new incidents
    for when in ("2026-02-05 09:00:00", "2026-02-05 14:00:00"):  # 04:00, 09:00: unchanged, within 24 h
        again = bot(when)
        assert again.ret == 1 and bot_line(again) == "Slack bot: nothing to say (2 incidents still open, no news)"
    assert len(slack_api.calls) == 1

    not_ready(warehouse, 30)  # CRITICAL, and anomalies ERROR
    worse = bot("2026-02-05 14:45:00")  # 09:45
    assert bot_line(worse) == "Slack bot: 1 reply (#feature-store)"
    (reply,) = slack_api.calls[1:]
    assert (reply["method"], reply["body"]["thread_ts"], reply["body"]["channel"]) == ("chat.postMessage", parent_ts, "C1")
    assert lines(reply) == [
        f"worse: ERROR → CRITICAL · {PR}: 87.7% production ready (221/252)",
        f"worse: WARNING → ERROR · {AN}: " + worse.verdict("anomalies")["message"]]

    due = bot("2026-02-06 15:00:00")  # 10:00 on the 6th, 24 h 15 m after the last word: still open
    assert bot_line(due) == "Slack bot: 1 reply (#feature-store)"
    (still,) = slack_api.calls[2:]
    assert still["body"]["thread_ts"] == parent_ts
    assert lines(still) == [f"still open since 2026-02-05 02:45 · {PR}: 87.7% production ready (221/252)",
                            f"still open since 2026-02-05 02:45 · {AN}: " + due.verdict("anomalies")["message"]]

    restore(warehouse, healthy_warehouse_file)
    fixed = bot("2026-02-06 15:30:00")  # 10:30 on the 6th: 31 h 45 m after it opened
    assert fixed.ret == 0
    assert bot_line(fixed) == "Slack bot: 1 reply, 1 parent updated (#feature-store)"
    resolved, update = slack_api.calls[3:]
    assert (resolved["method"], resolved["body"]["thread_ts"]) == ("chat.postMessage", parent_ts)
    assert lines(resolved) == [f"✅ resolved after 31 h 45 m · {PR}", f"✅ resolved after 31 h 45 m · {AN}"]
    assert (update["method"], update["body"]["channel"], update["body"]["ts"]) == ("chat.update", "C1", parent_ts)
    assert update["body"]["text"].splitlines() == [
        "✅ resolved after 31 h 45 m · Feature store: 2 incidents OK again",
        f"✅ ~{PR}~ resolved after 31 h 45 m", f"✅ ~{AN}~ resolved after 31 h 45 m"]
    assert fixed.results["slack_bot"]["updated"] == [{"ts": parent_ts, "all_resolved": True, "resolved": [
        "player_daily_cache/production_readiness/2026-02-05", "player_daily_cache/anomalies/2026-02-05"]}]

    assert recorded(bot.history, "production_readiness") == {
        "channel": "C1", "ts": parent_ts, "said": "OK", "said_at": "2026-02-06T15:30:00+00:00",
        "resolved_at": "2026-02-06T15:30:00+00:00"}
    quiet = bot("2026-02-06 16:00:00")
    assert quiet.ret == 0 and len(slack_api.calls) == 5
    assert bot_line(quiet) == "Slack bot: nothing to say"
    assert {call["authorization"] for call in slack_api.calls} == {f"Bearer {TOKEN}"}
    assert_token_nowhere(bot)


def test_incidents_resolved_one_by_one_edit_the_parent_to_say_which_alongside_the_webhook(
        bot, warehouse, slack_api, webhook, healthy_warehouse_file):
    not_ready(warehouse, 13)
    warehouse.affect_rows(DATE, 6, "quality_tier = 'POOR'")
    bot("2026-02-05 07:45:00", f"--slack-webhook={webhook.url}")  # 02:45
    assert len(webhook.received) == 1   # the webhook's message goes out as before, the bot's besides
    (parent,) = slack_api.calls
    assert lines(parent)[:5] == [
        "❌ Feature store: 4 incidents open",
        f"❌ ERROR · {PR}: 94.4% production ready (238/252)", f"⚠️ WARNING · {QT}: 2.4% POOR (6/252)",
        f"⚠️ WARNING · {AN}: 1 of 183 metrics off their baseline (7 game days): % production ready 94.4, "
        "expected 94.8–100.0 (score 4.9)", DRIFT_LINE]

    restore(warehouse, healthy_warehouse_file)
    warehouse.affect_rows(DATE, 6, "quality_tier = 'POOR'")
    part = bot("2026-02-05 09:00:00", f"--slack-webhook={webhook.url}")  # 04:00: readiness fixed, tiers not
    assert len(webhook.received) == 2 and bot_line(part) == "Slack bot: 1 reply, 1 parent updated (#feature-store)"
    reply, update = slack_api.calls[1:]
    assert lines(reply) == [f"✅ resolved after 1 h 15 m · {PR}", f"✅ resolved after 1 h 15 m · {AN}"]
    assert update["body"]["text"].splitlines() == [
        "⚠️ Feature store: 2 of 4 incidents resolved, 2 still open",
        f"✅ ~{PR}~ resolved after 1 h 15 m", f"⚠️ WARNING · {QT}: 2.4% POOR (6/252)",
        f"✅ ~{AN}~ resolved after 1 h 15 m", DRIFT_LINE]
    assert part.results["slack_bot"]["updated"] == [{"ts": "1770000000.000001", "all_resolved": False, "resolved": [
        "player_daily_cache/production_readiness/2026-02-05", "player_daily_cache/anomalies/2026-02-05"]}]

    restore(warehouse, healthy_warehouse_file)
    done = bot("2026-02-05 10:00:00", f"--slack-webhook={webhook.url}")  # 05:00: all fixed
    assert done.ret == 0 and bot_line(done) == "Slack bot: 1 reply, 1 parent updated (#feature-store)"
    reply, update = slack_api.calls[3:]
    assert reply["body"]["thread_ts"] == update["body"]["ts"] == "1770000000.000001"
    assert lines(reply) == [f"✅ resolved after 2 h 15 m · {QT}", f"✅ resolved after 2 h 15 m · {DRIFT}"]
    assert update["body"]["text"].splitlines() == [
        "✅ resolved after 2 h 15 m · Feature store: 4 incidents OK again",
        f"✅ ~{PR}~ resolved after 1 h 15 m", f"✅ ~{QT}~ resolved after 2 h 15 m",
        f"✅ ~{AN}~ resolved after 1 h 15 m", f"✅ ~{DRIFT}~ resolved after 2 h 15 m"]
    assert len(webhook.received) == 3
    assert_token_nowhere(bot)


def test_a_429_is_retried_after_retry_after_within_bounds_and_a_failed_call_by_the_next_run(bot, warehouse, slack_api):
    not_ready(warehouse, 13)
    limited = (429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "30"})
    slack_api.script(limited)   # 30 s would pass slack.total_seconds (5): not waited for
    started = time.monotonic()
    first = bot("2026-02-05 07:45:00")
    assert first.ret == 1 and len(slack_api.calls) == 1 and time.monotonic() - started < 25
    assert bot_line(first) == (
        "WARNING: Slack bot: ratelimited: Slack rate limited the bot (HTTP 429) beyond slack.max_attempts or "
        "slack.total_seconds; chat.postMessage not sent, tried again next run; the data verdict and exit code stand")
    assert first.results["slack_bot"]["sent"] is False and first.results["slack_bot"]["posted"] == []
    assert recorded(bot.history, "production_readiness") is None   # nothing delivered, nothing recorded

    slack_api.script((429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}))  # then the usual answer
    second = bot("2026-02-05 09:00:00")   # the next run posts the parent it could not
    assert bot_line(second) == "Slack bot: 1 thread started (#feature-store, 1 retry)"
    limited_call, posted = slack_api.calls[1:]
    assert (limited_call["method"], posted["method"]) == ("chat.postMessage", "chat.postMessage")
    assert limited_call["raw"] == posted["raw"] and "thread_ts" not in posted["body"]
    assert 1.0 <= posted["time"] - limited_call["time"] < 2.5   # Retry-After plus the SDK's jitter (< 1 s)
    assert second.results["slack_bot"]["retries"] == 1
    assert recorded(bot.history, "production_readiness")["ts"] == "1770000000.000003"
    assert_token_nowhere(bot)


def test_a_wrong_token_is_one_clear_line_and_the_exit_code_stands(bot, warehouse, slack_api):
    not_ready(warehouse, 13)
    slack_api.script((200, {"ok": False, "error": "invalid_auth"}, {}))
    run = bot("2026-02-05 07:45:00")
    assert run.ret == 1   # as without the bot: ERROR production readiness
    said = [line for line in (run.stdout + run.stderr).splitlines() if "Slack bot" in line or "invalid_auth" in line]
    assert said == ["WARNING: Slack bot: invalid_auth: check SLACK_BOT_TOKEN (the app's Bot User OAuth Token, "
                    "xoxb-…); chat.postMessage not sent, tried again next run; the data verdict and exit code stand"]
    assert "Traceback" not in run.stdout + run.stderr and len(slack_api.calls) == 1
    assert run.results["slack_bot"] == {
        "sent": False, "channel": "#feature-store", "posted": [], "replied": [], "updated": [], "retries": 0,
        "detail": "failed: invalid_auth: check SLACK_BOT_TOKEN (the app's Bot User OAuth Token, xoxb-…)"}
    assert recorded(bot.history, "production_readiness") is None
    assert_token_nowhere(bot)


def test_muted_incidents_send_nothing_and_a_missing_sdk_or_token_is_said(bot, warehouse, slack_api, monkeypatch):
    bot.config.write_text(bot.config.read_text() + '[[mutes]]\ntable = "player_daily_cache"\n'
                          'dimension = "production_readiness"\nreason = "known backfill"\nuntil = 2026-02-20\n')
    not_ready(warehouse, 13)
    monkeypatch.setitem(sys.modules, "slack_sdk", None)   # as if the oncall extra were not installed
    missing = bot("2026-02-05 07:45:00")
    assert missing.ret == 1 and slack_api.calls == []
    assert bot_line(missing) == ("WARNING: Slack bot: slack_sdk is not installed: pip install -e '.[oncall]'; "
                                 "nothing sent; the data verdict and exit code stand")
    monkeypatch.delitem(sys.modules, "slack_sdk")
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    off = bot("2026-02-05 08:00:00")
    assert bot_line(off) == "Slack bot: off: $SLACK_BOT_TOKEN is not set (slack.channel = #feature-store)"
    monkeypatch.setenv("SLACK_BOT_TOKEN", TOKEN)
    muted = bot("2026-02-05 09:00:00")
    assert muted.ret == 1   # a mute never changes the exit code
    (parent,) = slack_api.calls   # only the anomaly: the muted readiness incident is not in the thread
    assert lines(parent)[:2] == ["⚠️ Feature store: 1 incident open", f"⚠️ WARNING · {AN}: 1 of 183 metrics off "
                                 "their baseline (7 game days): % production ready 94.4, expected 94.8–100.0 (score 4.9)"]
    assert recorded(bot.history, "production_readiness") is None


def test_the_bot_keys_of_the_slack_section(tmp_path):
    assert load_config().slack[-3:] == (None, "SLACK_BOT_TOKEN", "https://slack.com/api/")
    path = tmp_path / "health.toml"
    path.write_text('[slack]\nchannel = "C0123"\nbot_token_env = "OPS_SLACK_TOKEN"\napi_url = "http://127.0.0.1:9/api"\n')
    slack = load_config(path).slack
    assert (slack.channel, slack.bot_token_env, slack.api_url) == ("C0123", "OPS_SLACK_TOKEN", "http://127.0.0.1:9/api/")
    for text, message in (
            ('channel = "feature store"', "slack.channel must be a channel ID or #name, e.g. \"C0123\" or "
                                          "\"#feature-store\", got 'feature store'"),
            ('bot_token_env = "xoxb-1-2-secret"', "slack.bot_token_env must name the environment variable that holds "
                                                  "the bot token (e.g. \"SLACK_BOT_TOKEN\"), not the token itself"),
            ('api_url = "slack.com/api"', "slack.api_url must be an http(s) URL, e.g. \"https://slack.com/api/\", "
                                          "got 'slack.com/api'")):
        path.write_text(f"[slack]\n{text}\n")
        with pytest.raises(ConfigError) as error:
            load_config(path)
        assert message in str(error.value) and "secret" not in str(error.value)


def test_a_resolution_slack_refused_is_told_by_the_next_run_after_the_webhook_closed_the_incident(
        bot, warehouse, slack_api, webhook, healthy_warehouse_file):
    """The webhook delivers the resolved message (the incident closes in the history) while the bot's
    reply is refused: the next run still tells the thread and edits the parent, once."""
    not_ready(warehouse, 13)
    bot("2026-02-05 07:45:00", f"--slack-webhook={webhook.url}")  # 02:45
    (parent,) = slack_api.calls
    restore(warehouse, healthy_warehouse_file)
    slack_api.script((200, {"ok": False, "error": "channel_not_found"}, {}))
    fixed = bot("2026-02-05 09:00:00", f"--slack-webhook={webhook.url}")  # 04:00
    assert fixed.ret == 0 and len(webhook.received) == 2   # the webhook's resolved message
    assert bot_line(fixed).startswith("WARNING: Slack bot: channel_not_found")
    assert recorded(bot.history, "production_readiness").get("resolved_at") is None
    later = bot("2026-02-05 10:00:00", f"--slack-webhook={webhook.url}")  # 05:00: nothing new to the webhook
    assert len(webhook.received) == 2
    assert bot_line(later) == "Slack bot: 1 reply, 1 parent updated (#feature-store)"
    reply, update = slack_api.calls[2:]
    assert reply["body"]["thread_ts"] == update["body"]["ts"] == parent_ts_of(parent)
    assert lines(reply) == [f"✅ resolved after 1 h 15 m · {PR}", f"✅ resolved after 1 h 15 m · {AN}"]
    assert update["body"]["text"].splitlines()[0] == "✅ resolved after 1 h 15 m · Feature store: 2 incidents OK again"
    assert recorded(bot.history, "production_readiness")["resolved_at"] == "2026-02-05T10:00:00+00:00"
    quiet = bot("2026-02-05 11:00:00", f"--slack-webhook={webhook.url}")
    assert bot_line(quiet) == "Slack bot: nothing to say" and len(slack_api.calls) == 4
    assert_token_nowhere(bot)


def parent_ts_of(call: dict) -> str:
    return "1770000000.000001" if call["method"] == "chat.postMessage" else call["body"]["ts"]


def test_the_bots_time_limit_is_the_runs_not_each_calls():
    """slack.total_seconds bounds all of a run's calls, as PagerDuty's events share theirs: a run
    replying in many threads, each answered 429 then ok, cannot take threads × total_seconds."""
    from feature_store_health.alerting.slack_bot_api import _Budget

    budget = _Budget(0.3)
    budget.start()
    first = budget.deadline
    assert not budget.used_up and budget.allows(0.1) and not budget.allows(0.5)
    time.sleep(0.2)
    budget.start()   # the next call: the same deadline
    assert budget.deadline == first and not budget.allows(0.2)
    time.sleep(0.15)
    assert budget.used_up
