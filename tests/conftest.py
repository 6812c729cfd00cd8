"""Shared fixtures: real DuckDB warehouses built by the demo generator, and a suite runner."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import requests  # noqa: F401  loaded once here: pytester's in-process runs would re-import it per run

from feature_store_health.warehouse import load_fixture
# loaded once here too: its translations of the suite's SQL then last from one in-process run to the next
import feature_store_health.backends.duckdb_backend  # noqa: E402,F401


ROOT = Path(__file__).resolve().parents[1]
HEALTH_TESTS = ROOT / "data_tests" / "test_feature_store.py"
HEALTHY_WEEK = (dt.date(2026, 2, 1), dt.date(2026, 2, 5))
CACHE, COMPOSITE = "player_daily_cache", "player_composite_factors"   # the default config's two tables
# the default config's checks per date: the cache's 15 dimensions, then the composite factors' 10
CACHE_DIMENSIONS = ["arrival", "coverage", "production_readiness", "null_rates", "quality_tiers", "completeness",
                    "downstream_usage", "staleness", "schema", "uniqueness", "value_ranges", "source_consistency",
                    "anomalies", "drift", "continuity"]
COMPOSITE_DIMENSIONS = ["arrival", "coverage", "null_rates", "completeness", "staleness", "schema", "uniqueness",
                        "value_ranges", "anomalies", "drift"]
# the distribution dimensions (issue 18), which also see some of the demo's earlier incidents
DISTRIBUTION_DIMENSIONS = ("drift", "continuity")


def table_entry(name: str = "player_daily_cache", table: str = "nba_precompute.player_daily_cache",
                critical_features: tuple[str, ...] = ("points_avg_last_10", "minutes_avg_last_10",
                                                      "usage_rate_last_10", "ts_pct_last_10"),
                extra: str = "") -> str:
    """A [[tables]] entry for the demo's feature table (no contract, no value ranges) plus ``extra``."""
    return (
        f'[[tables]]\nname = "{name}"\ntable = "{table}"\ndate_column = "cache_date"\nplayer_column = "player_lookup"\n'
        'production_ready_column = "is_production_ready"\nquality_tier_column = "quality_tier"\npoor_tier = "POOR"\n'
        'quality_tiers = ["EXCELLENT", "GOOD", "ACCEPTABLE", "POOR"]\ncompleteness_column = "all_windows_complete"\n'
        f'processed_at_column = "processed_at"\ncritical_features = {list(critical_features)!r}\n'.replace("'", '"')
        + extra + "\n"
    )


