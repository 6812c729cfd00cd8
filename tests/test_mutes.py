"""Mutes with an expiry ([[mutes]]): a muted check is judged and shown everywhere, sends nothing, and
never changes the exit code; an expired mute is ignored and said so; a bad mute is one line, exit 4.

End to end: the real suite on a copy of the demo warehouse with a defect injected on 2026-02-05,
its Slack messages sent to a loopback webhook, "today" fixed by freezegun (the 30-day rule and the
expiry are measured against it), the archived report rendered in headless Chromium.
"""

from __future__ import annotations

import datetime as dt

import pytest
from freezegun import freeze_time

from conftest import FAST_SLACK
from test_browser import assert_offline_and_clean, only_report
from test_incidents import DATE, checks_text, morning, not_ready, slack_line  # noqa: F401  (morning: a fixture)

READINESS = "DATA-123: readiness flag backfill, fixed by the 2026-02-12 deploy"
ANOMALIES = "DATA-123: the readiness share follows the backfill"


def mute(dimension: str, reason: str, until: str = "2026-02-20", **extra: str) -> str:
    """One [[mutes]] entry of the feature cache."""
    keys = "".join(f'{key} = "{value}"\n' for key, value in extra.items())
    return (f'[[mutes]]\ntable = "player_daily_cache"\ndimension = "{dimension}"\n{keys}'
            f'reason = "{reason}"\nuntil = "{until}"\n')


def configure(morning, *mutes: str) -> None:
    morning.config.write_text(FAST_SLACK + "".join(mutes))


def muted(run) -> dict[str, dict | None]:
    """dimension -> the results JSON's ``muted`` of each check not OK of the feature cache."""
    return {check["dimension"]: check["muted"] for check in run.checks() if check["severity"] != "OK"}


def check_lines(run, label: str) -> list[str]:
    """A check's console line and the indented lines under it."""
    lines = run.stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line[2:].lstrip().startswith(f"{label}:"))
    end = next(index for index in range(start + 1, len(lines)) if not lines[index].startswith("   "))
    return lines[start:end]


def summary_line(run) -> str:
    (line,) = [line for line in run.stdout.splitlines() if line.startswith("Summary: ")]
    return line


