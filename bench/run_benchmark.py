"""Benchmark: the whole suite against the limit L of any pytest suite that runs its plan.

    ./with-venv python bench/run_benchmark.py [--repeat 5] [--soda]

Builds, once, a large warehouse (the demo season with every feature row of both monitored tables
copied under other player names: ~5 million cache rows) in bench/.warehouse/, then times whole
processes, median of --repeat runs:

  suite   `pytest data_tests --date=... [--days=7] [--database=...]`, as a user runs it: both tables
          of the default config and the source check, with a warm history: each timed run must
          read drift's and continuity's learned values from it (results JSON ``learned[table]
          ["source"] == "history"``, no ``learn_start`` parameter in its queries), or it stops
  floor   a bare Python process that imports duckdb and runs the warm run's queries once, with its
          parameters: each table's one aggregate query (every dimension's metrics, the profile of
          all its columns, the recorded days' fingerprints, and drift's bins and continuity's pairs
          against the literal ``learned`` CTE built from the history's record, as a warm run does)
          and the source_consistency query (the stat features recomputed from player_game_summary).
          Each query's sql_hash must equal the one the suite reports, or the benchmark stops.
  pytest  an empty pytest run of as many no-op tests as the suite has checks (start-up objects
          frozen out of the garbage collector, as the plugin does)
  python  `python -c pass`
  L       floor + pytest - python: the query in pytest's own time, nothing else
  floor∥  the same queries sent at once, each from a thread with a cursor of its own, as the suite
          sends them (run_ahead.py); L∥ = floor∥ + pytest - python, the stricter limit of a suite
          that overlaps its queries (the goals are judged on L, as issue 20 defines it)
  read / write  the warm run's one metric-history read and one write (from its results JSON)
  cold    the suite with a fresh history every run: the one query widened to the 45 baseline days
  old     the floor of the seven original checks' query (no profile, no new dimensions)
  dist / before  both tables' aggregate queries alone (execution and fetch, in a fresh process
          each time): as the warm run sends them, and the same queries without drift's and
          continuity's metrics (no ``learned`` CTE, no bins, no pairs: the run before issue 18)

The suite, floor, floor∥, pytest, python and old are alternated run by run, so a busy moment of
the machine falls on the suite and on its L alike. It prints rows, queries, the suite's own query
seconds and each time, with suite / L and
(suite - read - write) / L (goal: within 1.15 with a warm history), suite / old (what the profile
and the new dimensions cost) and dist / before (what drift's bins and continuity's join cost the one query), for the checks
alone (``--no-archive``) and with the reports a default run writes (archive, HTML, JUnit, and the
weekly charts for several dates). Before the table: the machine's cores and the Python and DuckDB
versions; after it, the seven original checks alone (bench/seven_checks.py):

  seven   `pytest data_tests -m "coverage or ... or staleness" --date=2026-02-05 --days=7
          --database=<large> --no-archive --history=<the weekly run's warm history>`, as typed (both
          tables) and with `-k "not player_composite_factors"` (the cache alone), and the queries it
          sent, captured from one untimed run of the same command (bench/capture_queries.py)
  soda    Soda Core 3.5 scanning bench/soda/checks.yml (the same seven checks on
          player_daily_cache, the same dates) on the same file: run when bench/.soda-venv exists;
          --soda creates it (pip install soda-core-duckdb==3.5.*). Its duckdb (< 1.1) cannot open
          the large warehouse, so both then read a copy in that duckdb's storage version

and a verdict per goal of issue 20: checks alone (--no-archive) <= 1.15 x L on the demo date and
the large week; the weekly run with reports <= 1.5 x L; the seven checks <= 0.5 x Soda.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feature_store_health.backends.duckdb_backend import DuckDBBackend, transpile_to_duckdb  # noqa: E402
from feature_store_health.config import load_config  # noqa: E402
from feature_store_health.checks.contract import compare  # noqa: E402
from feature_store_health.checks.dimensions import DIMENSIONS  # noqa: E402
from feature_store_health.checks.learned import from_record, literal_cte  # noqa: E402
from feature_store_health.checks.metrics import Source  # noqa: E402
from feature_store_health.checks.plan import (  # noqa: E402
    applicable_dimensions, columns_read_by_checks, distribution_rows, report_metrics, table_query,
)
from feature_store_health.checks.query import build_aggregate_query, sql_hash  # noqa: E402
from feature_store_health.checks.source import build_source_query  # noqa: E402
from feature_store_health.warehouse import demo_warehouse_path  # noqa: E402

import seven_checks  # noqa: E402  (bench/, beside this file)

TARGET_ROWS = 5_000_000
SEVEN = seven_checks.SEVEN

EMPTY_SUITE = """
import pytest

