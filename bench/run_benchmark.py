"""Benchmark: the whole suite against the bare aggregate query over the same rows (the floor).

    ./with-venv python bench/run_benchmark.py [--repeat 5]

Builds, once, a ~5-million-row warehouse (the demo season with every feature row copied under
117 player names) in bench/.warehouse/, then times whole processes, median of --repeat runs:

  suite  `pytest data_tests --date=... [--days=7] [--database=...]`, as a user runs it
  floor  a Python process that imports duckdb and runs the same aggregate query once

and prints rows, queries (from the suite's results JSON) and seconds side by side, for the checks
alone (``--no-archive``) and with the reports a default run of data_tests writes (archive, HTML,
JUnit, and the weekly charts for several dates). The target is the checks within 0.25 s of the
floor; pytest's own start-up is a good part of that.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feature_store_health.backends.duckdb_backend import transpile_to_duckdb  # noqa: E402
from feature_store_health.config import load_config  # noqa: E402
from feature_store_health.checks.plan import table_query  # noqa: E402
from feature_store_health.warehouse import demo_warehouse_path  # noqa: E402

LARGE = ROOT / "bench" / ".warehouse" / "large.duckdb"
COPIES = 117  # 42,715 demo feature rows x 117 = 4,997,655

FLOOR = """
import sys, duckdb, datetime as dt
connection = duckdb.connect(sys.argv[1], read_only=True)
sql = open(sys.argv[2]).read()
connection.execute(sql, {"start_date": dt.date.fromisoformat(sys.argv[3]),
                         "end_date": dt.date.fromisoformat(sys.argv[4])}).fetchall()
"""


def build_large(demo: Path) -> None:
    import duckdb

    if LARGE.exists():
        return
    LARGE.parent.mkdir(parents=True, exist_ok=True)
    staged = LARGE.with_suffix(".tmp")
    staged.unlink(missing_ok=True)
    connection = duckdb.connect(str(staged))
    connection.execute(f"ATTACH '{demo}' AS demo (READ_ONLY)")
    for table in ("nba_reference.nba_schedule", "nba_predictions.player_prop_predictions",
                  "nba_analytics.player_game_summary"):
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
        connection.execute(f"CREATE TABLE {table} AS SELECT * FROM demo.{table}")
    connection.execute("CREATE SCHEMA nba_precompute")
    connection.execute(
        "CREATE TABLE nba_precompute.player_daily_cache AS "
        "SELECT * REPLACE (player_lookup || '_' || copy AS player_lookup) "
        f"FROM demo.nba_precompute.player_daily_cache, range({COPIES}) AS copies(copy) ORDER BY cache_date"
    )
    connection.execute("DETACH demo")
    connection.close()
    staged.rename(LARGE)


def median_seconds(command: list[str], repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        timings.append(time.perf_counter() - started)
        if completed.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} exited {completed.returncode}:\n{completed.stdout}{completed.stderr}")
    return statistics.median(timings)


def workload(name: str, database: Path, explicit_database: bool, check_date: dt.date, days: int,
             repeat: int, scratch: Path, archive: bool) -> dict:
    import duckdb

    config = load_config()
    table = config.tables[0]
    start = check_date - dt.timedelta(days=days - 1)
    sql_file = scratch / f"{name}.sql"
    sql_file.write_text(transpile_to_duckdb(table_query(table, config).sql))
    with duckdb.connect(str(database), read_only=True) as connection:
        table_rows = connection.execute(f"SELECT count(*) FROM {table.table}").fetchone()[0]
        scanned = connection.execute(
            f"SELECT count(*) FROM {table.table} WHERE {table.date_column} BETWEEN ? AND ?", [start, check_date]
        ).fetchone()[0]

    results = scratch / f"{name}.json"
    suite = [sys.executable, "-m", "pytest", "data_tests", f"--date={check_date}", f"--days={days}", "-q",
             f"--results-json={results}"]
    if explicit_database:
        suite.append(f"--database={database}")
    suite.append(f"--reports-dir={scratch / 'reports'}" if archive else "--no-archive")
    floor = [sys.executable, "-c", FLOOR, str(database), str(sql_file), str(start), str(check_date)]
    subprocess.run(suite, cwd=ROOT, capture_output=True)  # warm: caches the transpiled SQL
    suite_seconds = median_seconds(suite, repeat)
    floor_seconds = median_seconds(floor, repeat)
    queries = len(json.loads(results.read_text())["queries"])
    return {
        "workload": name + (", + reports" if archive else ""), "table_rows": table_rows, "rows_in_window": scanned, "queries": queries,
        "suite_s": suite_seconds, "floor_s": floor_seconds, "overhead_s": suite_seconds - floor_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median). Default: 5.")
    args = parser.parse_args()

    demo = demo_warehouse_path(ROOT)
    started = time.perf_counter()
    build_large(demo)
    print(f"large warehouse ready in {time.perf_counter() - started:.1f} s: {LARGE}")
    with tempfile.TemporaryDirectory() as scratch:
        rows = [
            workload(name, database, explicit, dt.date(2026, 2, 5), days, args.repeat, Path(scratch), archive)
            for archive in (False, True)
            for name, database, explicit, days in (("demo, 1 date", demo, False, 1),
                                                   ("large, --days=7", LARGE, True, 7))
        ]
    header = f"{'workload':<28}{'table rows':>12}{'rows checked':>14}{'queries':>9}{'suite s':>9}{'floor s':>9}{'overhead s':>12}"
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['workload']:<28}{row['table_rows']:>12,}{row['rows_in_window']:>14,}{row['queries']:>9}"
              f"{row['suite_s']:>9.3f}{row['floor_s']:>9.3f}{row['overhead_s']:>12.3f}")
    print(f"(median of {args.repeat} whole-process runs; target: the checks (--no-archive) within 0.25 s of the floor;"
          " '+ reports' adds the archived HTML report, JUnit XML and, for several dates, the charts)")


if __name__ == "__main__":
    main()
