"""The go/no-go for the prediction job (SPEC §13): a pure function of the checked date's verdicts
and landings.

hold when a check of the date fails (ERROR or worse, or what --fail-on fails), when a table has
not landed by ready_by minus its margin, or when the run stopped before judging every selected
check; go otherwise. Before the margin, a table not landed yet is no reason to hold: arrival says
"not due yet", and the go/no-go run (05:30) decides. ``final`` says whether every table's margin
had begun at the as-of time: Phase 5 reads the newest final decision (docs/deploy.md, "The gate").
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Mapping, NamedTuple, Sequence, TYPE_CHECKING

from feature_store_health.checks.dimensions.arrival import Landing, clock_hours, wall_hours
from feature_store_health.checks.verdict import Verdict

if TYPE_CHECKING:
    from feature_store_health.config_types import TableConfig

__all__ = ["Gate", "decide"]


class Gate(NamedTuple):
    check_date: dt.date
    as_of: dt.datetime
    decision: str                  # go | hold
    reasons: tuple[str, ...]
    final: bool                    # every table's ready_by minus margin had passed at the as-of time
    tables: Mapping[str, Mapping[str, Any]]   # per table: landed, landed_at, ready_by, cutoff
    partial: str | None = None     # the checks of the date the selection left out (then not recorded)

    def to_json(self) -> dict[str, Any]:
        return {"date": self.check_date.isoformat(), "decision": self.decision, "reasons": list(self.reasons),
                "as_of": self.as_of.astimezone(dt.timezone.utc).isoformat(), "final": self.final,
                "tables": {name: dict(table) for name, table in self.tables.items()},
                **({"partial": self.partial} if self.partial else {})}


def decide(check_date: dt.date, as_of: dt.datetime, verdicts: Sequence[Verdict], landings: Mapping[str, Landing | None],
           tables: Mapping[str, "TableConfig"], fail_on: str, timezone: str, *, incomplete: str | None = None,
           partial: str | None = None, cutoffs: Sequence[dt.datetime] = ()) -> Gate:
    """``cutoffs``: every table's ready_by minus its margin on the date, landed or not, due or not
    (a day off is final too once they passed)."""
    as_of = as_of.astimezone(dt.timezone.utc)
    reasons = [f"{verdict.table} {verdict.dimension} {verdict.severity.value}: {verdict.message}"
               for verdict in verdicts if verdict.check_date == check_date and verdict.severity.fails(fail_on)]
    failing_arrival = {verdict.table for verdict in verdicts if verdict.dimension == "arrival"
                       and verdict.check_date == check_date and verdict.severity.fails(fail_on)}
    shown: dict[str, dict[str, Any]] = {}
    for name, landing in landings.items():
        if landing is None:
            continue
        shown[name] = {"landed": landing.landed, "landed_at": landing.at.isoformat() if landing.landed and landing.at else None,
                       "ready_by": landing.ready.isoformat(), "cutoff": landing.cutoff.isoformat()}
        if not landing.landed and as_of >= landing.cutoff and name not in failing_arrival:
            cutoff = clock_hours(wall_hours(landing.cutoff, check_date, timezone))
            ready = tables[name].ready_by.strftime("%H:%M")
            reasons.append(f"{name} not landed by {cutoff} (ready_by {ready} minus "
                           f"{tables[name].ready_margin_minutes:g} min)")
    if incomplete:
        reasons.append(f"the run is incomplete: {incomplete}")
    final = all(as_of >= cutoff for cutoff in cutoffs)
    return Gate(check_date, as_of, "hold" if reasons else "go", tuple(reasons), final, shown, partial)