def test_a_run_whose_every_failing_check_is_muted_sends_nothing_and_shows_them_muted_everywhere(
        morning, warehouse, webhook, browser):
    configure(morning, mute("production_readiness", READINESS), mute("anomalies", ANOMALIES))
    not_ready(warehouse, 13)   # production_readiness ERROR, anomalies WARNING (the readiness share)
    run = morning("2026-02-05 07:45:00")   # 02:45 New York

    # the exit code is what it would be without the mutes: the CI gate stays honest
    assert run.ret == 1 and run.results["status"] == "UNHEALTHY"
    assert run.results["gate"]["decision"] == "hold"
    assert webhook.received == []
    assert slack_line(run) == ("Slack: no message: 2 checks not OK muted "
                               "(production_readiness until 2026-02-20, anomalies until 2026-02-20)")

    # the console: each muted check under its line, the summary counts them
    assert check_lines(run, "Production Readiness") == [
        "❌ Production Readiness: 94.4% production ready (238/252)",
        f"   🔇 muted until 2026-02-20: {READINESS}"]
    assert check_lines(run, "Anomalies")[1] == f"   🔇 muted until 2026-02-20: {ANOMALIES}"
    assert summary_line(run) == ("Summary: 24/25 checks passed, 1 with warnings, 2 muted "
                                 "(alerts off; still counted in the status and exit code)")
    # the muted check's test still fails, and its failure says it is muted
    assert "FAILED test_health.py::test_production_readiness[player_daily_cache-2026-02-05]" in run.stdout
    failure = run.stdout.split("feature store health: muted", 1)[1].splitlines()
    assert failure[1:3] == [f"muted until 2026-02-20: {READINESS}",
                            "The test still fails: a mute silences alerts, never the status or the exit code."]

    # the results JSON: each check's muted, the mutes and what each silenced
    assert muted(run) == {"production_readiness": {"until": "2026-02-20", "reason": READINESS},
                          "anomalies": {"until": "2026-02-20", "reason": ANOMALIES}}
    assert all(check["muted"] is None for check in run.results["checks"] if check["severity"] == "OK")
    assert run.results["mutes"] == {"expired": [], "active": [
        {"table": "player_daily_cache", "dimension": "production_readiness", "column": None, "from": None, "to": None,
         "reason": READINESS, "until": "2026-02-20", "checks": 1},
        {"table": "player_daily_cache", "dimension": "anomalies", "column": None, "from": None, "to": None,
         "reason": ANOMALIES, "until": "2026-02-20", "checks": 1}]}
    assert run.results["slack"]["sent"] is False
    # the incidents are judged and recorded, never alerted: once the mute ends they alert
    assert [(i["dimension"], i["event"], i["alerted_at"]) for i in run.results["incidents"]] == [
        ("production_readiness", "opened", None), ("anomalies", "opened", None)]

    # the HTML report, as a person sees it: the badge beside each muted check, the mutes section
    report = only_report(morning.reports)
    page = browser.open(report)
    banner = page.evaluate("document.querySelector('.status-banner').innerText")
    assert " ".join(banner.split()) == "Overall Status: UNHEALTHY · 24/25 checks passed · 2 muted"
    badges = page.evaluate("Array.from(document.querySelectorAll('.fsh > table:not(.mutes) .muted-badge')).map(b => "
                           "[b.closest('tr').children[2].textContent, b.textContent, b.dataset.until, "
                           "b.getBoundingClientRect().width > 0])")
    assert badges == [["Production Readiness", f"muted until 2026-02-20: {READINESS}", "2026-02-20", True],
                      ["Anomalies", f"muted until 2026-02-20: {ANOMALIES}", "2026-02-20", True]]
    severity = page.evaluate("Array.from(document.querySelectorAll('.muted-badge'))[0].closest('td').innerText")
    assert severity.startswith("ERROR")   # still its severity, the mute beside it
    mutes = page.evaluate("Array.from(document.querySelectorAll('tr.mute-active')).map(r => r.innerText)")
    assert [" ".join(row.split()) for row in mutes] == [
        f"mutes[0] (player_daily_cache · production_readiness) muted until 2026-02-20: {READINESS} "
        "1 check muted in this run",
        f"mutes[1] (player_daily_cache · anomalies) muted until 2026-02-20: {ANOMALIES} 1 check muted in this run"]
    # pytest-html's own row of the muted check: Failed, its card with the badge
    card = page.evaluate("""(() => {
        const row = Array.from(document.querySelectorAll('tbody.results-table-row'))
            .find(r => r.id.endsWith('test_production_readiness[player_daily_cache-2026-02-05]'));
        return [row.querySelector('.col-result').textContent, row.querySelector('.extra .muted-badge').textContent];
    })()""")
    assert card == ["Failed", f"muted until 2026-02-20: {READINESS}"]
    assert_offline_and_clean(page, report)

    # an hour later, still muted: still nothing sent, still failing
    again = morning("2026-02-05 09:00:00")
    assert again.ret == 1 and webhook.received == []
    assert [(i["dimension"], i["event"], i["alerted_at"]) for i in again.results["incidents"]] == [
        ("production_readiness", "repeat", None), ("anomalies", "repeat", None)]


def test_when_another_check_fails_the_message_goes_out_with_the_muted_line_marked(morning, warehouse, webhook):
    configure(morning, mute("production_readiness", READINESS))
    not_ready(warehouse, 13)
    run = morning("2026-02-05 07:45:00")
    assert run.ret == 1 and len(webhook.received) == 1
    assert slack_line(run) == "Slack: alert sent (HTTP 200, 1 attempt)"
    message = webhook.received[0]["json"]
    assert message["text"] == ("❌ Feature store UNHEALTHY: player_daily_cache 2026-02-05 "
                               "(1 failing, 2 not OK, 1 muted) · 1 new")
    lines = checks_text(message).splitlines()
    assert lines[2].startswith("❌ *Production Readiness* · 2026-02-05: 94.4% production ready (238/252)")
    assert lines[2].endswith(f"|runbook> — 🔇 muted until 2026-02-20: {READINESS}")
    assert lines[3].startswith("⚠️ *Anomalies* · ") and " — " not in lines[3]
    assert muted(run) == {"production_readiness": {"until": "2026-02-20", "reason": READINESS}, "anomalies": None}
    # the muted incident is recorded as never alerted; the other as alerted
    assert [(i["dimension"], i["event"], i["alerted_at"]) for i in run.results["incidents"]] == [
        ("production_readiness", "opened", None), ("anomalies", "opened", "2026-02-05T07:45:00+00:00")]


