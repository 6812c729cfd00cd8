"""A table's contract (BigQuery JSON schema) against its live columns.

Types are compared in BigQuery's vocabulary: DuckDB's ``VARCHAR`` is ``STRING``, ``BIGINT`` is
``INT64``, ``DECIMAL(38,9)`` is ``NUMERIC``, ``VARCHAR[]`` is a REPEATED ``STRING[]``. A column
is *usable* by a metric when it exists with a type of the same kind as the contract's (numbers,
text, booleans, timestamps, dates, arrays): a metric over a missing or retyped column is left out
of the one query, so only the checks that need it are NOT_EVALUATED.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Mapping, NamedTuple

__all__ = ["ContractError", "SchemaReport", "compare", "kind", "load_contract", "normalize_bigquery_type",
           "normalize_duckdb_type"]

_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$")
_BIGQUERY_ALIASES = {"INTEGER": "INT64", "FLOAT": "FLOAT64", "BOOLEAN": "BOOL", "BIGDECIMAL": "BIGNUMERIC",
                     "DECIMAL": "NUMERIC", "STRUCT": "RECORD"}
_KNOWN = {"STRING", "BYTES", "INT64", "FLOAT64", "NUMERIC", "BIGNUMERIC", "BOOL", "DATE", "DATETIME", "TIME",
          "TIMESTAMP", "JSON", "GEOGRAPHY", "RECORD", "INTERVAL"}
_KINDS = {"INT64": "number", "FLOAT64": "number", "NUMERIC": "number", "BIGNUMERIC": "number", "STRING": "text",
          "BOOL": "bool", "DATE": "date", "DATETIME": "timestamp", "TIMESTAMP": "timestamp"}
_DUCKDB = {
    "VARCHAR": "STRING", "TEXT": "STRING", "STRING": "STRING", "BLOB": "BYTES",
    "BIGINT": "INT64", "INTEGER": "INT64", "INT": "INT64", "SMALLINT": "INT64", "TINYINT": "INT64", "HUGEINT": "INT64",
    "UBIGINT": "INT64", "UINTEGER": "INT64", "USMALLINT": "INT64", "UTINYINT": "INT64",
    "DOUBLE": "FLOAT64", "FLOAT": "FLOAT64", "REAL": "FLOAT64",
    "BOOLEAN": "BOOL", "DATE": "DATE", "TIME": "TIME", "INTERVAL": "INTERVAL", "JSON": "JSON",
    "TIMESTAMP": "TIMESTAMP", "TIMESTAMP WITH TIME ZONE": "TIMESTAMP", "TIMESTAMPTZ": "TIMESTAMP",
    "TIMESTAMP_S": "TIMESTAMP", "TIMESTAMP_MS": "TIMESTAMP", "TIMESTAMP_NS": "TIMESTAMP",
}


class ContractError(ValueError):
    """The contract file is missing or not a BigQuery JSON schema; the message says which."""


def normalize_bigquery_type(field_type: str, mode: str | None = None) -> str:
    base = _BIGQUERY_ALIASES.get(field_type.upper(), field_type.upper())
    return base + "[]" if (mode or "").upper() == "REPEATED" else base


def normalize_duckdb_type(data_type: str) -> str:
    text = data_type.strip().upper()
    if text.endswith("[]"):
        return normalize_duckdb_type(text[:-2]) + "[]"
    if text.startswith(("DECIMAL", "NUMERIC")):
        return "NUMERIC"
    return _DUCKDB.get(text, text)


def kind(column_type: str) -> str:
    """What a metric may do with a column: number, text, bool, date, timestamp, array (or the type)."""
    return "array" if column_type.endswith("[]") else _KINDS.get(column_type, column_type)


def load_contract(path: Path) -> dict[str, str]:
    """Column name -> normalized type, in the contract's order."""
    try:
        fields = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"contract file not found: {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ContractError(f"contract {path} is not a readable JSON schema: {exc}") from None
    if not isinstance(fields, list) or not fields:
        raise ContractError(f"contract {path}: expected a JSON list of fields (BigQuery JSON schema format)")
    columns: dict[str, str] = {}
    for index, field in enumerate(fields):
        if not isinstance(field, dict) or not isinstance(field.get("name"), str) or not isinstance(field.get("type"), str):
            raise ContractError(f"contract {path}: field {index} needs a string name and type")
        name = field["name"]
        if not _COLUMN.match(name):
            raise ContractError(f"contract {path}: {name!r} is not a column name")
        column_type = normalize_bigquery_type(field["type"], field.get("mode"))
        if column_type.removesuffix("[]") not in _KNOWN:
            raise ContractError(f"contract {path}: column {name} has an unknown type {field['type']!r}")
        if name.lower() in (known.lower() for known in columns):
            raise ContractError(f"contract {path}: column {name} is listed twice")
        columns[name] = column_type
    return columns


class SchemaReport(NamedTuple):
    """The live columns of a table against its contract (None: no contract configured)."""

    table: str                                  # dataset.table, for messages
    live: Mapping[str, str]                     # column -> normalized type, as the warehouse says
    contract: Mapping[str, str] | None
    read_by: Mapping[str, tuple[str, ...]]      # column -> the checks that read it
    # types the warehouse cannot tell apart (DuckDB: NUMERIC and FLOAT64 are DECIMAL or DOUBLE)
    equivalent: tuple[frozenset[str], ...] = ()

    def _same(self, expected: str, live: str) -> bool:
        return expected == live or any({expected, live} <= group for group in self.equivalent)

    def _find(self, column: str) -> str | None:
        """The live name of ``column`` (column names ignore case, as in BigQuery)."""
        if column in self.live:
            return column
        return next((name for name in self.live if name.lower() == column.lower()), None)

    def live_type(self, column: str) -> str | None:
        """The column's type as the warehouse says (None: no such column)."""
        live = self._find(column)
        return None if live is None else self.live[live]

    def usable(self, column: str) -> bool:
        live = self._find(column)
        if live is None:
            return False
        expected = (self.contract or {}).get(column)
        return expected is None or kind(expected) == kind(self.live[live])

    def problem(self, column: str) -> str | None:
        """Why a metric cannot read ``column``, in one phrase; None when it can."""
        live = self._find(column)
        if live is None:
            return f"column {column} is missing from {self.table}"
        if not self.usable(column):
            return f"column {column} is {self.live[live]} in {self.table}, the contract says {self.contract[column]}"
        return None

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(column for column in self.contract or () if self._find(column) is None)

    @property
    def retyped(self) -> tuple[tuple[str, str, str], ...]:
        """(column, contract type, live type) for every column whose type differs."""
        contract = self.contract or {}
        return tuple((column, expected, self.live[live]) for column, expected in contract.items()
                     if (live := self._find(column)) is not None and not self._same(expected, self.live[live]))

    @property
    def extra(self) -> tuple[str, ...]:
        if self.contract is None:
            return ()
        known = {column.lower() for column in self.contract}
        return tuple(column for column in self.live if column.lower() not in known)


def compare(table: str, live: Mapping[str, str], contract: Mapping[str, str] | None,
            read_by: Mapping[str, tuple[str, ...]], equivalent: tuple[frozenset[str], ...] = ()) -> SchemaReport:
    return SchemaReport(table, dict(live), dict(contract) if contract is not None else None, dict(read_by),
                        tuple(equivalent))