@pytest.mark.parametrize("number", range({count}))
def test_nothing(number):
    pass
"""
EMPTY_CONFTEST = """
import gc

def pytest_configure(config):
    if gc.get_freeze_count() == 0:
        gc.freeze()
"""

# argv: the database, then a JSON list of [SQL file, {parameter: ISO date}], run in order
FLOOR = """
import json, sys, duckdb, datetime as dt
connection = duckdb.connect(sys.argv[1], read_only=True)
for path, parameters in json.loads(sys.argv[2]):
    connection.execute(open(path).read(), {name: dt.date.fromisoformat(value)
                                           for name, value in parameters.items()}).fetchall()
"""
# the same queries sent at once, each from a thread with its own cursor, as the suite sends them
# (run_ahead.py): the floor of a suite that overlaps its queries
FLOOR_AT_ONCE = """
import json, sys, threading, duckdb, datetime as dt
connection = duckdb.connect(sys.argv[1], read_only=True)
def run(sql, parameters):
    cursor = connection.cursor()
    cursor.execute(sql, parameters).fetchall()
    cursor.close()
threads = [threading.Thread(target=run, args=(open(path).read(), {name: dt.date.fromisoformat(value)
                                                                  for name, value in parameters.items()}))
           for path, parameters in json.loads(sys.argv[2])]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""
# the same, printing the seconds of the queries alone (not the start-up, import and connection)
QUERIES_ONLY = """
import json, sys, time, duckdb, datetime as dt
connection = duckdb.connect(sys.argv[1], read_only=True)
queries = [(open(path).read(), {name: dt.date.fromisoformat(value) for name, value in parameters.items()})
           for path, parameters in json.loads(sys.argv[2])]
started = time.perf_counter()
for sql, parameters in queries:
    connection.execute(sql, parameters).fetchall()
print(time.perf_counter() - started)
"""
NEW_DIMENSIONS = ("drift", "continuity")


def large_path(demo: Path) -> Path:
    """Keyed to the demo warehouse's version: a new demo generator means a new large warehouse."""
    return ROOT / "bench" / ".warehouse" / f"large-{demo.stem}.duckdb"


