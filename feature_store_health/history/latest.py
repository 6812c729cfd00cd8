"""The DuckDB history's digest: the newest value of every name of a (source, table, date), one JSON
text per day, kept by each write beside the append-only rows (duckdb_store.py).

A run reads the baseline days' every metric: ~400 names a day, ~35,000 rows for one date's 45-day
lookback over two tables, each row a Python tuple to build and decode, behind a window over every
run's rows. The digest holds the same newest values as one row per day, so a read is ~90 rows of
JSON. It is derived, never the record: ``metric_history`` stays append-only and whole, and a read
serves from the digest only while it is in step with it (``metric_latest_state`` holds the row
count of ``metric_history`` the digest was made from). Rows written by anything else (an older
version of this tool, a hand-made INSERT or DELETE) put it out of step: reads go back to the rows,
and the next write makes the digest again from all of them. An UPDATE of a value in place, which
changes no count, is not seen: after editing the history by hand, drop ``metric_latest`` (the
next write makes it again; reads go to the rows until then).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Sequence

from feature_store_health.history.records import decode_into

__all__ = ["read_digest", "refresh"]

HISTORY = "metric_history"
DIGEST = "metric_latest"
STATE = "metric_latest_state"
NEWEST = ("QUALIFY ROW_NUMBER() OVER (PARTITION BY source, table_name, check_date, name "
          "ORDER BY run_at DESC, run_id DESC) = 1")


def refresh(connection: Any, rows_before: int, written: str) -> None:
    """In the write's transaction, after its rows were appended: the digest of the days they
    touched (``written``: a query of their source, table_name and check_date), or of every day
    when the digest was not in step with the ``rows_before`` the history held before them."""
    existing = {name for (name,) in connection.execute(
        "SELECT table_name FROM duckdb_tables() WHERE table_name IN (?, ?)", [DIGEST, STATE]).fetchall()}
    connection.execute(f"CREATE TABLE IF NOT EXISTS {DIGEST} (source VARCHAR, table_name VARCHAR, "
                       "check_date DATE, day VARCHAR)")
    connection.execute(f"CREATE TABLE IF NOT EXISTS {STATE} (history_rows BIGINT)")
    state = connection.execute(f"SELECT history_rows FROM {STATE}").fetchall()
    if existing == {DIGEST, STATE} and state == [(rows_before,)]:
        connection.execute(f"CREATE TEMP TABLE touched AS SELECT DISTINCT source, table_name, check_date FROM ({written})")
        connection.execute(f"DELETE FROM {DIGEST} USING touched WHERE {DIGEST}.source = touched.source "
                           f"AND {DIGEST}.table_name = touched.table_name AND {DIGEST}.check_date = touched.check_date")
        newest = connection.execute(
            f"SELECT source, table_name, check_date, name, kind, value, text FROM {HISTORY} "
            f"SEMI JOIN touched USING (source, table_name, check_date) {NEWEST}").fetchall()
        connection.execute("DROP TABLE touched")
    else:   # out of step (or new): made again from every row
        connection.execute(f"DELETE FROM {DIGEST}")
        newest = connection.execute(
            f"SELECT source, table_name, check_date, name, kind, value, text FROM {HISTORY} {NEWEST}").fetchall()
    days: dict[tuple[str, str, dt.date], dict[str, dict[str, Any]]] = {}
    for source, table_name, check_date, name, kind, value, text in newest:
        day = days.get((source, table_name, check_date))
        if day is None:
            day = days[(source, table_name, check_date)] = {"float": {}, "int": {}, "other": {}}
        if kind == "float" or kind == "int":
            day[kind][name] = value
        else:
            day["other"][name] = [kind, value, text]
    if days:
        keys = list(days)
        connection.execute(
            f"INSERT INTO {DIGEST} SELECT unnest($sources), unnest($tables), unnest($dates), unnest($days)",
            {"sources": [key[0] for key in keys], "tables": [key[1] for key in keys], "dates": [key[2] for key in keys],
             "days": [json.dumps(days[key], separators=(",", ":"), allow_nan=False) for key in keys]})
    connection.execute(f"DELETE FROM {STATE}")
    connection.execute(f"INSERT INTO {STATE} SELECT count(*) FROM {HISTORY}")


def read_digest(connection: Any, tables: Sequence[str], start: dt.date, end: dt.date, source: str,
                damaged: list[str]) -> dict[tuple[str, dt.date], dict[str, Any]] | None:
    """The newest values per (table, date), as decode_rows gives them from the rows; None when the
    file has no digest or it is out of step with the rows (the caller reads the rows)."""
    import duckdb

    try:
        made_from, rows_now = connection.execute(
            f"SELECT (SELECT max(history_rows) FROM {STATE}), (SELECT count(*) FROM {HISTORY})").fetchone()
        if made_from is None or made_from != rows_now:
            return None
        found = connection.execute(
            f"SELECT table_name, check_date, day FROM {DIGEST} WHERE source = $source "
            "AND check_date BETWEEN $start AND $end AND table_name IN (SELECT unnest($tables))",
            {"source": source, "start": start, "end": end, "tables": list(tables)}).fetchall()
    except duckdb.CatalogException:   # no digest yet (or a part of it dropped by hand)
        return None
    result: dict[tuple[str, dt.date], dict[str, Any]] = {}
    for table_name, check_date, text in found:
        day = json.loads(text)
        values = day["float"]
        for name, value in day["int"].items():
            values[name] = None if value is None else int(value)
        for name, (kind, value, recorded) in day["other"].items():
            decode_into(values, table_name, check_date, name, kind, value, recorded, damaged)
        result[(table_name, check_date)] = values
    return result
