"""Checks judged while a check waits for its query: the main thread's idle time put to use.

A part of the run state (``HealthRun`` mixes it in). The queries are sent at once (run_ahead.py),
but pytest runs the checks in their order, grouped by table: a table whose query ended early waits
behind the checks of one whose query still runs (the feature cache's, the largest, comes first).
So while a check waits for its query, the checks after it in pytest's order whose tables' queries
have all ended are judged now, in that order, each table's from its first check not judged yet,
until the query waited for ends. Each verdict is kept until pytest reaches its check
(``judge`` takes it there), and is the verdict it would have judged there:

- a check reads its own table's values, the history, and the verdicts of its table's checks
  before it in pytest's order; those are judged (or judged ahead, in the same order) by then;
- the queries it read are recorded when pytest reaches it: the results JSON lists them in the
  order the checks read them, as a run that judges each check in its turn;
- what pytest never reaches (an interrupted run) is not reported and not recorded in the history:
  a query read only for it is listed as not read, as one no check read.

Only where pytest runs every selected check: never with -x/--maxfail or --stepwise, which stop
at the first failure and would leave a table's checks judged and never shown.
"""

from __future__ import annotations

import concurrent.futures
from typing import Any

from feature_store_health.checks.plan import CheckSpec
from feature_store_health.checks.verdict import Verdict

__all__ = ["Ahead", "JudgeAhead"]


class Ahead:
    """A check judged ahead of pytest: its verdict, and what reading its values did, applied when
    pytest reaches it: the queries it read that were sent ahead (their keys, still in ``_ahead``
    until then) and the queries' records; the earlier days judged for its baseline (``_judged_early``)."""

    __slots__ = ("spec", "verdict", "keys", "records", "early", "taken")

    def __init__(self, spec: CheckSpec) -> None:
        self.spec = spec
        self.verdict: Verdict | None = None
        self.keys: list[Any] = []
        self.records: list[tuple[Any, str, dict, bool]] = []   # (stats, purpose, parameters, sent ahead)
        self.early: list[CheckSpec] = []
        self.taken = False   # pytest reached its check, or dropped it (see drop_judged_ahead)


class JudgeAhead:
    """The checks of a HealthRun judged while one of them waits (its selection, verdicts and queries)."""

    judges_ahead: bool   # set by the plugin: pytest runs every selected check (no -x, no --stepwise)
    _judged_ahead: dict[CheckSpec, Ahead]   # judged, pytest not there yet
    _aheads: list[Ahead]                    # every check judged ahead (or begun: a Ctrl-C mid-way)
    _judging_ahead: Ahead | None            # the check being judged ahead now
    _judging: CheckSpec | None              # the check pytest is judging now

    def judge_while_waiting(self, table_name: str, future: concurrent.futures.Future) -> None:
        """Before a check of ``table_name`` waits for ``future``: judge the checks after it whose
        tables' queries have all ended, in pytest's order, until ``future`` is done."""
        if not self.judges_ahead or self._judging_ahead is not None:
            return
        while not future.done():
            # a table is ready once none of its queries sent ahead still runs; fixed for this pass,
            # so a table that becomes ready later starts from its first check in the next one
            running = [sent for _purpose, sent in self._ahead.values() if not sent.done()]
            pending = {key[0] for key, (_purpose, sent) in self._ahead.items() if not sent.done()}
            pending.add(table_name)
            if self._judging is not None:
                pending.add(self._judging.table)
            for spec in self.selected:
                if future.done():
                    return
                if spec.table in pending or spec in self._verdicts or spec in self._judged_ahead \
                        or spec in self._judged_early:
                    continue
                ahead = self._judging_ahead = Ahead(spec)
                self._aheads.append(ahead)
                try:
                    ahead.verdict = self._judge(spec)
                finally:
                    self._judging_ahead = None
                self._judged_ahead[spec] = ahead
            if not running:
                return   # every other table's checks judged: nothing left to do but wait
            # until the query waited for ends, or another one does (its table's checks are next)
            concurrent.futures.wait([future, *running], return_when=concurrent.futures.FIRST_COMPLETED)

    def take_judged_ahead(self, spec: CheckSpec) -> Verdict | None:
        """The verdict judged ahead for ``spec`` (None: none), its queries now recorded as read."""
        ahead = self._judged_ahead.pop(spec, None)
        if ahead is None:
            return None
        self._apply_ahead(ahead)
        return ahead.verdict

    def drop_judged_ahead(self, table_name: str) -> None:
        """A check of ``table_name`` judged ahead that pytest recorded otherwise (skipped or failed
        in its setup): that one and the table's later checks judged ahead are judged again in their
        turn, against what pytest recorded. The queries they read are recorded as read now."""
        for spec in [spec for spec in self._judged_ahead if spec.table == table_name]:
            self._apply_ahead(self._judged_ahead.pop(spec))

    def _apply_ahead(self, ahead: Ahead) -> None:
        ahead.taken = True
        for key in ahead.keys:
            self._ahead.pop(key, None)
        for stats, purpose, parameters, _sent in ahead.records:
            self._record_query(stats, purpose, parameters)

    def settle_judged_ahead(self) -> None:
        """At the run's end, before the queries sent ahead are settled: checks judged ahead that
        pytest never reached. Their queries sent ahead are still unread (settle_ahead lists them
        as not read); a query run for them that was not sent ahead is recorded: it ran, and cost."""
        for ahead in self._aheads:
            if not ahead.taken:
                ahead.taken = True
                for stats, purpose, parameters, sent in ahead.records:
                    if not sent:
                        self._record_query(stats, purpose, parameters)

    def early_not_reached(self) -> set[CheckSpec]:
        """The earlier days judged for the baselines of checks judged ahead that pytest never
        reached: not recorded with the run (a run judging in turn never judged them)."""
        return {spec for ahead in self._judged_ahead.values() for spec in ahead.early} | \
               {spec for ahead in self._aheads if ahead.verdict is None for spec in ahead.early}

    def verdict_so_far(self, spec: CheckSpec) -> Verdict | None:
        """A check's verdict in this run as a later check of its table sees it: reported, judged
        early for a baseline, or judged ahead of pytest."""
        found = self._verdicts.get(spec) or self._judged_early.get(spec)
        if found is None and spec in self._judged_ahead:
            return self._judged_ahead[spec].verdict
        return found
