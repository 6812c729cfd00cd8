"""Recording the run: every fetched date's metrics (when the query computed every metric a later
baseline reads) and every verdict, with the records of the run's decisions, in one write.

A part of the run state (``HealthRun`` mixes it in; its history store and reads: run_history.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from typing import Any

from feature_store_health.backends.base import BackendError
from feature_store_health.checks.baseline_days import FIRST_LANDED, LANDING_PENDING, first_landing
from feature_store_health.checks.verdict import Verdict
from feature_store_health.history import HistoryError, RunInfo, history_rows
from feature_store_health.history.records import day_fingerprint, record_row

__all__ = ["Recording"]


class Recording:
    """The history write of a HealthRun (its history store, fetched values, verdicts and records)."""

    def record_history(self) -> str | None:
        """Write every fetched date's metrics and every verdict to the history, in one write.
        Returns an ERROR note when it could not be written (None when written or history off)."""
        try:
            store = self.history_store
        except HistoryError as exc:
            self.history_write = {"error": str(exc)}
            return f"ERROR: history not written: {exc}"
        if store is None:
            return None
        if self.settings.model is not None:
            # its verdicts judged the model's features only: recorded, they would stand for the
            # table's day in later baselines and incidents (a NULL-rate ERROR of another column
            # overwritten by an OK), and its gate is no decision for every model
            self.history_write = {"skipped": f"--model={self.settings.model}: a model's run records nothing",
                                  "location": store.location}
            return None
        started = time.perf_counter()  # the write's cost: encoding its rows, then storing them
        info = RunInfo(self.run_id, self.started_at, self.settings.backend, self.source_description(),
                       hashlib.sha256(repr(self.config).encode()).hexdigest()[:16])
        verdicts: dict[tuple[str, dt.date], list[Verdict]] = {}
        # the checks that ran, and the anomalies judged ahead for later baselines that no test reported
        for verdict in [*self.verdicts, *(found for spec, found in self._judged_early.items() if spec not in self._verdicts)]:
            verdicts.setdefault((verdict.table, verdict.check_date), []).append(verdict)
        rows: list[dict[str, Any]] = []
        for table in self.config.tables:
            fetched = self._fetched.get(table.name)
            by_date = {} if fetched is None or isinstance(fetched, BackendError) else fetched
            complete = self.query_scope(table).complete()
            for check_date, values in sorted({**self._before_window.get(table.name, {}), **by_date}.items()):
                if not values.get("row_count") and self.expired(table, check_date):
                    continue  # an expired partition: its recorded values stay the newest
                found = self._with_first_landing(table.name, check_date, values)
                written = found if complete or self._adds_to_record(table.name, check_date, found) else {}
                rows.extend(history_rows(info, table.name, check_date, written,
                                         verdicts.pop((table.name, check_date), ()), self._verdict_metrics,
                                         judged=None if written else found))
        for (table_name, check_date), remaining in verdicts.items():  # verdicts of dates with no metrics
            # a recorded day judged ahead: its verdicts keep the fingerprint of the rows they judged
            recorded = (self._history if isinstance(self._history, dict) else {}).get((table_name, check_date)) or {}
            rows.extend(history_rows(info, table_name, check_date, {}, remaining, self._verdict_metrics, judged=recorded))
        # what the run decided beside its verdicts (the gate, incidents, reprocess requests)
        rows.extend(record_row(info, table_name, check_date, name, payload)
                    for table_name, check_date, name, payload in self.records)
        try:
            store.write(rows)
        except HistoryError as exc:
            self.history_write = {"error": str(exc)}
            return f"ERROR: history not written: {exc}"
        self.history_write = {"location": store.location, "rows": len(rows),
                              "seconds": round(time.perf_counter() - started, 4)}
        return None

    def _adds_to_record(self, table_name: str, check_date: dt.date, values: dict[str, Any]) -> bool:
        """Whether a query narrowed to the selected checks (-m, -k), lacking other checks' metrics,
        may record its values of a day: only over a record of the same rows (its fingerprint), or
        none. Over a record of other rows (rerun since) it would leave the older rows' remaining
        metrics standing as the new rows'; its verdicts are recorded, with their rows' fingerprint,
        and the next whole run records the day."""
        if isinstance(self._history, dict):
            recorded = self._history
        elif check_date in self.settings.dates:
            try:
                recorded = self.run_dates_history()   # read for the run's incidents anyway
            except HistoryError:
                return False   # the day's record cannot be read: what it holds is unknown
        else:
            return False
        known = recorded.get((table_name, check_date)) or {}
        if "row_count" not in known and "max_processed_at" not in known:
            return True
        return day_fingerprint(known) == day_fingerprint(values)

    def _with_first_landing(self, table_name: str, check_date: dt.date, values: dict[str, Any]) -> dict[str, Any]:
        """A date's values as recorded: with its first landing, kept from its first record (a
        rerun or backfill later moves MAX(processed_at), not the night's landing)."""
        landed = values.get("max_processed_at")
        if not isinstance(landed, dt.datetime) or not isinstance(self._history, dict):
            return values  # the history was not read (nothing judged against it): its record stands
        recorded = self._history.get((table_name, check_date)) or {}
        first = first_landing(recorded)
        if first is None and check_date in self.settings.dates:
            landing = self.landing(table_name, check_date)
            if landing is not None and not landing.landed:   # short of rows, or rows after the as-of
                return {**values, LANDING_PENDING: True}
        settled = {LANDING_PENDING: False} if recorded.get(LANDING_PENDING) else {}   # landed since
        return {**values, **settled, FIRST_LANDED: first or values.get(FIRST_LANDED) or landed}