def build_large(demo: Path) -> Path:
    import duckdb

    large = large_path(demo)
    if large.exists():
        return large
    large.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(demo), read_only=True) as connection:
        demo_rows = connection.execute("SELECT count(*) FROM nba_precompute.player_daily_cache").fetchone()[0]
    copies = -(-TARGET_ROWS // demo_rows)
    staged = large.with_suffix(".tmp")
    staged.unlink(missing_ok=True)
    connection = duckdb.connect(str(staged))
    connection.execute(f"ATTACH '{demo}' AS demo (READ_ONLY)")
    for table in ("nba_reference.nba_schedule", "nba_predictions.player_prop_predictions",
                  "nba_analytics.player_game_summary"):
        connection.execute(f"CREATE SCHEMA IF NOT EXISTS {table.split('.')[0]}")
        connection.execute(f"CREATE TABLE {table} AS SELECT * FROM demo.{table}")
    connection.execute("CREATE SCHEMA nba_precompute")
    # copy 0 keeps the demo's names (its players are in the box scores, so the source check finds
    # their games); the other copies are players the box scores do not know
    for table, date_column in (("player_daily_cache", "cache_date"), ("player_composite_factors", "game_date")):
        connection.execute(
            f"CREATE TABLE nba_precompute.{table} AS "
            "SELECT * REPLACE (IF(copy = 0, player_lookup, player_lookup || '_' || copy) AS player_lookup) "
            f"FROM demo.nba_precompute.{table}, range({copies}) AS copies(copy) ORDER BY {date_column}"
        )
    connection.execute("DETACH demo")
    connection.close()
    staged.rename(large)
    return large


def median_seconds(command: list[str], repeat: int, before=None) -> float:
    timings = []
    for _ in range(repeat):
        if before is not None:
            before()
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        timings.append(time.perf_counter() - started)
        if completed.returncode not in (0, 1):
            raise SystemExit(f"{' '.join(command)} exited {completed.returncode}:\n{completed.stdout}{completed.stderr}")
    return statistics.median(timings)


def assert_warm(results: Path, table_names: list[str]) -> None:
    """A warm run reads drift's and continuity's learned values from the history (literal in the
    one query) and reads no earlier day for them (no @learn_start): else it is no warm run."""
    document = json.loads(results.read_text())
    sources = {name: (document.get("learned") or {}).get(name, {}).get("source") for name in table_names}
    learning = [query["parameters"] for query in document["queries"]
                if query["purpose"] == "metrics" and "learn_start" in query["parameters"]]
    if any(source != "history" for source in sources.values()) or learning:
        raise SystemExit(f"{results}: not a warm run: learned values {sources}, learning windows {learning}")


def suite_queries(document: dict, config, database: Path) -> dict[str, tuple[str, dict, str]]:
    """The warm run's queries rebuilt as it builds them, by purpose and table: (BigQuery SQL, its
    parameters, the same query before issue 18). Stops unless each matches the run's sql_hash."""
    backend = DuckDBBackend(database)
    ran = {(query["purpose"], query["table"]): query for query in document["queries"]}
    found = {}
    for table in config.tables:
        description = backend.describe_table(table.table)
        schema = compare(table.table, description.columns, table.contract, columns_read_by_checks(table, config),
                         description.equivalent)
        # the columns the run learns for (run_distributions.Distributions._learning_columns)
        drift = tuple(column for column in table.drift_columns if schema.usable(column))
        continuity = table.continuity_columns if Source.PAIRS in distribution_rows(table, schema) else ()
        learned = from_record(document["learned"][table.name])
        after = table_query(table, config, schema, fingerprints=True, learned=literal_cte(learned, drift, continuity))
        # before: the same query without the metrics only drift and continuity need
        kept = {metric for dimension in applicable_dimensions(table) if dimension not in NEW_DIMENSIONS
                for metric in DIMENSIONS[dimension].metrics(table, config)}
        new = {metric for dimension in NEW_DIMENSIONS for metric in DIMENSIONS[dimension].metrics(table, config)}
        before = build_aggregate_query(table, config, [metric for metric in after.metrics
                                                       if metric not in new or metric in kept])
        if any("learned." in metric.sql or metric.source in (Source.PAIRS, Source.TEAM_VALUES, Source.LEARNED)
               for metric in before.metrics):
            raise SystemExit(f"{table.name}: the query before issue 18 still holds drift's or continuity's metrics")
        found[f"metrics {table.name}"] = (after.sql, ran[("metrics", table.name)], before.sql)
    source_sql = build_source_query(config.tables[0], config).sql
    found["source"] = (source_sql, ran[("source_consistency", config.tables[0].name)], source_sql)
    for label, (sql, query, _) in found.items():
        if sql_hash(sql) != query["sql_hash"]:
            raise SystemExit(f"{label}: the floor's query is not the one the suite ran (sql_hash "
                             f"{sql_hash(sql)} against {query['sql_hash']})")
    return {label: (sql, query["parameters"], before) for label, (sql, query, before) in found.items()}


def median_query_seconds(database: Path, sets: dict[str, str], repeat: int) -> dict[str, float]:
    """Median seconds of each set of queries alone, a fresh process each run, the sets alternated
    so a busy moment of the machine falls on both."""
    timings: dict[str, list[float]] = {label: [] for label in sets}
    for _ in range(repeat):
        for label, queries in sets.items():
            completed = subprocess.run([sys.executable, "-c", QUERIES_ONLY, str(database), queries], cwd=ROOT,
                                       capture_output=True, text=True, check=True)
            timings[label].append(float(completed.stdout.split()[-1]))  # after any progress bar
    return {label: statistics.median(found) for label, found in timings.items()}


def workload(name: str, database: Path, explicit_database: bool, check_date: dt.date, days: int,
             repeat: int, scratch: Path, archive: bool) -> dict:
    import duckdb

    config = load_config()
    table = config.tables[0]
    start = check_date - dt.timedelta(days=days - 1)
    seven = [metric for dimension in SEVEN for metric in DIMENSIONS[dimension].metrics(table, config)]
    old_sql_file = scratch / f"{name}-seven.sql"
    old_sql_file.write_text(transpile_to_duckdb(build_aggregate_query(table, config, [*seven, *report_metrics(table)]).sql))
    old_queries = json.dumps([[str(old_sql_file), {"start_date": str(start), "end_date": str(check_date)}]])
    table_rows = scanned = 0
    with duckdb.connect(str(database), read_only=True) as connection:
        for each in config.tables:
            table_rows += connection.execute(f"SELECT count(*) FROM {each.table}").fetchone()[0]
            scanned += connection.execute(
                f"SELECT count(*) FROM {each.table} WHERE {each.date_column} BETWEEN ? AND ?", [start, check_date]
            ).fetchone()[0]

    results = scratch / f"{name}.json"
    history, cold_history = scratch / f"{name}-{archive}-history.duckdb", scratch / f"{name}-{archive}-cold.duckdb"
    suite = [sys.executable, "-m", "pytest", "data_tests", f"--date={check_date}", f"--days={days}", "-q",
             f"--results-json={results}"]
    if explicit_database:
        suite.append(f"--database={database}")
    suite.append(f"--reports-dir={scratch / 'reports'}" if archive else "--no-archive")
    cold = [*suite, f"--history={cold_history}"]
    suite.append(f"--history={history}")
    # warm: caches the transpiled SQL, and records the baseline days and the learned values in the history
    subprocess.run(suite, cwd=ROOT, capture_output=True)
    subprocess.run(suite, cwd=ROOT, capture_output=True)
    names = [each.name for each in config.tables]
    assert_warm(results, names)
    document = json.loads(results.read_text())
    history_read = document["history"]["read"]["seconds"]
    history_write = document["history"]["write"]["seconds"]
    # the warm run's queries, as it sent them (checked by sql_hash), and the same before issue 18
    queries = suite_queries(document, config, database)
    floor_queries, after_queries, before_queries = [], [], []
    for index, (label, (sql, parameters, before_sql)) in enumerate(queries.items()):
        after_file = scratch / f"{name}-{index}.sql"
        after_file.write_text(transpile_to_duckdb(sql))
        floor_queries.append([str(after_file), parameters])
        if label.startswith("metrics "):
            before_file = scratch / f"{name}-{index}-before.sql"
            before_file.write_text(transpile_to_duckdb(before_sql))
            after_queries.append([str(after_file), parameters])
            before_queries.append([str(before_file), {key: value for key, value in parameters.items()
                                                      if not key.startswith("learn_")}])
    cold_seconds = median_seconds(cold, repeat, before=lambda: cold_history.unlink(missing_ok=True))
    checks = len(document["checks"])
    empty = scratch / f"empty-{checks}"
    empty.mkdir(exist_ok=True)
    (empty / "test_empty.py").write_text(EMPTY_SUITE.format(count=checks))
    (empty / "conftest.py").write_text(EMPTY_CONFTEST)
    floor = [sys.executable, "-c", FLOOR, str(database), json.dumps(floor_queries)]
    floor_at_once = [sys.executable, "-c", FLOOR_AT_ONCE, str(database), json.dumps(floor_queries)]
    old_floor = [sys.executable, "-c", FLOOR, str(database), old_queries]
    empty_pytest = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(empty)]
    bare = [sys.executable, "-c", "pass"]
    # the suite and its limit's parts alternated, run by run: a busy moment of the machine falls on
    # the suite and on its L alike, not on one of them only
    times = seven_checks.alternated_medians({
        "suite": (suite, None, (0, 1), lambda: assert_warm(results, names)),
        "floor": (floor, None, (0,)), "floor_at_once": (floor_at_once, None, (0,)),
        "pytest": (empty_pytest, None, (0,)), "python": (bare, None, (0,)), "old": (old_floor, None, (0,))}, repeat)
    times.update(median_query_seconds(database, {"dist": json.dumps(after_queries),
                                                 "before": json.dumps(before_queries)}, repeat))
    limit = times["floor"] + times["pytest"] - times["python"]
    at_once = times["floor_at_once"] + times["pytest"] - times["python"]
    return {"limit_at_once": at_once,
        "workload": name + (", + reports" if archive else ""), "table_rows": table_rows, "rows_in_window": scanned,
        "queries": len(document["queries"]), "query_s": sum(query["seconds"] for query in document["queries"]),
        "checks": checks, **times, "limit": limit, "read": history_read, "write": history_write, "cold": cold_seconds,
        "history": history,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median). Default: 5.")
    parser.add_argument("--soda", action="store_true",
                        help=f"install {seven_checks.SODA_REQUIREMENT} in bench/.soda-venv when it is not there, "
                        "and time its scan of the seven checks. Default: only when bench/.soda-venv exists.")
    args = parser.parse_args()
    # Timed as installed: a wheel's modules are compiled at install (pip), and a checkout caches
    # them in __pycache__ on first import, unless PYTHONDONTWRITEBYTECODE is set (as on this
    # machine): then every run compiles the package from source (~0.3 s) while L's processes
    # import pre-compiled site-packages. The warm-up runs write the caches.
    if os.environ.pop("PYTHONDONTWRITEBYTECODE", None):
        print("PYTHONDONTWRITEBYTECODE unset for the timed processes: byte-code cached, as installed")

    demo = demo_warehouse_path(ROOT)
    started = time.perf_counter()
    large = build_large(demo)
    print(f"large warehouse ready in {time.perf_counter() - started:.1f} s: {large}")
    soda = seven_checks.soda_available(install=args.soda)
    check_date = dt.date(2026, 2, 5)
    with tempfile.TemporaryDirectory() as scratch:
        rows = [
            workload(name, database, explicit, check_date, days, args.repeat, Path(scratch), archive)
            for archive in (False, True)
            for name, database, explicit, days in (("demo, 1 date", demo, False, 1),
                                                   ("large, --days=7", large, True, 7))
        ]
        weekly = next(row for row in rows if row["workload"] == "large, --days=7")
        seven = seven_checks.compare(large, weekly["history"], check_date, 7, args.repeat, Path(scratch), soda)
        seven["limit"] = selection_limit(seven, Path(scratch), args.repeat)
    print(machine_line())
    header = (f"{'workload':<27}{'table rows':>11}{'rows checked':>13}{'checks':>7}{'queries':>8}{'query s':>8}"
              f"{'suite s':>8}{'floor s':>8}{'pytest s':>9}{'python s':>9}{'L s':>7}{'read s':>7}{'write s':>8}"
              f"{'suite/L':>8}{'(s-r-w)/L':>10}{'cold s':>7}{'cold/L':>7}{'old s':>7}{'suite/old':>10}"
              f"{'dist s':>7}{'before s':>9}{'dist/before':>12}{'floor∥ s':>9}{'L∥ s':>7}{'suite/L∥':>9}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row['workload']:<27}{row['table_rows']:>11,}{row['rows_in_window']:>13,}{row['checks']:>7}{row['queries']:>8}"
              f"{row['query_s']:>8.3f}{row['suite']:>8.3f}{row['floor']:>8.3f}{row['pytest']:>9.3f}{row['python']:>9.3f}"
              f"{row['limit']:>7.3f}{row['read']:>7.3f}{row['write']:>8.3f}{row['suite'] / row['limit']:>8.2f}"
              f"{(row['suite'] - row['read'] - row['write']) / row['limit']:>10.2f}{row['cold']:>7.3f}"
              f"{row['cold'] / row['limit']:>7.2f}{row['old']:>7.3f}{row['suite'] / row['old']:>10.2f}"
              f"{row['dist']:>7.3f}{row['before']:>9.3f}{row['dist'] / row['before']:>12.2f}"
              f"{row['floor_at_once']:>9.3f}{row['limit_at_once']:>7.3f}{row['suite'] / row['limit_at_once']:>9.2f}")
    print(f"(median of {args.repeat} whole-process runs. Rows: both tables'. L = floor + pytest - python: the run's "
          "queries as the warm run sends them (each table's aggregate query, profile, drift's bins and continuity's pairs included, "
          "with the history's learned values; and the source check's) in a bare process, plus an empty pytest run of as many "
          "no-op tests, minus a bare Python start. "
          "suite: with a warm metric history (its baseline days recorded); read / write: that run's one history "
          "read and one write. Goal: the checks (--no-archive) within 1.15 x L plus read and write. cold: a fresh "
          "history each run, so the one query is widened to the 45 baseline days and all of them are recorded. "
          "old: the cache's seven original checks' query in a bare process. dist / before: both tables' aggregate queries "
          "alone (no start-up), with drift and continuity and without them, as the run before issue 18 sent them. "
          "floor∥ / L∥: the same queries sent at once, each from a thread of its own, as the suite sends them "
          "(run_ahead.py): the stricter limit of a suite that overlaps its queries; the goals are judged on L, as "
          "issue 20 defines it.)")
    for line in seven_checks.report(seven, args.repeat):
        print(line)
    print()
    for line in verdicts(rows, seven):
        print(line)


