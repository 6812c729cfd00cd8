"""The runbook stays true: a section per dimension, thresholds equal to the config, runnable
queries; and every non-OK check links to its section (console, HTML, Slack)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import duckdb
import pytest

from feature_store_health.backends.duckdb_backend import transpile_to_duckdb
from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.config import load_config
from loopback_http import Reply, WebhookServer

ROOT = Path(__file__).resolve().parents[1]
RUNBOOK = ROOT / "docs" / "runbook.md"
INCIDENT = "2026-03-10"  # the demo's usage_rate_last_10 NULL incident (null_rates ERROR)


def sections(text: str) -> dict[str, str]:
    """Dimension id -> its section's text (from its ``## id`` heading to the next one)."""
    parts = re.split(r"^## ", text, flags=re.M)
    return {part.split("\n", 1)[0].strip(): part for part in parts[1:]}


def runbook_problems(text: str) -> list[str]:
    """What is untrue in a runbook text: a dimension without a section (or its anchor), a stated
    threshold that differs from the configuration."""
    thresholds = load_config().tables[0].thresholds
    found = sections(text)
    problems = []
    for dimension in DIMENSIONS:
        if dimension not in found:
            problems.append(f"no section for {dimension}")
            continue
        if f'<a id="{dimension}"></a>' not in text:
            problems.append(f"no anchor for {dimension}")
        stated = re.search(r"^Thresholds(?: \(health\.toml \[thresholds\.(\w+)\]\))?: (.+)$", found[dimension], re.M)
        if stated is None:
            problems.append(f"{dimension}: no Thresholds line")
            continue
        table, values = stated.groups()
        if values.startswith("none"):
            quoted: dict[str, float] = {}
        else:
            if table != dimension:
                problems.append(f"{dimension}: quotes [thresholds.{table}]")
            quoted = {key: float(value) for key, value in re.findall(r"(\w+) = ([-\d.]+)", values)}
        actual = {key: float(value) for key, value in thresholds[dimension].items()}
        if quoted != actual:
            problems.append(f"{dimension}: runbook says {quoted}, health.toml says {actual}")
    return problems


def test_every_dimension_has_a_true_section():
    assert runbook_problems(RUNBOOK.read_text()) == []


def test_a_removed_section_or_a_changed_threshold_is_caught():
    text = RUNBOOK.read_text()
    without = re.sub(r'<a id="uniqueness"></a>\n## uniqueness\n.*?(?=<a id=)', "", text, flags=re.S)
    assert runbook_problems(without) == ["no section for uniqueness"]
    changed = text.replace("warning_above = 2, error_above = 5, critical_above = 10\n",
                           "warning_above = 3, error_above = 5, critical_above = 10\n", 1)
    assert changed != text
    assert runbook_problems(changed) == [
        "null_rates: runbook says {'warning_above': 3.0, 'error_above': 5.0, 'critical_above': 10.0}, "
        "health.toml says {'warning_above': 2.0, 'error_above': 5.0, 'critical_above': 10.0}"]


QUERIES = [(dimension, index, sql) for dimension, body in sections(RUNBOOK.read_text()).items()
           for index, sql in enumerate(re.findall(r"```sql\n(.*?)```", body, re.S))]


def test_every_dimension_has_an_investigation_query():
    assert {dimension for dimension, _, _ in QUERIES} >= set(DIMENSIONS)


@pytest.mark.parametrize(("dimension", "index", "sql"), QUERIES, ids=[f"{d}-{i}" for d, i, _ in QUERIES])
def test_investigation_queries_run_on_the_demo_warehouse(demo_warehouse_file, dimension, index, sql):
    assert "@date" in sql
    with duckdb.connect(str(demo_warehouse_file), read_only=True) as connection:
        cursor = connection.execute(transpile_to_duckdb(sql), {"date": dt.date.fromisoformat(INCIDENT)})
        cursor.fetchall()  # runs as written; a query for offending rows may rightly find none
        assert cursor.description, f"{dimension} query {index} returns no columns"


@pytest.fixture(scope="module")
def demo_warehouse_file(tmp_path_factory, demo_generator) -> Path:
    path = tmp_path_factory.mktemp("runbook") / "demo.duckdb"
    demo_generator.build_warehouse(path, dt.date(2026, 3, 1), dt.date(2026, 3, 12))
    return path


def test_a_failing_check_links_its_section_everywhere(demo_warehouse_file, run_suite, tmp_path, monkeypatch):
    server = WebhookServer([Reply(200, "ok")])
    try:
        monkeypatch.setenv("SLACK_WEBHOOK_URL", server.url)
        reports = tmp_path / "reports"
        run = run_suite(f"--database={demo_warehouse_file}", f"--date={INCIDENT}", f"--reports-dir={reports}")
        runbook = [line for line in run.stdout.splitlines() if line.startswith("Runbook: ")]
        # the NULL-rate incident, which source_consistency (NULL stored, a value recomputed) and
        # anomalies (usage_rate_last_10 NULL % off its baseline) also see, and drift (its NULL bin)
        assert len(runbook) == 4 and runbook[0].startswith("Runbook: NULL Rates: ")
        assert runbook[1].startswith("Runbook: Source Consistency: ") and runbook[1].endswith("#source_consistency")
        assert runbook[2].startswith("Runbook: Anomalies: ") and runbook[2].endswith("#anomalies")
        assert runbook[3].startswith("Runbook: Drift: ") and runbook[3].endswith("#drift")
        link = runbook[0].removeprefix("Runbook: NULL Rates: ")
        path, anchor = link.split("#")
        assert anchor == "null_rates" and f'<a id="{anchor}"></a>' in Path(path).read_text()
        page = next(reports.glob("*/*/report.html")).read_text()
        assert f'href="{link}"' in page
        message = json.dumps(server.received[0]["json"])
        assert f"{Path(path).resolve().as_uri()}#null_rates|runbook" in message
    finally:
        server.close()


def test_the_runbook_url_is_configurable(run_suite, demo_warehouse_file, tmp_path):
    config = tmp_path / "health.toml"
    config.write_text('[runbook]\nurl = "https://example.test/docs/runbook.md"\n')
    run = run_suite(f"--database={demo_warehouse_file}", f"--date={INCIDENT}", f"--health-config={config}")
    assert "Runbook: NULL Rates: https://example.test/docs/runbook.md#null_rates" in run.stdout
