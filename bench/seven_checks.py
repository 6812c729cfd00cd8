"""The seven original checks, selected with -m, against Soda Core 3.5 running the same checks
(bench/soda/checks.yml) on the same file and dates: run by bench/run_benchmark.py.

Soda Core is no dependency of the project: it runs from its own virtual environment,
bench/.soda-venv (created by ``run_benchmark.py --soda``; used whenever it exists). soda-core-duckdb
3.5 pins duckdb < 1.1, which cannot open a file written by the project's DuckDB, so the large
warehouse is copied once, whole, into a file in that DuckDB's storage version; then both the suite
and Soda read that copy.
"""

from __future__ import annotations

import collections
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
SEVEN = ("coverage", "production_readiness", "null_rates", "quality_tiers", "completeness", "downstream_usage",
         "staleness")
SELECTION = " or ".join(SEVEN)
SODA_VENV = ROOT / "bench" / ".soda-venv"
SODA_REQUIREMENT = "soda-core-duckdb==3.5.*"
SODA_DIR = ROOT / "bench" / "soda"
# the tables of the default config other than the one bench/soda/checks.yml checks
OTHER_TABLES = "not player_composite_factors"


class Soda(NamedTuple):
    executable: Path
    duckdb_version: str


def soda_available(install: bool) -> Soda | str:
    """Soda Core from bench/.soda-venv, created (once) when ``install``; else why it cannot run."""
    soda, python = SODA_VENV / "bin" / "soda", SODA_VENV / "bin" / "python"
    if not soda.exists():
        if not install:
            return "not installed (run bench/run_benchmark.py --soda to install it in bench/.soda-venv)"
        print(f"installing {SODA_REQUIREMENT} in {SODA_VENV} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(SODA_VENV)], check=True)
        completed = subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                                    SODA_REQUIREMENT], capture_output=True, text=True)
        if completed.returncode or not soda.exists():
            last = (completed.stderr.strip() or completed.stdout.strip() or "no soda executable").splitlines()[-1]
            shutil.rmtree(SODA_VENV, ignore_errors=True)  # half an install is no install: try again next time
            return f"pip install {SODA_REQUIREMENT} failed: {last}"
    # its own HOME: Soda reads ~/.soda/config.yml, and would send usage statistics (network calls
    # that time out here) unless it says not to
    config = SODA_VENV / "home" / ".soda" / "config.yml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text("send_anonymous_usage_stats: false\n")
    version = subprocess.run([str(python), "-c", "import duckdb; print(duckdb.__version__)"],
                             capture_output=True, text=True)
    if version.returncode:
        return f"its duckdb does not import: {version.stderr.strip().splitlines()[-1]}"
    return Soda(soda, version.stdout.strip())


def readable_by_soda(soda: Soda, large: Path) -> Path:
    """``large`` when Soda's duckdb opens it, else a whole copy in that duckdb's storage version
    (made once, beside it)."""
    opened = subprocess.run([str(soda.executable.with_name("python")), "-c",
                             "import duckdb, sys; duckdb.connect(sys.argv[1], read_only=True).close()", str(large)],
                            capture_output=True, text=True)
    if opened.returncode == 0:
        return large
    copy = large.with_name(f"{large.stem}-duckdb-{soda.duckdb_version}.duckdb")
    if copy.exists():
        return copy
    import duckdb

    print(f"copying {large.name} for Soda's duckdb {soda.duckdb_version} (once): {copy}", flush=True)
    staged = copy.with_suffix(".tmp")
    staged.unlink(missing_ok=True)
    with duckdb.connect() as connection:
        connection.execute(f"ATTACH '{large}' AS source (READ_ONLY)")
        connection.execute(f"ATTACH '{staged}' AS target (STORAGE_VERSION 'v{soda.duckdb_version}')")
        connection.execute("COPY FROM DATABASE source TO target")
    staged.rename(copy)
    return copy


def alternated_medians(commands: dict[str, tuple], repeat: int) -> dict[str, float]:
    """Median seconds of each whole process, the commands alternated so a busy moment of the
    machine falls on all of them. ``commands``: label -> (command, env or None, the exit codes
    allowed[, a check run after each run, untimed]). A run that exits otherwise than allowed stops
    the benchmark."""
    timings: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(repeat):
        for label, (command, env, allowed, *after) in commands.items():
            started = time.perf_counter()
            completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=env)
            timings[label].append(time.perf_counter() - started)
            if completed.returncode not in allowed:
                raise SystemExit(f"{' '.join(command)} exited {completed.returncode}:\n"
                                 f"{completed.stdout}{completed.stderr}")
            for check in after:
                check()
    return {label: statistics.median(found) for label, found in timings.items()}


