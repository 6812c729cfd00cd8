"""Baselines on the BigQuery emulator: the recorded days' fingerprints ride in the one query, and a
day rerun since it was recorded is read again in one more query job, then recorded anew."""

from __future__ import annotations

import datetime as dt

from conftest import CACHE, COMPOSITE


def test_a_rerun_baseline_day_is_read_again_on_bigquery(healthy_warehouse_file, run_suite, bigquery_emulator):
    project = "rerun"
    bigquery_emulator.load(project, healthy_warehouse_file)
    client = bigquery_emulator.client(project)
    client.create_dataset("feature_store_health_history", exists_ok=True)
    ref = "feature_store_health_history.metric_history"

    def run(day: str):
        before = {job.job_id for job in client.list_jobs()}
        result = run_suite("--backend=bigquery", f"--bigquery-endpoint={bigquery_emulator.url}", f"--project={project}",
                           f"--date={day}", f"--history={ref}")
        assert result.ret == 0, result.stdout
        jobs = [job for job in client.list_jobs() if job.job_id not in before]
        return result, sorted(job.job_type for job in jobs)

    first, _ = run("2026-02-04")
    assert first.results["history"]["read"]["dates"] == 0
    steady, jobs = run("2026-02-05")
    assert [q["purpose"] for q in steady.results["queries"]] == ["metrics", "source_consistency", "metrics"]
    assert jobs == ["load", "query", "query", "query", "query"]  # 3 data queries and the history read
    # Phase 4 reprocesses 2026-02-02: its rows land again a day later
    client.query("UPDATE `rerun.nba_precompute.player_daily_cache` SET processed_at = "
                 "TIMESTAMP_ADD(processed_at, INTERVAL 1 DAY) WHERE cache_date = '2026-02-02'").result()
    changed, jobs = run("2026-02-05")
    assert [(q["table"], q["purpose"]) for q in changed.results["queries"]] == [
        (CACHE, "metrics"), (CACHE, "metrics:changed-days"), (CACHE, "source_consistency"), (COMPOSITE, "metrics")]
    assert changed.results["queries"][1]["rows"] == 1
    assert jobs == ["load", "query", "query", "query", "query", "query"]  # one more query job, only this time
    assert changed.verdict("anomalies")["severity"] == "OK"
    again, jobs = run("2026-02-05")
    assert [q["purpose"] for q in again.results["queries"]] == ["metrics", "source_consistency", "metrics"]
    recorded = list(client.query(
        f"SELECT text FROM `{project}.{ref}` WHERE table_name = 'player_daily_cache' AND check_date = '2026-02-02' "
        "AND name = 'max_processed_at' ORDER BY run_at DESC LIMIT 1").result())[0]["text"]
    assert dt.datetime.fromisoformat(recorded).date() == dt.date(2026, 2, 3)   # the history now says so too