def test_without_a_history_the_status_of_the_checks_not_muted_decides(morning, warehouse, webhook):
    not_ready(warehouse, 13)
    configure(morning, mute("production_readiness", READINESS), mute("anomalies", ANOMALIES))
    quiet = morning("2026-02-05 07:45:00", "--no-history")
    assert quiet.ret == 1 and webhook.received == []
    assert slack_line(quiet) == ("Slack: no message: 2 checks not OK muted "
                                 "(production_readiness until 2026-02-20, anomalies until 2026-02-20)")
    assert quiet.results["incidents"] == [] and quiet.results["status"] == "UNHEALTHY"

    configure(morning, mute("production_readiness", READINESS))   # the anomalies WARNING is not muted
    sent = morning("2026-02-05 07:50:00", "--no-history")
    assert sent.ret == 1 and len(webhook.received) == 1
    message = webhook.received[0]["json"]
    assert message["text"] == "❌ Feature store UNHEALTHY: player_daily_cache 2026-02-05 (1 failing, 2 not OK, 1 muted)"
    lines = checks_text(message).splitlines()
    assert lines[2].endswith(f"|runbook> — 🔇 muted until 2026-02-20: {READINESS}")
    assert " — " not in lines[3]
    # --slack-on=error: the only check at that level is muted, the WARNING is below it
    assert morning("2026-02-05 07:55:00", "--no-history", "--slack-on=error").ret == 1
    assert len(webhook.received) == 1


USAGE, POINTS = "usage_rate_last_10", "points_avg_last_10"
# the four checks NULLs in usage_rate_last_10 fail, each about that column alone
USAGE_CHECKS = ("null_rates", "source_consistency", "anomalies", "drift")


def test_a_column_mute_covers_a_check_only_when_every_column_it_concerns_is_muted(morning, warehouse, webhook):
    outage = f"DATA-77: {USAGE} upstream outage"
    configure(morning, *(mute(dimension, outage, column=USAGE) for dimension in USAGE_CHECKS),
              mute("null_rates", f"DATA-78: {POINTS} NULL for rookies", column=POINTS))
    warehouse.affect_rows(DATE, 13, f"{USAGE} = NULL")
    first = morning("2026-02-05 07:45:00")
    assert first.ret == 1 and webhook.received == []
    assert {dimension: (entry or {}).get("reason") for dimension, entry in muted(first).items()} == {
        dimension: f"DATA-77: {USAGE} upstream outage" for dimension in USAGE_CHECKS}
    (flagged,) = [line for line in first.stdout.splitlines() if line.startswith("Columns flagged: ")]
    assert flagged == f"Columns flagged: {USAGE} (5.16% NULL, muted until 2026-02-20: DATA-77: {USAGE} upstream outage)"

    # a second column in the same findings: news, except where it is muted too (null_rates)
    warehouse.affect_rows(DATE, 13, f"{POINTS} = NULL")
    second = morning("2026-02-05 09:00:00")
    assert second.ret == 1 and len(webhook.received) == 1
    assert muted(second) == {"null_rates": {"until": "2026-02-20", "reason": f"DATA-77: {USAGE} upstream outage"},
                             "source_consistency": None, "anomalies": None, "drift": None}
    message = webhook.received[0]["json"]
    assert message["text"] == ("❌ Feature store UNHEALTHY: player_daily_cache 2026-02-05 "
                               "(2 failing, 4 not OK, 1 muted) · 3 re-sent")
    lines = checks_text(message).splitlines()
    assert lines[2].startswith("❌ *NULL Rates* · ")
    assert lines[2].endswith(f"— 🔇 muted until 2026-02-20: DATA-77: {USAGE} upstream outage")
    assert all(line.endswith("(its alert was not delivered)") for line in lines[3:])
    assert [entry["checks"] for entry in second.results["mutes"]["active"]] == [1, 0, 0, 0, 0]


