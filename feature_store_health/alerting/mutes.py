"""Mutes with an expiry: ``[[mutes]]`` entries that silence a known, accepted finding for a while.

A muted check is still judged, shown everywhere ("muted until 2026-03-20: <reason>") and counted in
the exit code: the CI gate stays honest. It only sends nothing: no Slack message, no PagerDuty
event. A mute names a table and a dimension, optionally a column and a range of check dates, a
reason and an ``until`` date (New York, inclusive). It lasts at most ``MAX_MUTE_DAYS`` from the
run's day; past ``until`` it is ignored and its expiry reported.

A column mute silences a verdict only when every column the finding concerns is muted
(checks/concerns.py): a second column failing the same check is news, and alerts.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Iterable, NamedTuple, TYPE_CHECKING

from feature_store_health.checks.verdict import Severity, Verdict

if TYPE_CHECKING:
    from feature_store_health.config import TableConfig

__all__ = ["MAX_MUTE_DAYS", "Mute", "MuteError", "RunMutes", "active_and_expired", "check_lengths", "mute_for", "parse_mutes"]

MAX_MUTE_DAYS = 30
_KEYS = {"table", "dimension", "column", "from", "to", "reason", "until"}


class MuteError(ValueError):
    """A [[mutes]] entry that cannot be used: the message says which and what to do."""


class Mute(NamedTuple):
    index: int                     # its place in [[mutes]], for messages
    table: str
    dimension: str
    reason: str
    until: dt.date                 # the last day it holds (New York)
    column: str | None = None
    first_date: dt.date | None = None   # the check dates it covers; None: open-ended
    last_date: dt.date | None = None

    @property
    def label(self) -> str:
        """``muted until 2026-03-20: backfill of March in progress``."""
        return f"muted until {self.until.isoformat()}: {self.reason}"

    def describe(self) -> str:
        """``mutes[0] (player_daily_cache · null_rates · usage_rate_last_10 · 2026-03-10…2026-03-12)``."""
        parts = [self.table, self.dimension]
        if self.column:
            parts.append(self.column)
        if self.first_date or self.last_date:
            parts.append(f"{self.first_date or '…'}…{self.last_date or '…'}")
        return f"mutes[{self.index}] ({' · '.join(parts)})"

    def covers(self, verdict: Verdict) -> bool:
        """Whether it names the verdict's table, dimension and date (a column is the caller's)."""
        if (verdict.table, verdict.dimension) != (self.table, self.dimension):
            return False
        if self.first_date is not None and verdict.check_date < self.first_date:
            return False
        return self.last_date is None or verdict.check_date <= self.last_date

    def to_json(self) -> dict[str, Any]:
        return {"until": self.until.isoformat(), "reason": self.reason, "table": self.table,
                "dimension": self.dimension, "column": self.column,
                "from": self.first_date.isoformat() if self.first_date else None,
                "to": self.last_date.isoformat() if self.last_date else None}


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise MuteError(f"{where} must be a date like 2026-03-20, got {value!r}")


def _columns_of(table: "TableConfig") -> tuple[frozenset[str], str]:
    """The columns a column mute of ``table`` may name: its contract's (a mapping column -> type),
    or, for a table without a contract, its critical features (the only columns it knows)."""
    if table.contract is not None:
        return frozenset(table.contract), "contract"
    return frozenset(table.critical_features), "critical_features (it has no contract)"


def parse_mutes(raw: Any, tables: Iterable["TableConfig"], dimensions: Iterable[str]) -> tuple[Mute, ...]:
    """The [[mutes]] entries, validated against the monitored tables, the registered dimensions and
    each table's contract; any problem is a MuteError naming the entry and the key."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise MuteError("mutes must be [[mutes]] entries (an array of tables)")
    by_name = {table.name: table for table in tables}
    known = set(dimensions)
    mutes = []
    for index, entry in enumerate(raw):
        where = f"mutes[{index}]"
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise MuteError(f"{where}: unknown key {unknown[0]!r}; the keys are {', '.join(sorted(_KEYS))}")
        for key in ("table", "dimension", "reason"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise MuteError(f"{where}.{key} is required: a non-empty string")
        if "until" not in entry:
            raise MuteError(f"{where}.until is required: a mute always ends (at most {MAX_MUTE_DAYS} days ahead); "
                            "add until = YYYY-MM-DD")
        table, dimension = entry["table"].strip(), entry["dimension"].strip()
        if table not in by_name:
            raise MuteError(f"{where}.table = {table!r} is not a monitored table ({', '.join(by_name)})")
        if dimension not in known:
            raise MuteError(f"{where}.dimension = {dimension!r} is not a dimension ({', '.join(sorted(known))})")
        column = entry.get("column")
        if column is not None:
            if not isinstance(column, str) or not column.strip():
                raise MuteError(f"{where}.column must be a column name, got {column!r}")
            column = column.strip()
            from feature_store_health.checks.concerns import TABLE_LEVEL

            if dimension in TABLE_LEVEL:
                raise MuteError(f"{where}.column: a {dimension} finding concerns no column, so a column mute of it "
                                "would never silence anything; remove column to mute the whole check")
            columns, named_in = _columns_of(by_name[table])
            if column not in columns:
                raise MuteError(f"{where}.column = {column!r} is not a column of {table}'s {named_in}")
        first = _date(entry["from"], f"{where}.from") if "from" in entry else None
        last = _date(entry["to"], f"{where}.to") if "to" in entry else None
        if first and last and last < first:
            raise MuteError(f"{where}: to ({last}) is before from ({first})")
        mutes.append(Mute(index, table, dimension, entry["reason"].strip(), _date(entry["until"], f"{where}.until"),
                          column, first, last))
    return tuple(mutes)


def check_lengths(mutes: Iterable[Mute], today: dt.date) -> None:
    """A mute ending more than MAX_MUTE_DAYS after today (New York) is a MuteError: a mute is a
    short, deliberate silence, renewed by a person, never a way to switch a check off."""
    for mute in mutes:
        if (mute.until - today).days > MAX_MUTE_DAYS:
            raise MuteError(f"mutes[{mute.index}].until = {mute.until} is {(mute.until - today).days} days after "
                            f"today ({today}): a mute lasts at most {MAX_MUTE_DAYS} days; set until = "
                            f"{today + dt.timedelta(days=MAX_MUTE_DAYS)} or earlier, and renew it then if still needed")


def active_and_expired(mutes: Iterable[Mute], today: dt.date) -> tuple[tuple[Mute, ...], tuple[Mute, ...]]:
    """(the mutes that hold today, those whose until has passed)."""
    mutes = tuple(mutes)
    return tuple(m for m in mutes if m.until >= today), tuple(m for m in mutes if m.until < today)


def mute_for(verdict: Verdict, active: Iterable[Mute], concerned: tuple[str, ...] = ()) -> Mute | None:
    """The mute that silences ``verdict``, or None. An OK or SKIPPED verdict is never muted (there
    is nothing to silence). A mute without a column covers the check; column mutes cover it when
    together they name every column the finding concerns (``concerned``: checks/concerns.py)."""
    if verdict.severity in (Severity.OK, Severity.SKIPPED):
        return None
    covering = [mute for mute in active if mute.covers(verdict)]
    whole = [mute for mute in covering if mute.column is None]
    if whole:
        return min(whole, key=lambda mute: mute.until)
    by_column = [mute for mute in covering if mute.column is not None]
    if not by_column or not concerned:
        return None
    muted = {mute.column for mute in by_column}
    if not set(concerned) <= muted:
        return None
    return min((mute for mute in by_column if mute.column in concerned), key=lambda mute: mute.until)


class RunMutes:
    """The run's mutes: those holding on the run's day (New York), those expired, and which verdict
    each silences."""

    def __init__(self, mutes: Iterable[Mute], today: dt.date, tables: Iterable["TableConfig"]) -> None:
        self.active, self.expired = active_and_expired(mutes, today)
        self._tables = {table.name: table for table in tables}

    def of(self, verdict: Verdict) -> Mute | None:
        """The mute silencing ``verdict``; None when none does (or the verdict is OK or SKIPPED)."""
        if not self.active:
            return None
        from feature_store_health.checks.concerns import concerned_columns

        table = self._tables.get(verdict.table)
        concerned = concerned_columns(verdict, table) if table is not None else ()
        return mute_for(verdict, self.active, concerned)

    def expired_for(self, verdict: Verdict) -> Mute | None:
        """The expired mute that would have silenced ``verdict`` (and no active one does): it is
        ignored, the check alerts as usual, and its alert line says the mute expired."""
        if not self.expired or self.of(verdict) is not None:
            return None
        from feature_store_health.checks.concerns import concerned_columns

        table = self._tables.get(verdict.table)
        concerned = concerned_columns(verdict, table) if table is not None else ()
        return mute_for(verdict, self.expired, concerned)

    def muted_verdicts(self, verdicts: Iterable[Verdict]) -> list[tuple[Verdict, Mute]]:
        """Each of ``verdicts`` a mute silences, with its mute, in order."""
        return [(verdict, mute) for verdict in verdicts if (mute := self.of(verdict)) is not None]

    def to_json(self, verdicts: Iterable[Verdict]) -> dict[str, Any]:
        """The results JSON's ``mutes``: the active and the expired entries, each with the number of
        this run's checks it silences (active) or would have silenced (expired: they alert as usual)."""
        verdicts = tuple(verdicts)
        silenced = Counter(mute.index for _, mute in self.muted_verdicts(verdicts))
        ignored = Counter(mute.index for verdict in verdicts if (mute := self.expired_for(verdict)) is not None)
        return {"active": [{**mute.to_json(), "checks": silenced[mute.index]} for mute in self.active],
                "expired": [{**mute.to_json(), "checks": ignored[mute.index]} for mute in self.expired]}

    def expiry_lines(self) -> list[str]:
        """One line per expired mute: ``mutes[0] (…) expired on 2026-03-20 and is ignored: remove it ...``."""
        return [f"{mute.describe()} expired on {mute.until} and is ignored: remove it from the config, "
                "or renew it with a new until" for mute in self.expired]
