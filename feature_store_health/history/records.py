"""History rows: one per (run, table, date, metric or verdict), typed so reports can read them back."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any, Callable, Iterable, Mapping, NamedTuple, Protocol, Sequence

__all__ = ["HISTORY_COLUMNS", "HistoryError", "HistoryStore", "Names", "READ_COLUMNS", "RECORD_KIND", "RunInfo", "VERDICT_PREFIX",
           "day_fingerprint", "decode_into", "decode_rows", "encode", "flagged_levels", "flagged_metrics", "history_rows", "ndjson",
           "record_row"]

# name -> BigQuery type; the same columns in the DuckDB file
HISTORY_COLUMNS = {
    "run_id": "STRING",          # one run: its start time and process, unique across concurrent runs
    "run_at": "TIMESTAMP",       # when the run started (UTC); the newest run's value wins
    "backend": "STRING",
    "source": "STRING",          # the warehouse: a DuckDB file or a BigQuery project
    "config_hash": "STRING",     # the configuration the run judged with
    "table_name": "STRING",      # the monitored table's name in the config
    "check_date": "DATE",
    "name": "STRING",            # a metric of the table's query, or verdict:<dimension>
    "kind": "STRING",            # int | float | timestamp | date | text | json | null | verdict
    "value": "FLOAT64",          # numbers; a timestamp's epoch seconds; a verdict's judged value
    "text": "STRING",            # text, ISO dates and times, JSON arrays; a verdict's severity and message
}

VERDICT_PREFIX = "verdict:"
# a JSON object recorded beside the metrics: the gate's decision, an incident's state, a reprocess
# request (read back as a dict under its name)
RECORD_KIND = "record"


class HistoryError(Exception):
    """The history could not be read or written; one line a user can act on."""


class Names(NamedTuple):
    """A read of some names only: these exactly, and every name starting with one of ``prefixes``
    (constants of the code, e.g. ``verdict:``, never user input)."""

    names: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()


class RunInfo(NamedTuple):
    run_id: str
    run_at: dt.datetime
    backend: str
    source: str
    config_hash: str


class HistoryStore(Protocol):
    location: str   # for messages and the results JSON (a file path or project.dataset.table)

    def read(self, tables: Sequence[str], start: dt.date, end: dt.date, source: str,
             only: "Names | None" = None) -> dict[tuple[str, dt.date], dict[str, Any]]:
        """Metric values per (table, date) in [start, end] recorded from ``source`` (the warehouse:
        another warehouse's numbers are no baseline of this one): the newest run's value of each.
        ``only``: just these names (and those with its prefixes), e.g. the dashboard's few per day
        instead of the ~500 metrics."""
        ...

    def write(self, rows: list[dict[str, Any]]) -> None:
        """Append ``rows`` in one write (a load job on BigQuery, one transaction in DuckDB)."""
        ...


def encode(value: Any) -> tuple[str, float | None, str | None]:
    """(kind, value, text) of a metric value."""
    if value is None:
        return "null", None, None
    if isinstance(value, bool):
        return "int", float(value), None
    if isinstance(value, int):
        return "int", float(value), None
    if isinstance(value, float):
        return ("float", value, None) if math.isfinite(value) else ("text", None, repr(value))
    if isinstance(value, dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        return "timestamp", moment.timestamp(), moment.astimezone(dt.timezone.utc).isoformat()
    if isinstance(value, dt.date):
        return "date", None, value.isoformat()
    if isinstance(value, str):
        return "text", None, value
    if isinstance(value, (list, tuple)):
        return "json", None, json.dumps(list(value), default=str)
    return "text", None, str(value)


def decode(kind: str, value: float | None, text: str | None) -> Any:
    if kind == "int":
        return None if value is None else int(value)
    if kind == "float":
        return value
    if kind == "timestamp":
        return None if text is None else dt.datetime.fromisoformat(text).astimezone(dt.timezone.utc)
    if kind == "date":
        return None if text is None else dt.date.fromisoformat(text)
    if kind == "json":
        return tuple(json.loads(text)) if text else ()
    if kind == "null":
        return None
    return text


def history_rows(run: RunInfo, table: str, check_date: dt.date, values: Mapping[str, Any],
                 verdicts: Iterable[Any] = (), flagged_of: Callable[[Any], list[str]] | None = None,
                 judged: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """The rows recording one table's date: each metric, then each verdict, with the metrics it
    holds against the day as a baseline day (``flagged_of``; anomalies' flagged ones by default)
    and the fingerprint of the rows it judged (``judged``'s, when those are not ``values``: a
    recorded day judged ahead, whose metrics are not written again)."""
    base = {"run_id": run.run_id, "run_at": run.run_at.astimezone(dt.timezone.utc).isoformat(),
            "backend": run.backend, "source": run.source, "config_hash": run.config_hash,
            "table_name": table, "check_date": check_date.isoformat()}
    rows = []
    for name, metric_value in values.items():
        kind, number, text = encode(metric_value)
        rows.append({**base, "name": name, "kind": kind, "value": number, "text": text})
    fingerprint = day_fingerprint(values if judged is None else judged)
    for verdict in verdicts:
        number = verdict.value if isinstance(verdict.value, (int, float)) and not isinstance(verdict.value, bool) \
            and math.isfinite(verdict.value) else None
        recorded = {"severity": verdict.severity.value, "message": verdict.message, "fingerprint": fingerprint}
        flagged = flagged_of(verdict) if flagged_of is not None else flagged_metrics(verdict.details)
        if flagged:
            recorded["flagged"] = flagged
        levels = flagged_levels(verdict.details)
        if levels:
            recorded["levels"] = levels
        rows.append({**base, "name": VERDICT_PREFIX + verdict.dimension, "kind": "verdict", "value": number,
                     "text": json.dumps(recorded)})
    return rows


def record_row(run: RunInfo, table: str, check_date: dt.date, name: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """One recorded JSON object (kind ``record``) of a table's date, e.g. ``gate`` or ``incident:coverage``."""
    return {"run_id": run.run_id, "run_at": run.run_at.astimezone(dt.timezone.utc).isoformat(),
            "backend": run.backend, "source": run.source, "config_hash": run.config_hash,
            "table_name": table, "check_date": check_date.isoformat(), "name": name, "kind": RECORD_KIND,
            "value": None, "text": json.dumps(dict(payload), default=str, sort_keys=True)}


def day_fingerprint(values: Mapping[str, Any]) -> list[Any]:
    """What identifies the rows a date's values were computed from: their count and the latest
    processed_at (ISO, UTC). A rerun or backfill of the date changes it."""
    landed = values.get("max_processed_at")
    return [values.get("row_count"), encode(landed)[2] if isinstance(landed, dt.datetime) else None]


def flagged_levels(details: Mapping[str, Any] | None) -> dict[str, Any]:
    """The level each flagged metric was judged against (anomalies: [baseline median, spread,
    since]; drift, per column: its baseline's pooled counts, median and spread of scores, since):
    carried while the incident lasts, so it is judged against its level from before it began."""
    levels: dict[str, Any] = {drift["metric"]: list(drift["level"]) for drift in (details or {}).get("drifts", ())
                              if drift.get("flagged") and drift.get("level")}
    levels.update({f"drift:{entry['column']}": dict(entry["level"]) for entry in (details or {}).get("columns", ())
                   if isinstance(entry, Mapping) and entry.get("level")})
    return levels


def flagged_metrics(details: Mapping[str, Any] | None) -> list[str]:
    """The tracked metrics a verdict flagged: anomalies' drifts beyond the warning score (those
    judged against an incident's carried level included)."""
    return [drift["metric"] for drift in (details or {}).get("drifts", ()) if drift.get("flagged")]


READ_COLUMNS = ("table_name", "check_date", "name", "kind", "value", "text")  # what a read selects, in order


def decode_rows(rows: Iterable[Sequence[Any]],
                damaged: list[str] | None = None) -> dict[tuple[str, dt.date], dict[str, Any]]:
    """Rows read back as READ_COLUMNS tuples (newest per metric and per verdict) -> values per
    (table, date); a verdict is a dict under ``verdict:<dimension>``. Numbers, the bulk of them,
    are decoded inline. A value that cannot be decoded is left out and named in ``damaged``
    (without that list, it is a HistoryError)."""
    result: dict[tuple[str, dt.date], dict[str, Any]] = {}
    for table_name, check_date, name, kind, value, text in rows:
        if isinstance(check_date, dt.datetime):
            check_date = check_date.date()
        elif isinstance(check_date, str):
            check_date = dt.date.fromisoformat(check_date)
        key = (table_name, check_date)
        values = result.get(key)
        if values is None:
            values = result[key] = {}
        if kind == "float":
            values[name] = value
        elif kind == "int":
            values[name] = None if value is None else int(value)
        else:
            decode_into(values, table_name, check_date, name, kind, value, text, damaged)
    return result


def decode_into(values: dict[str, Any], table_name: str, check_date: dt.date, name: str, kind: str,
                value: float | None, text: str | None, damaged: list[str] | None) -> None:
    """One value of another kind than a number into a day's ``values`` (decode_rows, and the
    DuckDB history's digest: history/latest.py): a verdict or record as its dict, the rest decoded;
    a value that cannot be decoded is named in ``damaged`` (without that list, a HistoryError)."""
    if kind == "verdict" or kind == RECORD_KIND:
        # a verdict: {"severity", "message", "fingerprint", "flagged"?}, what baselines leave out;
        # a record: the JSON object it was written as
        values[name] = _verdict(text)
        return
    try:
        values[name] = decode(kind, value, text)
    except (ValueError, TypeError) as exc:
        # one damaged value costs that value only: the day's other metrics still serve
        if damaged is None:
            raise HistoryError(f"a {kind} value of {name} on {check_date} ({table_name}) cannot be "
                               f"read ({exc})") from None
        damaged.append(f"{table_name} {check_date} {name} ({kind} {text!r})")


def _verdict(text: str | None) -> dict[str, Any]:
    try:
        recorded = json.loads(text) if text else {}
    except ValueError:
        recorded = {}
    return recorded if isinstance(recorded, dict) else {}


def ndjson(rows: list[dict[str, Any]]) -> bytes:
    encode = json.JSONEncoder(allow_nan=False, separators=(",", ":")).encode
    return "".join(encode(row) + "\n" for row in rows).encode()