def _captured(command: list[str], scratch: Path) -> list[dict]:
    """The queries one run of ``command`` sent (bench/capture_queries.py), in order."""
    log = scratch / "seven-queries.jsonl"
    log.unlink(missing_ok=True)
    env = {**os.environ, "BENCH_QUERY_LOG": str(log),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "bench"), os.environ.get("PYTHONPATH")]))}
    completed = subprocess.run([*command[:3], "-p", "capture_queries", *command[3:]], cwd=ROOT, env=env,
                               capture_output=True, text=True)
    if completed.returncode not in (0, 1) or not log.exists():
        raise SystemExit(f"the capturing run exited {completed.returncode}:\n{completed.stdout}{completed.stderr}")
    return [json.loads(line) for line in log.read_text().splitlines()]


def _dry_run_hashes(command: list[str]) -> dict[str, tuple[str, str]]:
    """Planned query per name (``player_daily_cache``, ``player_daily_cache (source_consistency)``)
    -> (its sql_hash, its parameters as listed), from the --dry-run listing of the same command."""
    from feature_store_health.checks.query import sql_hash

    completed = subprocess.run([*command, "--dry-run"], cwd=ROOT, capture_output=True, text=True)
    planned, name, lines, parameters = {}, None, [], ""
    for line in completed.stdout.splitlines():
        if name is None and line.startswith("-- ") and ": @" in line:
            name, parameters = line[3:].split(": @", 1)
            lines, parameters = [], "@" + parameters
        elif name is not None and line.startswith(("-- ✅", "-- ❌")):
            planned[name] = (sql_hash("\n".join(lines)), parameters)
            name = None
        elif name is not None:
            lines.append(line)
    return planned


def _shape(sql: str) -> str:
    """What a query computes, in one line: its lines and output columns, counted by metric (the
    name before ``__``: ``mean__points_avg_last_10`` is a mean, a profile statistic)."""
    import sqlglot

    names = [select.alias_or_name for select in sqlglot.parse_one(sql, read="bigquery").selects]
    families = collections.Counter(name.split("__")[0] for name in names if "__" in name)
    shown = ", ".join(f"{family} {count}" for family, count in families.most_common())
    return (f"{len(sql.splitlines())} lines, {len(names)} output columns: {shown}; "
            f"{len(names) - sum(families.values())} others")


def as_of_utc(check_date: dt.date) -> str:
    """The suite's as-of time of a past date (the [deadline] time there), in UTC, for Soda's freshness."""
    from feature_store_health.config import load_config

    config = load_config()
    local = dt.datetime.combine(check_date, config.deadline_time, zoneinfo.ZoneInfo(config.timezone))
    return local.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def compare(large: Path, warm_history: Path, check_date: dt.date, days: int, repeat: int, scratch: Path,
            soda: Soda | str) -> dict:
    """Times the seven-check selection (both tables, and the cache alone) and, when it can run,
    Soda's scan of the same checks, on the same file and dates; captures the selection's queries."""
    database = readable_by_soda(soda, large) if isinstance(soda, Soda) else large
    history = scratch / "seven-history.duckdb"
    shutil.copyfile(warm_history, history)  # the weekly run's warm history: what a morning's run reads
    ours = [sys.executable, "-m", "pytest", "data_tests", f"--date={check_date}", f"--days={days}",
            f"--database={database}", "--no-archive", "-q", "-m", SELECTION, f"--history={history}"]
    commands = {"ours": (ours, None, (0, 1)), "ours, cache alone": ([*ours, "-k", OTHER_TABLES], None, (0, 1))}
    start = check_date - dt.timedelta(days=days - 1)
    soda_output = ""
    if isinstance(soda, Soda):
        scan = [str(soda.executable), "scan", "-d", "warehouse", "-c", str(SODA_DIR / "configuration.yml"),
                "-v", f"start={start}", "-v", f"end={check_date}", "-v", f"as_of={as_of_utc(check_date)}",
                str(SODA_DIR / "checks.yml")]
        env = {**os.environ, "HOME": str(SODA_VENV / "home"), "SODA_DUCKDB_PATH": str(database)}
        # untimed first scan: it must evaluate every check (exit 0: all pass, 1: warnings, 2: failures;
        # 3: an error, such as a query that failed)
        first = subprocess.run(scan, cwd=ROOT, env=env, capture_output=True, text=True)
        soda_output = first.stdout
        if first.returncode not in (0, 1, 2) or "not been evaluated" in first.stdout \
                or "NOT EVALUATED" in first.stdout:
            raise SystemExit(f"the Soda scan failed (exit {first.returncode}):\n{first.stdout}{first.stderr}")
        commands["soda"] = (scan, env, (0, 1, 2))
    # untimed, before the timed runs (their warm-up) and after them: the same queries both times,
    # or the report says the timed runs may have sent others
    queries = _captured(ours, scratch)
    # the selection's checks, for its L (``ours`` has -q already: one node id per line)
    collected = subprocess.run([*ours, "--collect-only"], cwd=ROOT, capture_output=True, text=True)
    selected = sum(line.startswith("data_tests/") and "::" in line for line in collected.stdout.splitlines())
    planned = _dry_run_hashes(ours)
    times = alternated_medians(commands, repeat)
    after = _captured(ours, scratch)
    steady = [query["sql_hash"] for query in queries] == [query["sql_hash"] for query in after]
    # its verdict line: "All is good. ...", "Only 1 warning. ...", "Oops! 1 failure. ..."
    summary = next((line.split("] ", 1)[-1] for line in soda_output.splitlines()
                    if any(word in line for word in ("All is good", "Only ", "Oops!"))), "")
    checks = sum(1 for line in soda_output.splitlines() if line.rstrip().endswith(("[PASSED]", "[WARNED]", "[FAILED]")))
    summary = f"{checks} checks; {summary}" if summary else f"{checks} checks"
    return {"database": database, "times": times, "queries": queries, "planned": planned, "steady": steady, "checks": selected,
            "soda": soda, "soda_summary": summary, "window": (start, check_date)}