def test_an_expired_mute_is_ignored_the_check_alerts_and_the_expiry_is_said_once_per_run(
        morning, warehouse, webhook, browser):
    configure(morning, mute("production_readiness", READINESS, until="2026-02-05"),
              mute("anomalies", ANOMALIES, until="2026-02-05"))
    not_ready(warehouse, 13)
    muted_run = morning("2026-02-05 07:45:00")   # its last day: it holds (until is inclusive)
    assert muted_run.ret == 1 and webhook.received == []
    assert not [line for line in muted_run.stdout.splitlines() if "expired on" in line]

    later = morning("2026-02-06 08:45:00")   # 03:45 New York the next day, a backfill check of the 5th
    assert later.ret == 1 and len(webhook.received) == 1
    warnings = [line for line in later.stdout.splitlines() if "expired on" in line]
    assert warnings == [
        "WARNING: mutes[0] (player_daily_cache · production_readiness) expired on 2026-02-05 and is ignored: "
        "remove it from the config, or renew it with a new until",
        "WARNING: mutes[1] (player_daily_cache · anomalies) expired on 2026-02-05 and is ignored: "
        "remove it from the config, or renew it with a new until"]
    message = webhook.received[0]["json"]
    assert message["text"].endswith("(1 failing, 2 not OK) · 2 re-sent")   # never alerted while muted
    lines = checks_text(message).splitlines()
    assert lines[2].endswith("— open since 2026-02-05 02:45 (its alert was not delivered) · "
                             f"its mute expired on 2026-02-05 ({READINESS})")
    assert all(check["muted"] is None for check in later.results["checks"])
    assert later.results["mutes"]["active"] == []
    assert [(entry["dimension"], entry["until"], entry["checks"]) for entry in later.results["mutes"]["expired"]] == [
        ("production_readiness", "2026-02-05", 1), ("anomalies", "2026-02-05", 1)]
    assert "muted" not in summary_line(later)

    reports = sorted(morning.reports.glob("*/*/report.html"))
    page = browser.open(reports[-1])
    rows = page.evaluate("Array.from(document.querySelectorAll('tr.mute-expired')).map(r => r.innerText)")
    assert " ".join(rows[0].split()) == (
        f"mutes[0] (player_daily_cache · production_readiness) expired on 2026-02-05: {READINESS} ignored: 1 check "
        "alert as usual; remove it from the config, or renew it with a new until")
    assert page.evaluate("document.querySelectorAll('.muted-badge').length") == 0
    assert_offline_and_clean(page, reports[-1])


def test_one_expired_mute_over_several_checks_is_one_line(morning, warehouse, webhook):
    """Reported once per run (one line per expired entry, however many checks it covered), on
    every run while it stays in the config: an entry that no longer mutes is for a person to remove."""
    configure(morning, mute("production_readiness", READINESS, until="2026-02-04"))
    for day in (dt.date(2026, 2, 4), DATE):
        warehouse.affect_rows(day, 13, "is_production_ready = FALSE")
    for when in ("2026-02-05 07:45:00", "2026-02-05 09:00:00"):
        run = morning(when, "--days=2")
        assert [line for line in run.stdout.splitlines() if "expired on" in line] == [
            "WARNING: mutes[0] (player_daily_cache · production_readiness) expired on 2026-02-04 and is ignored: "
            "remove it from the config, or renew it with a new until"]
        (expired,) = run.results["mutes"]["expired"]
        assert expired["checks"] == 2
    assert len(webhook.received) == 1


# -- config errors: one line, exit 4 ------------------------------------------------------------

ENTRY = 'table = "player_daily_cache"\ndimension = "null_rates"\nreason = "DATA-77"\n'


