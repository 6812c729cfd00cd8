"""The DuckDB history's digest: the newest value of every name of a (source, table, date), one JSON
text per day, kept by each write beside the append-only rows (duckdb_store.py).

A run reads the baseline days' every metric: ~400 names a day, ~35,000 rows for one date's 45-day
lookback over two tables, each row a Python tuple to build and decode, behind a window over every
run's rows. The digest holds the same newest values as one row per day, so a read is ~90 rows of
JSON. It is derived, never the record: ``metric_history`` stays append-only and whole, and a read
serves from the digest only while it is in step with it (``metric_latest_state`` holds the row
counts of ``metric_history`` and of the digest as the last write left them). Rows written by anything else (an older
version of this tool, a hand-made INSERT or DELETE) put it out of step: reads go back to the rows,
and the next write makes the digest again from all of them. An edit that keeps the counts (an
UPDATE in place, a DELETE with an INSERT of as many rows) is not seen: after editing the history
by hand, drop ``metric_latest`` (the next write makes it again; reads go to the rows until then).
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
STATE_COLUMNS = {"history_rows": "BIGINT", "digest_rows": "BIGINT"}
DIGEST_COLUMNS = {"source": "VARCHAR", "table_name": "VARCHAR", "check_date": "DATE",
                  "newest_run_at": "TIMESTAMPTZ", "newest_run_id": "VARCHAR", "day": "VARCHAR"}
NEWEST = ("QUALIFY ROW_NUMBER() OVER (PARTITION BY source, table_name, check_date, name "
          "ORDER BY run_at DESC, run_id DESC) = 1")


Key = tuple  # (source, table_name, check_date)
KEYS = ("(SELECT unnest($sources) AS source, unnest($tables) AS table_name, unnest($dates) AS check_date) k")
#        the days of _columns(keys), as a relation named k
Stamp = tuple   # (has run_at, run_at in UTC, has run_id, run_id): orders as the rows' ORDER BY run_at, run_id
_NO_MOMENT = dt.datetime.min.replace(tzinfo=dt.timezone.utc)


def refresh(connection: Any, rows_before: int, written: list[dict[str, Any]]) -> None:
    """In the write's transaction, after its rows (``written``, as history_rows makes them) were
    appended: the digest of the days they touched, or of every day when the digest was not in step
    with the ``rows_before`` the history held before them. A touched day whose every digested value
    is older than this write's rows takes them over its digest (the usual case: no window over the
    day's rows); a day another run wrote later than this one started is made again from its rows."""
    layouts = dict(connection.execute(
        "SELECT table_name, list(column_name ORDER BY column_index) FROM duckdb_columns() "
        "WHERE table_name IN (?, ?) GROUP BY table_name", [DIGEST, STATE]).fetchall())
    in_step = True
    for table, columns in ((DIGEST, DIGEST_COLUMNS), (STATE, STATE_COLUMNS)):
        if layouts.get(table) == list(columns):
            continue
        in_step = False   # new, or of another layout (another version's): made again whole
        connection.execute(f"DROP TABLE IF EXISTS {table}")
        connection.execute(f"CREATE TABLE {table} ({', '.join(f'{name} {kind}' for name, kind in columns.items())})")
    if in_step:
        state = connection.execute(f"SELECT history_rows, digest_rows FROM {STATE}").fetchall()
        in_step = state == [(rows_before, connection.execute(f"SELECT count(*) FROM {DIGEST}").fetchone()[0])]
    days: dict[Key, tuple[Stamp, dict[str, Any]]] = {}
    if in_step:
        by_day: dict[Key, list[dict[str, Any]]] = {}
        for row in written:
            by_day.setdefault((row["source"], row["table_name"], dt.date.fromisoformat(row["check_date"])), []).append(row)
        keys = list(by_day)
        digested = {(source, table_name, check_date): (_stamp(run_at, run_id), json.loads(day))
                    for source, table_name, check_date, run_at, run_id, day in connection.execute(
                        f"SELECT d.source, d.table_name, d.check_date, d.newest_run_at, d.newest_run_id, d.day "
                        f"FROM {DIGEST} d SEMI JOIN {KEYS} USING (source, table_name, check_date)", _columns(keys)).fetchall()}
        again = []
        moments: dict[str, dt.datetime] = {}   # each run_at text parsed once
        for key, rows in by_day.items():
            for row in rows:
                if row["run_at"] not in moments:
                    moments[row["run_at"]] = _utc(dt.datetime.fromisoformat(row["run_at"]))
            stamps = {_stamp(moments[row["run_at"]], row["run_id"]) for row in rows}
            stamp = max(stamps)
            before = digested.get(key)
            if len(stamps) == 1 and len({row["name"] for row in rows}) == len(rows) and (before is None or stamp > before[0]):
                day = before[1] if before is not None else _empty()
                for row in rows:
                    _put(day, row["name"], row["kind"], row["value"], row["text"])
                days[key] = (stamp, day)
            else:
                again.append(key)
        connection.execute(f"DELETE FROM {DIGEST} USING {KEYS} WHERE {DIGEST}.source = k.source AND "
                           f"{DIGEST}.table_name = k.table_name AND {DIGEST}.check_date = k.check_date", _columns(keys))
        if again:
            days.update(_from_rows(connection, f"SEMI JOIN {KEYS} USING (source, table_name, check_date)", _columns(again)))
    else:   # out of step (or new): made again from every row
        connection.execute(f"DELETE FROM {DIGEST}")
        days = _from_rows(connection, "", {})
    if days:
        keys = list(days)
        connection.execute(
            f"INSERT INTO {DIGEST} SELECT unnest($sources), unnest($tables), unnest($dates), unnest($run_ats), "
            "unnest($run_ids), unnest($days)",
            {**_columns(keys), "run_ats": [_moment(days[key][0]) for key in keys], "run_ids": [_run_id(days[key][0]) for key in keys],
             # NaN and infinities as the rows hold them (no write makes them; a row made by hand may)
             "days": [json.dumps(days[key][1], separators=(",", ":")) for key in keys]})
    connection.execute(f"DELETE FROM {STATE}")
    connection.execute(f"INSERT INTO {STATE} SELECT (SELECT count(*) FROM {HISTORY}), (SELECT count(*) FROM {DIGEST})")