def _shown_path(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def report(result: dict, repeat: int) -> list[str]:
    """The comparison's lines, the queries the selection sent last."""
    times, soda, (start, end) = result["times"], result["soda"], result["window"]
    lines = ["", f"Seven original checks (-m \"{SELECTION}\"), {start}..{end}, on {_shown_path(result['database'])}, warm history, "
             f"--no-archive, median of {repeat} whole-process runs, alternated:"]
    lines.append(f"  ours, both tables of the default config (as typed): {times['ours']:.3f} s")
    lines.append(f"  ours, player_daily_cache alone (-k \"{OTHER_TABLES}\"): {times['ours, cache alone']:.3f} s")
    if isinstance(soda, Soda):
        lines.append(f"  Soda Core 3.5 (duckdb {soda.duckdb_version}), bench/soda/checks.yml on player_daily_cache: "
                     f"{times['soda']:.3f} s ({result['soda_summary']})")
        lines.append(f"  ours / Soda: {times['ours'] / times['soda']:.2f} (both tables), "
                     f"{times['ours, cache alone'] / times['soda']:.2f} (the cache alone, the table Soda checks)")
    if "limit" in result:
        limit = result["limit"]
        lines.append(f"  L of the selection ({result['checks']} checks): floor {limit['floor']:.3f} + pytest "
                     f"{limit['pytest']:.3f} - python {limit['python']:.3f} = {limit['limit']:.3f} s; "
                     f"ours / L: {times['ours'] / limit['limit']:.2f}")
    else:
        lines.append(f"  Soda not run: {soda}")
    lines.append("")
    steady = ("the same before and after the timed runs" if result["steady"] else
              "NOT the same before and after the timed runs: these are the ones before")
    lines.append(f"The queries the selection sent (captured from untimed runs of the same command with "
                 f"bench/capture_queries.py, which records each DuckDBBackend.run_query call; {steady}), in BigQuery SQL as the suite "
                 "builds them (the DuckDB backend translates them before it runs them):")
    for query in result["queries"]:
        planned_hash, planned_parameters = result["planned"].get(query["table"], ("", "nothing"))
        dry = ("--dry-run plans this query" if planned_hash == query["sql_hash"] else
               f"--dry-run plans another query ({planned_parameters})")
        lines.append(f"-- {query['table']}: {', '.join(f'@{k} = {v}' for k, v in query['parameters'].items())}; "
                     f"sql_hash {query['sql_hash']}; {dry}")
        lines.append(f"-- {_shape(query['sql'])}")
        lines.extend(query["sql"].splitlines())
    return lines
