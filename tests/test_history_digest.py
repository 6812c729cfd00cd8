"""The DuckDB history's digest (feature_store_health/history/latest.py): a read served by it gives
exactly what the rows give, it is kept in step by every write, and rows written by anything else
send reads back to the rows until the next write makes it again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from conftest import CACHE, COMPOSITE, ROOT
from feature_store_health.history.duckdb_store import READ_SQL, DuckDBHistory
from feature_store_health.history.records import RunInfo, decode_rows, history_rows, record_row

DATE = "2026-02-05"   # the quickstart's date on the demo warehouse: healthy, with a 30-game-day baseline
SOURCE, OTHER = "/warehouse/a.duckdb", "/warehouse/b.duckdb"
DAYS = [dt.date(2026, 1, 28) + dt.timedelta(days=offset) for offset in range(5)]
TABLES = [CACHE, COMPOSITE, "*"]


def run_info(number: int, source: str = SOURCE) -> RunInfo:
    # run 3 starts at the same second as run 1 (both write DAYS[3]): the newer run_id breaks the
    # tie, as in the rows' read
    # tie, as in the rows' read; run 4 started before them all (it wrote last: a long run beside
    # shorter ones) and wins nothing
    minutes = {3: 1, 4: -1}.get(number, number)
    at = dt.datetime(2026, 2, 1, 6, 0, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=minutes)
    return RunInfo(f"run-{number}", at, "duckdb", source, "cfg")


class Verdict:
    def __init__(self, dimension: str, severity: str, value):
        from feature_store_health.checks.verdict import Severity

        self.dimension, self.severity, self.value = dimension, Severity(severity), value
        self.message, self.details = f"{dimension} said {severity}", {}


def day_rows(run: RunInfo, table: str, day: dt.date, scale: float) -> list[dict]:
    """Every kind the history holds: int, float, timestamp, date, json, null, text, a verdict, a record."""
    values = {
        "row_count": int(500 * scale), "mean__points": 12.5 * scale, "null_count__points": None,
        "max_processed_at": dt.datetime(2026, 2, 1, 7, 30, tzinfo=dt.timezone.utc) + dt.timedelta(hours=scale),
        "first_game": day, "bins__points": [1, 2, int(3 * scale)], "circuit_breaker": None,
        "learned_id": f"id-{scale}", "tiny": 1e-300 * scale, "huge": 1.7976931348623157e308 / (1 + scale),
    }
    rows = history_rows(run, table, day, values, [Verdict("coverage", "OK", 99.5 * scale), Verdict("anomalies", "WARNING", None)])
    rows.append(record_row(run, table, day, "incident:coverage", {"state": "open", "since": day.isoformat(), "scale": scale}))
    return rows


def the_rows(path: Path, tables, start: dt.date, end: dt.date, source: str) -> dict:
    """The read from the rows alone (the window over every run's rows), for comparison."""
    with duckdb.connect(str(path), read_only=True) as connection:
        rows = connection.execute(READ_SQL.format(only=""), {"start": start, "end": end, "tables": list(tables),
                                                               "source": source}).fetchall()
    return decode_rows(rows, [])


def assert_reads_equal(history: DuckDBHistory, served_from: str) -> None:
    """Every read of both sources, three table sets and three windows, from ``served_from``, equal
    to the rows' read (one connection for those: the store's own reads open theirs)."""
    with duckdb.connect(str(history.path), read_only=True) as connection:
        for source in (SOURCE, OTHER):
            for tables in (TABLES, [CACHE], [COMPOSITE, "*"]):
                for start, end in ((DAYS[0], DAYS[-1]), (DAYS[1], DAYS[2]), (DAYS[-1], DAYS[-1] + dt.timedelta(days=3))):
                    found = history.read(tables, start, end, source)
                    assert history.read_from == served_from
                    rows = connection.execute(READ_SQL.format(only=""), {"start": start, "end": end, "tables": tables,
                                                                           "source": source}).fetchall()
                    assert found == decode_rows(rows, [])


def test_the_digest_serves_exactly_what_the_rows_give_after_reruns_and_overwrites(tmp_path):
    history = DuckDBHistory(tmp_path / "history.duckdb")
    for number, (source, days, scale) in enumerate([
        (SOURCE, DAYS, 1.0),           # a whole week
        (SOURCE, DAYS[2:4], 1.5),      # a rerun of two of its days: newer values win
        (OTHER, DAYS[:2], 3.0),        # another warehouse: never mixed in
        (SOURCE, DAYS[3:], 2.0),       # the same second as run 1: the newer run_id wins on DAYS[3]
        (SOURCE, DAYS[:1] + DAYS[3:4], 9.0),   # older than every run before it: its values lose
    ]):
        history.write([row for table in TABLES for day in days for row in day_rows(run_info(number, source), table, day, scale)])
        assert_reads_equal(history, "digest")
    newest = history.read([CACHE], DAYS[3], DAYS[3], SOURCE)[(CACHE, DAYS[3])]
    assert newest["row_count"] == 1000 and newest["mean__points"] == 25.0 and newest["learned_id"] == "id-2.0"
    assert newest["bins__points"] == (1, 2, 6) and newest["incident:coverage"]["scale"] == 2.0
    assert newest["verdict:coverage"]["severity"] == "OK" and newest["null_count__points"] is None
    assert newest["max_processed_at"] == dt.datetime(2026, 2, 1, 9, 30, tzinfo=dt.timezone.utc)
    assert newest["first_game"] == DAYS[3] and newest["tiny"] == 2e-300 and isinstance(newest["row_count"], int)
    assert history.read([CACHE], DAYS[0], DAYS[0], OTHER)[(CACHE, DAYS[0])]["row_count"] == 1500
    assert history.read([CACHE], DAYS[0], DAYS[0], SOURCE)[(CACHE, DAYS[0])]["row_count"] == 500
    with duckdb.connect(str(history.path), read_only=True) as connection:
        digest_days = connection.execute("SELECT count(*) FROM metric_latest").fetchone()[0]
        assert digest_days == len(TABLES) * (len(DAYS) + 2)   # one row per (source, table, date)


def test_a_write_taken_over_the_digest_keeps_every_float_as_the_rows_store_it(tmp_path):
    """The usual write takes its own rows over the digest (no read back): each float must be the
    one the rows hold after their trip through DuckDB's JSON reader, to the last bit."""
    import random

    randomly = random.Random(20)
    history = DuckDBHistory(tmp_path / "history.duckdb")
    for number in range(3):
        values = {f"m{index}": randomly.random() * 10 ** randomly.randint(-30, 30) * randomly.choice((1, -1))
                  for index in range(2000)}
        values.update({"third": 1 / 3, "small": 5e-324, "big": 1.7976931348623157e308, "negative_zero": -0.0})
        history.write(history_rows(run_info(number), CACHE, DAYS[0], values))
        found = history.read([CACHE], DAYS[0], DAYS[0], SOURCE)
        assert history.read_from == "digest"
        rows = the_rows(history.path, [CACHE], DAYS[0], DAYS[0], SOURCE)
        assert found == rows
        assert all(found[(CACHE, DAYS[0])][name].hex() == value.hex() for name, value in values.items())


def test_rows_written_by_hand_send_reads_to_the_rows_until_the_next_write(tmp_path):
    history = DuckDBHistory(tmp_path / "history.duckdb")
    history.write([row for table in TABLES for day in DAYS for row in day_rows(run_info(0), table, day, 1.0)])
    later = dt.datetime(2026, 2, 3, tzinfo=dt.timezone.utc)
    with duckdb.connect(str(history.path)) as connection:   # an INSERT by hand: a newer row count
        connection.execute("INSERT INTO metric_history VALUES ('by-hand', ?, 'duckdb', ?, 'cfg', ?, ?, 'row_count', "
                           "'int', 7, NULL)", [later, SOURCE, CACHE, DAYS[0]])
    assert history.read([CACHE], DAYS[0], DAYS[0], SOURCE)[(CACHE, DAYS[0])]["row_count"] == 7
    assert history.read_from == "rows"
    assert_reads_equal(history, "rows")
    history.write(day_rows(run_info(1), COMPOSITE, DAYS[4], 4.0))   # the next write makes it again, whole
    assert_reads_equal(history, "digest")
    assert history.read([CACHE], DAYS[0], DAYS[0], SOURCE)[(CACHE, DAYS[0])]["row_count"] == 7
    with duckdb.connect(str(history.path)) as connection:   # a DELETE by hand
        connection.execute("DELETE FROM metric_history WHERE check_date = ?", [DAYS[1]])
    assert (CACHE, DAYS[1]) not in history.read([CACHE], DAYS[0], DAYS[-1], SOURCE)
    assert history.read_from == "rows"
    history.write(day_rows(run_info(2), COMPOSITE, DAYS[4], 5.0))
    assert_reads_equal(history, "digest")
    assert (CACHE, DAYS[1]) not in history.read([CACHE], DAYS[0], DAYS[-1], SOURCE)
    with duckdb.connect(str(history.path)) as connection:   # digested days deleted by hand
        connection.execute("DELETE FROM metric_latest WHERE check_date = ?", [DAYS[0]])
    assert_reads_equal(history, "rows")
    history.write(day_rows(run_info(3), COMPOSITE, DAYS[4], 5.5))
    assert_reads_equal(history, "digest")
    with duckdb.connect(str(history.path)) as connection:   # the digest dropped by hand, in step
        connection.execute("DROP TABLE metric_latest")
    assert_reads_equal(history, "rows")
    history.write(day_rows(run_info(4), COMPOSITE, DAYS[4], 6.0))   # one day written: every day digested
    assert_reads_equal(history, "digest")


def test_a_history_from_before_the_digest_is_read_from_its_rows_and_digested_by_the_next_write(tmp_path):
    """A file written before the digest existed (its rows alone): read as before; the first write
    digests every row, its own and the older ones."""
    path = tmp_path / "history.duckdb"
    history = DuckDBHistory(path)
    history.write([row for table in TABLES for day in DAYS for row in day_rows(run_info(0), table, day, 1.0)])
    with duckdb.connect(str(path)) as connection:
        connection.execute("DROP TABLE metric_latest")
        connection.execute("DROP TABLE metric_latest_state")
    assert_reads_equal(history, "rows")
    history.write(day_rows(run_info(1), CACHE, DAYS[2], 2.0))
    assert_reads_equal(history, "digest")
    assert history.read([CACHE], DAYS[0], DAYS[-1], SOURCE)[(CACHE, DAYS[0])]["row_count"] == 500
    # a digest of another layout: what it still serves is right; the next write makes it again whole
    for change, served_from in (("ALTER TABLE metric_latest DROP COLUMN newest_run_id", "digest"),
                                ("ALTER TABLE metric_latest_state DROP COLUMN digest_rows", "rows")):
        with duckdb.connect(str(path)) as connection:
            connection.execute(change)
        assert_reads_equal(history, served_from)
        history.write(day_rows(run_info(2), CACHE, DAYS[2], 3.0))
        assert_reads_equal(history, "digest")


def test_a_damaged_value_in_the_digest_costs_that_value_only(tmp_path):
    history = DuckDBHistory(tmp_path / "history.duckdb")
    rows = day_rows(run_info(0), CACHE, DAYS[0], 1.0)
    for row in rows:
        if row["name"] == "max_processed_at":
            row["text"] = "not-a-time"
    history.write(rows)
    found = history.read([CACHE], DAYS[0], DAYS[0], SOURCE)
    assert history.read_from == "digest" and "max_processed_at" not in found[(CACHE, DAYS[0])]
    assert found[(CACHE, DAYS[0])]["row_count"] == 500
    assert history.damaged == [f"{CACHE} {DAYS[0]} max_processed_at (timestamp 'not-a-time')"]
    assert found == decode_rows(duckdb.connect(str(history.path), read_only=True).execute(
        READ_SQL.format(only=""), {"start": DAYS[0], "end": DAYS[0], "tables": [CACHE], "source": SOURCE}).fetchall(), [])


def test_a_failed_write_leaves_rows_and_digest_as_they_were(tmp_path, monkeypatch):
    """The rows and their digest are one transaction: a digest that cannot be made leaves no rows
    behind either, and the history reads as before."""
    from feature_store_health.history import latest
    from feature_store_health.history.records import HistoryError

    history = DuckDBHistory(tmp_path / "history.duckdb")
    history.write(day_rows(run_info(0), CACHE, DAYS[0], 1.0))
    before = history.read(TABLES, DAYS[0], DAYS[-1], SOURCE)

    def broken(connection, rows_before, written):
        connection.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr("feature_store_health.history.duckdb_store.refresh", broken)
    with pytest.raises(HistoryError, match="cannot write it"):
        history.write(day_rows(run_info(1), CACHE, DAYS[0], 2.0))
    monkeypatch.setattr("feature_store_health.history.duckdb_store.refresh", latest.refresh)
    assert history.read(TABLES, DAYS[0], DAYS[-1], SOURCE) == before and history.read_from == "digest"
    with duckdb.connect(str(history.path), read_only=True) as connection:
        assert connection.execute("SELECT count(DISTINCT run_id) FROM metric_history").fetchone()[0] == 1


def test_a_run_reads_its_baseline_from_the_digest_and_judges_as_from_the_rows(run_suite, tmp_path):
    """Two runs on the demo warehouse: the second reads its baseline from the digest the first one
    wrote; a run reading the same history from its rows (the digest dropped) judges the same."""
    from feature_store_health.warehouse import demo_warehouse_path

    demo = f"--database={demo_warehouse_path(ROOT)}"
    history = tmp_path / "history.duckdb"
    first = run_suite(demo, f"--date={DATE}", f"--history={history}")
    assert first.ret == 0 and "from" not in first.results["history"]["read"]   # no file yet: nothing read
    second = run_suite(demo, f"--date={DATE}", f"--history={history}")
    assert second.ret == 0 and second.results["history"]["read"]["from"] == "digest"
    copy = tmp_path / "copy.duckdb"
    copy.write_bytes(history.read_bytes())
    with duckdb.connect(str(copy)) as connection:
        connection.execute("DROP TABLE metric_latest")
    from_rows = run_suite(demo, f"--date={DATE}", f"--history={copy}")
    assert from_rows.results["history"]["read"]["from"] == "rows"
    assert second.results["history"]["read"]["dates"] == from_rows.results["history"]["read"]["dates"] > 0

    def judged(run):
        return [(check["table"], check["dimension"], check["severity"], check["value"], check["message"])
                for check in run.results["checks"]]

    assert judged(second) == judged(from_rows)
    assert json.dumps(second.results["learned"], sort_keys=True) == json.dumps(from_rows.results["learned"], sort_keys=True)


@pytest.mark.parametrize("edit", [
    # a NaN and an infinity (no write makes them; DuckDB holds them): the digest must hold them too
    "INSERT INTO metric_history SELECT run_id, run_at + INTERVAL 1 DAY, backend, source, config_hash, table_name, "
    "check_date, 'not_a_number', 'float', 'nan'::DOUBLE, NULL FROM metric_history LIMIT 1",
    "INSERT INTO metric_history SELECT run_id, run_at + INTERVAL 1 DAY, backend, source, config_hash, table_name, "
    "check_date, 'row_count', 'float', '-inf'::DOUBLE, NULL FROM metric_history LIMIT 1",
    # a row with no run_at or run_id (an INSERT naming some columns only): older than any run, as
    # the rows' read orders it (NULLS LAST), and never a reason for a write to fail
    "INSERT INTO metric_history (run_id, backend, source, config_hash, table_name, check_date, name, kind, value) "
    "SELECT 'by-hand', backend, source, config_hash, table_name, check_date, 'stampless', 'int', 3 FROM metric_history LIMIT 1",
    "INSERT INTO metric_history (run_at, backend, source, config_hash, table_name, check_date, name, kind, value) "
    "SELECT run_at, backend, source, config_hash, table_name, check_date, 'row_count', 'int', 3 FROM metric_history LIMIT 1",
    "INSERT INTO metric_history (run_at, backend, source, config_hash, table_name, check_date, name, kind, value) "
    "SELECT run_at + INTERVAL 1 DAY, backend, source, config_hash, table_name, check_date, 'no_run_id', 'int', 3 FROM metric_history LIMIT 1",
    "INSERT INTO metric_history (run_at, backend, source, config_hash, table_name, check_date, name, kind, value) "
    "SELECT run_at, backend, source, config_hash, table_name, check_date, 'no_run_id', 'int', 3 FROM metric_history LIMIT 1",
    # a row with no name: decode_rows's values[None]
    "INSERT INTO metric_history SELECT run_id, run_at + INTERVAL 1 DAY, backend, source, config_hash, table_name, "
    "check_date, NULL, 'int', 8, NULL FROM metric_history LIMIT 1",
], ids=["nan", "infinity", "no-run-at", "no-run-at-same-name", "no-run-id-later", "no-run-id-same-moment", "no-name"])
def test_rows_made_by_hand_with_values_no_write_makes_are_digested_as_the_rows_read(tmp_path, edit):
    """Hand-made rows the tool never writes (NaN, infinities, NULL stamps or names) put the digest
    out of step; the next write must still succeed, and its digest serve what the rows give."""
    history = DuckDBHistory(tmp_path / "history.duckdb")
    history.write([row for table in TABLES for day in DAYS for row in day_rows(run_info(0), table, day, 1.0)])
    with duckdb.connect(str(history.path)) as connection:
        connection.execute(edit)
    history.write(day_rows(run_info(1), CACHE, DAYS[4], 2.0))   # the whole digest made again, from every row
    history.write(day_rows(run_info(2), CACHE, DAYS[0], 3.0))   # its rows taken over that day's digest
    history.write(day_rows(run_info(4), CACHE, DAYS[0], 4.0))   # an older run: that day made again from its rows
    for source in (SOURCE,):
        for tables in (TABLES, [CACHE]):
            found = history.read(tables, DAYS[0], DAYS[-1], source)
            assert history.read_from == "digest"
            rows = the_rows(history.path, tables, DAYS[0], DAYS[-1], source)
            # NaN != NaN: compared by their text (and a None name sorts beside the others)
            assert _texts(found) == _texts(rows) and found.keys() == rows.keys()


def _texts(read: dict) -> list:
    return sorted((repr(key), sorted((repr(name), repr(value)) for name, value in day.items())) for key, day in read.items())