@pytest.fixture(autouse=True)
def isolated_environment(monkeypatch):
    """A developer's own Slack webhook or emulator setting never reaches the suites run here, and
    no suite run here reads or writes a metric history unless its test names one (--history)."""
    for variable in ("SLACK_WEBHOOK_URL", "BIGQUERY_EMULATOR_HOST", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("FEATURE_STORE_HEALTH_HISTORY", "off")


@pytest.fixture(scope="session")
def demo_generator():
    return load_fixture(ROOT, "demo_warehouse")


@pytest.fixture(scope="session")
def healthy_warehouse_file(tmp_path_factory, demo_generator) -> Path:
    """The demo generator's published healthy week, 2026-01-29..2026-02-05, built once."""
    path = tmp_path_factory.mktemp("warehouse") / "healthy.duckdb"
    demo_generator.build_warehouse(path, dt.date(2026, 1, 29), HEALTHY_WEEK[1])
    return path


# a replayed stretch of the demo season: December to a week after the All-Star break (light and
# heavy slates, no-game days), the healthy reference of the history and baseline tests
SEASON_STRETCH = (dt.date(2025, 12, 1), dt.date(2026, 2, 26))


@pytest.fixture(scope="session")
def season_file(tmp_path_factory, demo_generator) -> Path:
    path = tmp_path_factory.mktemp("season") / "season.duckdb"
    demo_generator.build_warehouse(path, *SEASON_STRETCH)
    return path


@pytest.fixture
def season(tmp_path, season_file) -> "Warehouse":
    """A private copy of the replayed stretch, to inject defects into."""
    path = tmp_path / "season.duckdb"
    shutil.copyfile(season_file, path)
    return Warehouse(path)


@pytest.fixture
def warehouse(tmp_path, healthy_warehouse_file) -> "Warehouse":
    """A private copy of the healthy warehouse, to inject defects into."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(healthy_warehouse_file, path)
    return Warehouse(path)


@dataclass
class Warehouse:
    path: Path

    def execute(self, sql: str, parameters: list[Any] | None = None) -> None:
        connection = duckdb.connect(str(self.path))
        try:
            connection.execute(sql, parameters or [])
        finally:
            connection.close()

    def scalar(self, sql: str, parameters: list[Any] | None = None) -> Any:
        return self.execute_one(sql, parameters)[0]

    def execute_one(self, sql: str, parameters: list[Any] | None = None) -> tuple:
        connection = duckdb.connect(str(self.path), read_only=True)
        try:
            return connection.execute(sql, parameters or []).fetchone()
        finally:
            connection.close()

    def affect_rows(self, check_date: dt.date, count: int, assignment: str) -> None:
        """Apply ``assignment`` (SET clause) to the first ``count`` rows of the date, by player."""
        self.execute(
            f"""UPDATE nba_precompute.player_daily_cache SET {assignment}
                WHERE cache_date = ? AND player_lookup IN (
                    SELECT player_lookup FROM nba_precompute.player_daily_cache
                    WHERE cache_date = ? ORDER BY player_lookup LIMIT ?)""",
            [check_date, check_date, count],
        )


@dataclass
class SuiteRun:
    ret: int
    stdout: str
    stderr: str
    results: dict | None

    def checks(self, table: str | None = "default") -> list[dict]:
        """The results JSON's checks of one table (None: every table). By default the feature cache,
        or the run's one table when it monitors one."""
        if table == "default":
            tables = {check["table"] for check in self.results["checks"]}
            table = CACHE if CACHE in tables or len(tables) != 1 else tables.pop()
        return [check for check in self.results["checks"] if table is None or check["table"] == table]

    def verdict(self, dimension: str, check_date: str | None = None, table: str = "default") -> dict:
        matches = [
            check for check in self.checks(table)
            if check["dimension"] == dimension and (check_date is None or check["date"] == check_date)
        ]
        assert len(matches) == 1, f"{len(matches)} checks for {dimension} {check_date}"
        return matches[0]


@pytest.fixture
def run_suite(pytester):
    """Run the real health suite (data_tests) in a scratch project, in process."""
    pytester.makepyfile(test_health=HEALTH_TESTS.read_text())
    results_path = pytester.path / "results.json"

    def run(*args: str, results: bool = True) -> SuiteRun:
        results_path.unlink(missing_ok=True)
        extra = [f"--results-json={results_path}"] if results else []
        outcome = pytester.runpytest("-p", "feature_store_health.plugin", "-p", "no:cacheprovider", *extra, *args)
        document = json.loads(results_path.read_text()) if results_path.exists() else None
        return SuiteRun(int(outcome.ret), outcome.stdout.str(), outcome.stderr.str(), document)

    return run


# -- a loopback Slack webhook ---------------------------------------------------------------------

# Slack delivery bounded for tests: a failing endpoint costs seconds, not the default 30
FAST_SLACK = "[slack]\ntimeout_seconds = 1\ntotal_seconds = 5\nmax_attempts = 3\n"


@pytest.fixture
def webhook():
    """A stand-in for Slack's Incoming Webhook on 127.0.0.1, answering 200."""
    from loopback_http import Reply, WebhookServer

    server = WebhookServer([Reply(200, "ok")])
    yield server
    server.close()


# -- BigQuery emulator (bqemulator) on loopback -------------------------------------------------

# pytester points HOME at a scratch folder; the emulator finds DuckDB's spatial extension (installed
# by tools/bqemulator/install) under the real one, and must never try to download it.
REAL_HOME = os.path.expanduser("~")
EMULATOR_BIN = Path(os.environ.get("BQEMULATOR_BIN", ROOT / ".venv-bqemulator" / "bin" / "bqemulator"))


@dataclass
class Emulator:
    url: str
    process: subprocess.Popen

    def client(self, project: str):
        from google.api_core.client_options import ClientOptions
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(project=project, credentials=AnonymousCredentials(),
                               client_options=ClientOptions(api_endpoint=self.url))

    def load(self, project: str, database: Path, skip: tuple[str, ...] = ()) -> None:
        """Copy the contract tables of a DuckDB warehouse into ``project`` on the emulator."""
        loader = load_fixture(ROOT, "load_bigquery")
        loader.load_warehouse(self.client(project), database, skip=skip)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_emulator(log_path: Path) -> Emulator:
    """Start bqemulator on a free loopback port and wait until it answers /healthz."""
    if not EMULATOR_BIN.exists():
        pytest.fail(f"bqemulator not found at {EMULATOR_BIN}: run tools/bqemulator/install (./with-venv runs it)",
                    pytrace=False)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = open(log_path, "wb")
    process = subprocess.Popen(
        [str(EMULATOR_BIN), "start", "--rest-host", "127.0.0.1", "--rest-port", str(port),
         "--grpc-host", "127.0.0.1", "--grpc-port", "0"],
        stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "HOME": REAL_HOME},
    )
    emulator = Emulator(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"bqemulator exited with {process.returncode}; see {log_path}", pytrace=False)
        try:
            with urllib.request.urlopen(f"{emulator.url}/healthz", timeout=1) as response:
                if response.status == 200:
                    return emulator
        except OSError:
            time.sleep(0.2)
    emulator.stop()
    pytest.fail(f"bqemulator did not answer /healthz within 60 s; see {log_path}", pytrace=False)


@pytest.fixture(scope="session")
def bigquery_emulator(tmp_path_factory):
    emulator = start_emulator(tmp_path_factory.mktemp("bqemulator") / "emulator.log")
    yield emulator
    emulator.stop()



@pytest.fixture(scope="module")
def browser():
    """A headless Chromium (tests/browser.py) for a module's pages; skips without one, unless
    REQUIRE_BROWSER=1 (as in .ci/run) makes a missing browser a failure."""
    from browser import Chromium, find_chromium

    executable = find_chromium()
    if executable is None:
        message = "no Chromium found: apt-get install chromium (or set CHROMIUM=/path/to/chrome)"
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    chromium = Chromium(executable)
    yield chromium
    chromium.close()
