"""DuckDB backend: the BigQuery SQL, transpiled by sqlglot, run on a DuckDB file (read-only).

Tables are ``<dataset>.<table>``: a DuckDB schema stands for a BigQuery dataset. The transpiled
SQL is cached (keyed by the hash of the BigQuery text) so a warm run does not import sqlglot.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from typing import Mapping, Protocol

from feature_store_health.backends.base import BackendError, QueryResult, QueryStats, TableDescription, as_utc
from feature_store_health.checks.query import sql_hash

__all__ = ["DuckDBBackend", "SqlCache", "transpile_to_duckdb"]


class SqlCache(Protocol):
    def get(self, key: str, default: str | None) -> str | None: ...
    def set(self, key: str, value: str) -> None: ...


_TRANSPILED: dict[str, str] = {}   # this process's translations: a run in process after another (tests)
_TRANSPILED_KEPT = 32


# One translation at a time: the run's queries are translated in their own threads (run_ahead.py),
# and sqlglot is not safe to use from two at once. Its first parse loads the BigQuery dialect
# lazily; a second thread parsing meanwhile found it half loaded and failed on valid SQL ("Expecting
# )" at a backquoted name: found by CI, a run's checks NOT_EVALUATED).
_TRANSPILING = threading.Lock()


def transpile_to_duckdb(bigquery_sql: str) -> str:
    """The translation of ``bigquery_sql`` (below), made once per process."""
    with _TRANSPILING:
        found = _TRANSPILED.get(bigquery_sql)
        if found is None:
            found = _transpile(bigquery_sql)
            if len(_TRANSPILED) >= _TRANSPILED_KEPT:
                _TRANSPILED.pop(next(iter(_TRANSPILED)))
            _TRANSPILED[bigquery_sql] = found
        return found


def _transpile(bigquery_sql: str) -> str:
    """BigQuery SQL as DuckDB SQL. APPROX_COUNT_DISTINCT becomes an exact COUNT(DISTINCT): DuckDB's
    HyperLogLog is off by 10 % and more on the small sets a date holds (16 for 14 teams), where
    BigQuery's HLL++ is exact or nearly; an exact count over a few hundred rows costs nothing.
    Likewise an APPROX_QUANTILES element becomes the exact QUANTILE_DISC."""
    import sqlglot  # ~0.15 s to import: only when the cache misses
    from sqlglot import exp

    def exact(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.ApproxDistinct):
            return exp.Count(this=exp.Distinct(expressions=[node.this.copy()]))
        # APPROX_QUANTILES(x, n)[OFFSET(k)]: DuckDB's t-digest answer is not even a value of the
        # column; the exact k/n quantile over a date's few hundred rows costs nothing
        if (isinstance(node, exp.Bracket) and isinstance(node.this, exp.ApproxQuantiles)
                and len(node.expressions) == 1 and isinstance(node.expressions[0], exp.Literal)
                and isinstance(node.this.expression, exp.Literal)):
            position = int(node.expressions[0].this) - int(node.args.get("offset") or 0)
            fraction = position / int(node.this.expression.this)
            return exp.Anonymous(this="QUANTILE_DISC", expressions=[node.this.this.copy(), exp.Literal.number(fraction)])
        return node

    tree = sqlglot.parse_one(bigquery_sql, read="bigquery").transform(exact)
    return tree.sql(dialect="duckdb", pretty=True)


class DuckDBBackend:
    name = "duckdb"

    def __init__(self, path: Path, sql_cache: SqlCache | None = None) -> None:
        self.path = path
        self._sql_cache = sql_cache
        self._connection = None
        self._opening = threading.Lock()   # queries run from the run's threads (run_ahead.py): one file open
        self._running: set = set()         # the cursors of the queries running now (interrupt)
        self._caching = threading.Lock()   # pytest's cache of translations, read and written from threads

    def describe(self) -> str:
        return str(self.path)

    def _connect(self):
        import duckdb

        with self._opening:
            if self._connection is None:
                if not self.path.is_file():
                    raise BackendError(f"DuckDB file not found: {self.path}")
                try:
                    self._connection = duckdb.connect(str(self.path), read_only=True)
                except duckdb.Error as exc:
                    raise BackendError(f"cannot open DuckDB file {self.path}: {_first_line(exc)}") from None
            return self._connection

    def duckdb_sql(self, bigquery_sql: str) -> str:
        """The translation, from pytest's cache when a run made it before. Called from the query's
        thread (run_ahead.py): the cache is read and written under a lock (making its folder sets
        the process's umask for a moment), and a translation missing from it is made one at a time
        (transpile_to_duckdb's lock: sqlglot is not safe from two threads at once)."""
        key = f"feature_store_health/duckdb_sql/{sql_hash(bigquery_sql)}"
        if self._sql_cache is not None:
            with self._caching:
                cached = self._sql_cache.get(key, None)
            if cached is not None:
                return cached
        translated = transpile_to_duckdb(bigquery_sql)
        if self._sql_cache is not None:
            with self._caching:
                self._sql_cache.set(key, translated)
        return translated

    def run_query(self, table: str, sql: str, parameters: Mapping[str, dt.date]) -> QueryResult:
        import duckdb

        started = time.perf_counter()
        # a cursor of its own (~0.3 ms): the run's queries run at once, each from its own thread
        cursor = self._connect().cursor()
        self._running.add(cursor)
        try:
            cursor.execute(self.duckdb_sql(sql), dict(parameters))
            names = [column[0] for column in cursor.description]
            rows = [dict(zip(names, map(as_utc, row))) for row in cursor.fetchall()]
        except duckdb.CatalogException as exc:
            raise BackendError(f"{table}: {_first_line(exc)} (in {self.path})") from None
        except duckdb.Error as exc:
            raise BackendError(f"{table}: query failed: {_first_line(exc)}") from None
        finally:
            self._running.discard(cursor)
            cursor.close()
        seconds = time.perf_counter() - started
        return QueryResult(rows, QueryStats(table, sql_hash(sql), len(rows), seconds, None))

    def describe_table(self, table_ref: str) -> TableDescription:
        """Columns from information_schema (a DuckDB schema stands for the BigQuery dataset)."""
        import duckdb

        from feature_store_health.checks.contract import normalize_duckdb_type

        started = time.perf_counter()
        dataset, table = table_ref.split(".")[-2:]
        try:
            rows = self._connect().execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
                [dataset, table],
            ).fetchall()
        except duckdb.Error as exc:
            raise BackendError(f"{table_ref}: cannot read its columns: {_first_line(exc)}") from None
        if not rows:
            raise BackendError(f"table {table_ref} not found in {self.path}")
        # BigQuery's NUMERIC and FLOAT64 have no one DuckDB spelling: a file may hold either as
        # DECIMAL or DOUBLE, and neither is a schema change
        return TableDescription({name: normalize_duckdb_type(data_type) for name, data_type in rows},
                                time.perf_counter() - started, (frozenset({"NUMERIC", "FLOAT64", "BIGNUMERIC"}),))

    def dry_run(self, table: str, sql: str, parameters: Mapping[str, dt.date]) -> int | None:
        """EXPLAIN the transpiled query: binds every table, column and parameter, reads no rows."""
        import duckdb

        try:
            self._connect().execute("EXPLAIN " + self.duckdb_sql(sql), dict(parameters)).fetchall()
        except duckdb.Error as exc:
            raise BackendError(f"{table}: query failed: {_first_line(exc)}") from None
        return None

    def interrupt(self) -> None:
        """Stop the queries running now (a run interrupted while its queries run ahead of it):
        each raises in its own thread, and is never read."""
        for cursor in list(self._running):
            try:
                cursor.interrupt()
            except Exception:   # already finished and closed
                pass

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