def _from_rows(connection: Any, where: str, parameters: dict[str, Any]) -> dict[Key, tuple[Stamp, dict]]:
    """Days digested from their rows: the newest row of each name, as the rows' own read picks it."""
    days: dict[Key, tuple[Stamp, dict]] = {}
    for source, table_name, check_date, name, kind, value, text, run_at, run_id in connection.execute(
            f"SELECT source, table_name, check_date, name, kind, value, text, run_at, run_id FROM {HISTORY} "
            f"{where} {NEWEST}", parameters).fetchall():
        key = (source, table_name, check_date)
        stamp = _stamp(run_at, run_id)
        found = days.get(key)
        if found is None:
            found = days[key] = (stamp, _empty())
        elif stamp > found[0]:
            days[key] = found = (stamp, found[1])
        _put(found[1], name, kind, value, text)
    return days


def _empty() -> dict[str, dict[str, Any]]:
    return {"float": {}, "int": {}, "other": {}}


def _put(day: dict[str, Any], name: str | None, kind: str, value: Any, text: Any) -> None:
    """A name's newest value into a day's digest: numbers by kind, the rest as [kind, value, text];
    a NULL name (a row made by hand; no JSON key) as [kind, value, text] under "none"."""
    if name is None:
        day["none"] = [kind, value, text]
        return
    for bucket in ("float", "int", "other"):
        day[bucket].pop(name, None)
    if kind == "float" or kind == "int":
        day[kind][name] = value
    else:
        day["other"][name] = [kind, value, text]


def _columns(keys: list[Key]) -> dict[str, list[Any]]:
    return {"sources": [key[0] for key in keys], "tables": [key[1] for key in keys], "dates": [key[2] for key in keys]}


def _stamp(run_at: dt.datetime | None, run_id: str | None) -> Stamp:
    """A row's place in the newest-row order, ``ORDER BY run_at DESC, run_id DESC`` with DuckDB's
    NULLS LAST: a NULL run_at or run_id (a row made by hand) is older than any value."""
    return (run_at is not None, _NO_MOMENT if run_at is None else _utc(run_at), run_id is not None, run_id or "")


def _moment(stamp: Stamp) -> dt.datetime | None:
    return stamp[1] if stamp[0] else None


def _run_id(stamp: Stamp) -> str | None:
    return stamp[3] if stamp[2] else None


def _utc(moment: dt.datetime) -> dt.datetime:
    return (moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)).astimezone(dt.timezone.utc)


def read_digest(connection: Any, tables: Sequence[str], start: dt.date, end: dt.date, source: str,
                damaged: list[str]) -> dict[tuple[str, dt.date], dict[str, Any]] | None:
    """The newest values per (table, date), as decode_rows gives them from the rows; None when the
    file has no digest or it is out of step with the rows (the caller reads the rows)."""
    import duckdb

    try:
        state = connection.execute(f"SELECT history_rows, digest_rows FROM {STATE}").fetchall()
        now = connection.execute(f"SELECT (SELECT count(*) FROM {HISTORY}), (SELECT count(*) FROM {DIGEST})").fetchone()
        if state != [now]:
            return None
        found = connection.execute(
            f"SELECT table_name, check_date, day FROM {DIGEST} WHERE source = $source "
            "AND check_date BETWEEN $start AND $end AND table_name IN (SELECT unnest($tables))",
            {"source": source, "start": start, "end": end, "tables": list(tables)}).fetchall()
    except (duckdb.CatalogException, duckdb.BinderException):   # no digest yet, or of another layout
        return None
    result: dict[tuple[str, dt.date], dict[str, Any]] = {}
    for table_name, check_date, text in found:
        day = json.loads(text)
        values = day["float"]
        for name, value in day["int"].items():
            values[name] = None if value is None else int(value)
        for name, (kind, value, recorded) in day["other"].items():
            decode_into(values, table_name, check_date, name, kind, value, recorded, damaged)
        if "none" in day:   # a row with a NULL name (made by hand): decode_rows's values[None]
            decode_into(values, table_name, check_date, None, *day["none"], damaged)   # decode() reads numbers too
        result[(table_name, check_date)] = values
    return result