def selection_limit(seven: dict, scratch: Path, repeat: int) -> dict[str, float]:
    """L of the seven-check selection, as for the workloads: its captured queries (translated) in
    a bare process, plus an empty pytest run of as many no-op tests, minus a bare Python start: what
    any pytest suite sending those queries costs on this machine."""
    files = []
    for index, query in enumerate(seven["queries"]):
        path = scratch / f"seven-floor-{index}.sql"
        path.write_text(transpile_to_duckdb(query["sql"]))
        files.append([str(path), query["parameters"]])
    empty = scratch / f"empty-{seven['checks']}"
    empty.mkdir(exist_ok=True)
    (empty / "test_empty.py").write_text(EMPTY_SUITE.format(count=seven["checks"]))
    (empty / "conftest.py").write_text(EMPTY_CONFTEST)
    times = seven_checks.alternated_medians({
        "floor": ([sys.executable, "-c", FLOOR, str(seven["database"]), json.dumps(files)], None, (0,)),
        "pytest": ([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(empty)], None, (0,)),
        "python": ([sys.executable, "-c", "pass"], None, (0,))}, repeat)
    return {**times, "limit": times["floor"] + times["pytest"] - times["python"]}


def machine_line() -> str:
    """The cores this process may use (the affinity, when it is fewer than the machine's), Python, DuckDB."""
    import duckdb

    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    shown = f"{cores}" if usable == cores else f"{cores} (this process may use {usable})"
    return f"cores: {shown}; Python {platform.python_version()}; DuckDB {duckdb.__version__}"