@pytest.mark.parametrize(("entry", "error"), [
    (ENTRY, "mutes[0].until is required: a mute always ends (at most 30 days ahead); add until = YYYY-MM-DD"),
    (ENTRY + 'until = "2026-03-08"\n',
     "mutes[0].until = 2026-03-08 is 31 days after today (2026-02-05): a mute lasts at most 30 days; "
     "set until = 2026-03-07 or earlier, and renew it then if still needed"),
    (ENTRY.replace("player_daily_cache", "player_cache") + 'until = "2026-02-20"\n',
     "mutes[0].table = 'player_cache' is not a monitored table (player_daily_cache, player_composite_factors)"),
    (ENTRY.replace("null_rates", "nulls") + 'until = "2026-02-20"\n', "mutes[0].dimension = 'nulls' is not a dimension"),
    (ENTRY + 'column = "usage_rate_last_11"\nuntil = "2026-02-20"\n',
     "mutes[0].column = 'usage_rate_last_11' is not a column of player_daily_cache's contract"),
    (ENTRY.replace("null_rates", "production_readiness") + 'column = "usage_rate_last_10"\nuntil = "2026-02-20"\n',
     "mutes[0].column: a production_readiness finding concerns no column, so a column mute of it would never "
     "silence anything; remove column to mute the whole check"),
    (ENTRY + 'until = "2026-02-30"\n', "mutes[0].until must be a date like 2026-03-20, got '2026-02-30'"),
    (ENTRY + 'from = "last week"\nuntil = "2026-02-20"\n',
     "mutes[0].from must be a date like 2026-03-20, got 'last week'"),
    (ENTRY + 'from = 2026-02-10\nto = 2026-02-01\nuntil = "2026-02-20"\n',
     "mutes[0]: to (2026-02-01) is before from (2026-02-10)"),
    (ENTRY + 'until = "2026-02-20"\nexpires = "2026-02-20"\n',
     "mutes[0]: unknown key 'expires'; the keys are column, dimension, from, reason, table, to, until"),
    (ENTRY.replace('reason = "DATA-77"\n', "") + 'until = "2026-02-20"\n',
     "mutes[0].reason is required: a non-empty string"),
], ids=["until-missing", "more-than-30-days", "unknown-table", "unknown-dimension", "unknown-column",
                                "column-of-a-table-level-check", "bad-until",
        "bad-from", "to-before-from", "unknown-key", "reason-missing"])
def test_a_bad_mute_is_one_line_and_exit_4(run_suite, tmp_path, entry, error):
    config = tmp_path / "health.toml"
    config.write_text("[[mutes]]\n" + entry)
    with freeze_time("2026-02-05 14:00:00"):
        run = run_suite(f"--health-config={config}", "--date=2026-02-05", results=False)
    assert run.ret == 4
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith(f"ERROR: config {config}: {error}")
    assert "Traceback" not in run.stdout + run.stderr


def test_thirty_days_is_the_longest_mute(run_suite, tmp_path, healthy_warehouse_file):
    config = tmp_path / "health.toml"
    config.write_text("[[mutes]]\n" + ENTRY + 'until = "2026-03-07"\n')   # 30 days after 2026-02-05 (New York)
    with freeze_time("2026-02-06 04:59:00"):   # 23:59 on the 5th in New York
        run = run_suite(f"--database={healthy_warehouse_file}", f"--health-config={config}", "--date=2026-02-05",
                        "-m", "null_rates")
    assert run.ret == 0, run.stderr
    assert run.results["mutes"]["active"][0]["until"] == "2026-03-07"
    with freeze_time("2026-02-05 04:59:00"):   # 23:59 on the 4th in New York: 31 days before it
        run = run_suite(f"--database={healthy_warehouse_file}", f"--health-config={config}", "--date=2026-02-04",
                        "-m", "null_rates", results=False)
    assert run.ret == 4
    assert "mutes[0].until = 2026-03-07 is 31 days after today (2026-02-04)" in run.stderr


def test_a_column_mute_of_a_table_without_a_contract_names_one_of_its_critical_features(tmp_path):
    from feature_store_health.config import ConfigError, load_config
    from conftest import table_entry

    path = tmp_path / "health.toml"
    path.write_text(table_entry() + "[[mutes]]\n" + ENTRY + 'column = "usage_rate_last_10"\nuntil = "2026-02-20"\n')
    (entry,) = load_config(path).mutes
    assert (entry.column, entry.until, entry.label) == ("usage_rate_last_10", dt.date(2026, 2, 20),
                                                        "muted until 2026-02-20: DATA-77")
    path.write_text(table_entry() + "[[mutes]]\n" + ENTRY + 'column = "team_abbr"\nuntil = "2026-02-20"\n')
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(error.value) == (f"config {path}: mutes[0].column = 'team_abbr' is not a column of "
                                "player_daily_cache's critical_features (it has no contract)")
