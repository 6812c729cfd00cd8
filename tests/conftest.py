"""Shared fixtures: real DuckDB warehouses built by the demo generator, and a suite runner."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

ROOT = Path(__file__).resolve().parents[1]
HEALTH_TESTS = ROOT / "data_tests" / "test_player_daily_cache.py"
HEALTHY_WEEK = (dt.date(2026, 2, 1), dt.date(2026, 2, 5))


def _generator():
    name = "feature_store_health_demo_warehouse"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "fixtures" / "demo_warehouse.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def demo_generator():
    return _generator()


@pytest.fixture(scope="session")
def healthy_warehouse_file(tmp_path_factory, demo_generator) -> Path:
    """The demo generator's published healthy week, 2026-01-29..2026-02-05, built once."""
    path = tmp_path_factory.mktemp("warehouse") / "healthy.duckdb"
    demo_generator.build_warehouse(path, dt.date(2026, 1, 29), HEALTHY_WEEK[1])
    return path


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
        connection = duckdb.connect(str(self.path), read_only=True)
        try:
            return connection.execute(sql, parameters or []).fetchone()[0]
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

    def verdict(self, dimension: str, check_date: str | None = None) -> dict:
        matches = [
            check for check in self.results["checks"]
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