def verdicts(rows: list[dict], seven: dict) -> list[str]:
    """One line per speed goal of issue 20: met or not, judged on suite/L (the history's read and
    write included: a user waits for them), with (s-r-w)/L beside it."""
    by_name = {row["workload"]: row for row in rows}

    def ratio(name: str) -> str:
        row = by_name[name]
        return (f"{name}: suite/L {row['suite'] / row['limit']:.2f}, "
                f"(s-r-w)/L {(row['suite'] - row['read'] - row['write']) / row['limit']:.2f}")

    def met(ok: bool) -> str:
        return "met" if ok else "NOT met"

    alone = [by_name["demo, 1 date"], by_name["large, --days=7"]]
    reports = by_name["large, --days=7, + reports"]
    lines = [
        f"goal: checks alone (--no-archive) <= 1.15 x L: {met(all(row['suite'] <= 1.15 * row['limit'] for row in alone))}"
        f" ({ratio('demo, 1 date')}; {ratio('large, --days=7')})",
        f"goal: weekly default run with reports <= 1.5 x L: {met(reports['suite'] <= 1.5 * reports['limit'])}"
        f" ({ratio('large, --days=7, + reports')})",
    ]
    soda, times = seven["soda"], seven["times"]
    limit = seven["limit"]["limit"]
    if isinstance(soda, seven_checks.Soda):
        lines.append(f"goal: seven-check selection <= 0.5 x Soda: {met(times['ours'] <= 0.5 * times['soda'])} "
                     f"(ours / Soda: {times['ours'] / times['soda']:.2f} as typed, both tables; "
                     f"{times['ours, cache alone'] / times['soda']:.2f} for the cache alone; its L, "
                     f"{limit:.3f} s, is {limit / times['soda']:.2f} x Soda, and ours is {times['ours'] / limit:.2f} x L)")
    else:
        lines.append(f"goal: seven-check selection <= 0.5 x Soda: Soda not run: {soda} "
                     f"(ours: {times['ours']:.3f} s)")
    return lines


if __name__ == "__main__":
    main()
