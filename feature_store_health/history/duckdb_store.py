"""The history in a DuckDB file (the embedded default: beside the run archive).

DuckDB lets one process at a time open a file for writing, so every read and write holds an
exclusive lock on a sidecar ``.lock`` file (waiting up to LOCK_SECONDS): two runs at once both
record, one after the other. Writes are appends in one transaction: a run that dies mid-write
leaves the file as it was.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import time
from pathlib import Path
from typing import Any, Iterator, Sequence

from feature_store_health.history.latest import read_digest, refresh
from feature_store_health.history.records import HISTORY_COLUMNS, READ_COLUMNS, HistoryError, Names, decode_rows

__all__ = ["DuckDBHistory", "history_path_problem"]

LOCK_SECONDS = 60.0
TABLE = "metric_history"
_DUCKDB_TYPES = {"STRING": "VARCHAR", "TIMESTAMP": "TIMESTAMPTZ", "DATE": "DATE", "FLOAT64": "DOUBLE"}
INSERT_SQL = (f"INSERT INTO {TABLE} SELECT "
              + ", ".join(f"CAST(unnest(${name}) AS {_DUCKDB_TYPES[kind]})" for name, kind in HISTORY_COLUMNS.items()))
READ_SQL = f"""
SELECT {", ".join(READ_COLUMNS)}
FROM {TABLE}
WHERE check_date BETWEEN $start AND $end AND table_name IN (SELECT unnest($tables)) AND source = $source{{only}}
QUALIFY ROW_NUMBER() OVER (PARTITION BY table_name, check_date, name ORDER BY run_at DESC, run_id DESC) = 1
"""


def _only(only: Names | None) -> tuple[str, dict[str, Any]]:
    """The read's filter on names (before the newest-per-name window) and its parameters."""
    if only is None:
        return "", {}
    prefixes = {f"prefix{index}": prefix for index, prefix in enumerate(only.prefixes)}
    tests = ["list_contains($names, name)", *(f"starts_with(name, ${key})" for key in prefixes)]
    return f"\n  AND ({' OR '.join(tests)})", {"names": list(only.names), **prefixes}


def history_path_problem(path: Path) -> str | None:
    """Why no history file can ever be at ``path``: said as bad input before any check, not as a
    write failure after them all (which a run of one dimension would even call HEALTHY)."""
    if path.is_dir():
        return f"{path} is a directory; give a DuckDB file path, e.g. {path / 'history.duckdb'}"
    for ancestor in path.parents:  # the nearest one that exists is where the file would be made
        if ancestor.exists():
            if not ancestor.is_dir():
                return f"{path} is under {ancestor}, a file, not a folder; give a DuckDB file path in a folder"
            return None
    return None


class DuckDBHistory:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.location = str(path)
        self.read_from: str | None = None   # the last read's: "digest" (history/latest.py) or "rows"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            handle = open(lock_path, "a+")
        except OSError as exc:
            raise HistoryError(f"history {self.path}: cannot open its lock file: {exc.strerror or exc}") from None
        try:
            deadline = time.monotonic() + LOCK_SECONDS
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise HistoryError(f"history {self.path}: still locked by another run after "
                                           f"{LOCK_SECONDS:g} s") from None
                    time.sleep(0.05)
            yield
        finally:
            handle.close()

    def read(self, tables: Sequence[str], start: dt.date, end: dt.date, source: str,
             only: Names | None = None) -> dict[tuple[str, dt.date], dict[str, Any]]:
        import duckdb

        if not self.path.exists():
            return {}  # nothing recorded yet
        if not self.path.is_file():
            raise HistoryError(f"history {self.path} is not a file; give a DuckDB file path (--history)")
        with self._locked():
            try:
                connection = duckdb.connect(str(self.path), read_only=True)
            except duckdb.Error as exc:
                raise HistoryError(f"history {self.path}: cannot open it: {_first_line(exc)}") from None
            self.damaged: list[str] = []
            try:
                if only is None:   # a whole read: from the digest while it is in step with the rows
                    digest = read_digest(connection, tables, start, end, source, self.damaged)
                    self.read_from = "digest" if digest is not None else "rows"
                    if digest is not None:
                        return digest
                else:
                    self.read_from = "rows"
                where, parameters = _only(only)
                rows = connection.execute(READ_SQL.format(only=where),
                                          {"start": start, "end": end, "tables": list(tables), "source": source,
                                           **parameters}).fetchall()
            except duckdb.CatalogException as exc:
                if _lacks_table(connection):
                    return {}   # a file with no history table yet (an empty DuckDB file)
                raise HistoryError(f"history {self.path}: cannot read it: {_first_line(exc)}") from None
            except duckdb.Error as exc:
                raise HistoryError(f"history {self.path}: cannot read it: {_first_line(exc)}") from None
            finally:
                connection.close()
        return decode_rows(rows, self.damaged)

    def write(self, rows: list[dict[str, Any]]) -> None:
        import duckdb

        if not rows:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HistoryError(f"history {self.path}: cannot create its folder: {exc.strerror or exc}") from None
        # each column's values as one list parameter, zipped back into rows by unnest: DuckDB
        # converts the lists itself (no JSON text to encode, write to a file and parse again)
        columns = {name: [row[name] for row in rows] for name in HISTORY_COLUMNS}
        # one type per list: a verdict's value may be an int among the metrics' floats
        columns["value"] = [None if value is None else float(value) for value in columns["value"]]
        with self._locked():
            try:
                connection = duckdb.connect(str(self.path))
            except duckdb.Error as exc:
                raise HistoryError(f"history {self.path}: cannot open it for writing: {_first_line(exc)}") from None
            try:
                definition = ", ".join(f"{name} {_DUCKDB_TYPES[kind]}" for name, kind in HISTORY_COLUMNS.items())
                connection.execute("BEGIN TRANSACTION")   # the rows and their digest, or neither
                connection.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} ({definition})")
                rows_before = connection.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0]
                connection.execute(INSERT_SQL, columns)
                refresh(connection, rows_before, rows)
                connection.execute("COMMIT")
            except duckdb.Error as exc:
                raise HistoryError(f"history {self.path}: cannot write it: {_first_line(exc)}") from None
            finally:
                connection.close()


def _lacks_table(connection) -> bool:
    """Whether the file holds no history table (asked only once a read failed on its catalog)."""
    return not connection.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [TABLE]).fetchone()[0]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
