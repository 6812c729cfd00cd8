"""The backend interface: run one parametrized query, report what it cost."""

from __future__ import annotations

import datetime as dt
import decimal
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple, Protocol

__all__ = ["Backend", "BackendError", "QueryResult", "QueryStats", "TableDescription", "as_utc"]


class BackendError(Exception):
    """A query could not run. The message is one line a user can act on; checks become NOT_EVALUATED."""


class QueryStats(NamedTuple):
    table: str
    sql_hash: str
    rows: int
    seconds: float
    bytes_processed: int | None
    job_id: str | None = None                    # BigQuery: find the job in the console
    labels: Mapping[str, str] = MappingProxyType({})
    purpose: str = "metrics"                     # metrics | samples:<dimension>
    parameters: Mapping[str, str] = MappingProxyType({})   # the query's date parameters (ISO), set by the run

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "table": self.table,
            "purpose": self.purpose,
            "sql_hash": self.sql_hash,
            "rows": self.rows,
            "bytes_processed": self.bytes_processed,
            "seconds": round(self.seconds, 4),
        }
        if self.parameters:
            document["parameters"] = dict(self.parameters)
        if self.job_id is not None:
            document["job_id"] = self.job_id
            document["labels"] = dict(self.labels)
        return document


class TableDescription(NamedTuple):
    columns: dict[str, str]      # column -> normalized type (checks.contract), in table order
    seconds: float
    # groups of contract types this warehouse stores alike (a schema check does not call them changed)
    equivalent: tuple[frozenset[str], ...] = ()


class QueryResult(NamedTuple):
    rows: list[dict[str, Any]]
    stats: QueryStats


class Backend(Protocol):
    """Runs BigQuery-dialect SQL with named DATE parameters (``@start_date``) and returns rows."""

    name: str

    def run_query(self, table: str, sql: str, parameters: Mapping[str, dt.date]) -> QueryResult:
        """Run ``sql`` for monitored ``table``; raise BackendError with a one-line message on failure."""
        ...

    def dry_run(self, table: str, sql: str, parameters: Mapping[str, dt.date]) -> int | None:
        """Validate ``sql`` without running it; the bytes it would process, where the backend knows."""
        ...

    def describe(self) -> str:
        """Where the data comes from, for reports (a file path, a project id)."""
        ...

    def describe_table(self, table_ref: str) -> TableDescription:
        """The live columns of ``dataset.table`` (normalized BigQuery types), from metadata only:
        no data read, no bytes billed. Raise BackendError when the table does not exist."""
        ...

    def close(self) -> None:
        ...


def as_utc(value: Any) -> Any:
    """Timestamps are UTC inside: naive ones (DuckDB TIMESTAMP) are read as UTC. NUMERIC values
    (``Decimal``) are read as floats: they are judged and written to JSON as numbers."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc)
    if isinstance(value, decimal.Decimal):
        return float(value)
    return value
