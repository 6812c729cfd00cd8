"""Which models a run's findings touch: the "Models affected" line of a check (console, HTML,
Slack) and the results JSON's ``models``. Read from the verdicts; never a severity of its own.
"""

from __future__ import annotations

from typing import Any, TYPE_CHECKING

from feature_store_health.checks.concerns import concerned_columns
from feature_store_health.checks.verdict import Severity, Verdict, worst
from feature_store_health.models import TABLE_LEVEL, ModelConfig, model_features, narrowed_table, reads_table

if TYPE_CHECKING:
    from feature_store_health.run import HealthRun

__all__ = ["FEATURES_NAMED", "affected_models", "models_affected_line", "models_json"]

FEATURES_NAMED = 5   # a model's affected features named in a line; the rest are "…"


def affected_models(run: "HealthRun", verdict: Verdict) -> list[tuple[ModelConfig, tuple[str, ...]]]:
    """The configured models reading a column ``verdict`` is not OK about, each with those columns
    (in the verdict's order: the worst first)."""
    if not run.config.models:
        return []
    table = run.table(verdict.table)
    columns = concerned_columns(verdict, table)
    found = []
    for model in run.config.models:
        read = set(model_features(model, table))
        touched = tuple(column for column in columns if column in read)
        if touched:
            found.append((model, touched))
    return found


def models_affected_line(run: "HealthRun", verdict: Verdict) -> str | None:
    """``Models affected: catboost_v9 (3 of 38 features: minutes_avg_last_10, …)``; None when the
    check names no column a configured model reads."""
    found = affected_models(run, verdict)
    if not found:
        return None

    def one(model: ModelConfig, touched: tuple[str, ...]) -> str:
        named = ", ".join(touched[:FEATURES_NAMED]) + (", …" if len(touched) > FEATURES_NAMED else "")
        return f"{model.name} ({len(touched)} of {len(model.features)} features: {named})"

    return "Models affected: " + "; ".join(one(model, touched) for model, touched in found)


def _counts_for(model: ModelConfig, verdict: Verdict, run: "HealthRun") -> tuple[bool, tuple[str, ...]]:
    """Whether ``verdict`` is one of the checks ``--model`` would run for ``model`` (a table-level
    check of a table it reads, or a check of its features), and the features it is not OK about."""
    from feature_store_health.checks.plan import applicable_dimensions

    table = run.table(verdict.table)
    if not reads_table(model, table):
        return False, ()
    if verdict.dimension not in TABLE_LEVEL \
            and verdict.dimension not in applicable_dimensions(narrowed_table(model, table)):
        return False, ()   # none of its features is in this dimension's columns
    columns = concerned_columns(verdict, table)
    read = model_features(model, table)
    touched = tuple(feature for feature in read if feature in columns)
    # a column-level finding about other models' columns only is not this model's
    return (not columns or bool(touched) or verdict.dimension in TABLE_LEVEL), touched


def models_json(run: "HealthRun") -> dict[str, Any] | None:
    """name -> {"status", "owner", "tables", "features_affected", "checks"}: per configured model,
    the worst severity of the run's checks that ``--model=NAME`` would run (every date of the run;
    NOT_SELECTED when none of them ran), the features the not-OK ones name, and those checks. None
    without [[models]] (the key is then left out)."""
    if not run.config.models:
        return None
    document = {}
    for model in run.config.models:
        severities: list[Severity] = []
        affected: list[str] = []
        checks = []
        for verdict in run.verdicts:
            counted, touched = _counts_for(model, verdict, run)
            if not counted:
                continue
            severities.append(verdict.severity)
            affected.extend(touched)
            if verdict.severity not in (Severity.OK, Severity.SKIPPED):
                checks.append({"table": verdict.table, "date": verdict.check_date.isoformat(),
                               "dimension": verdict.dimension, "severity": verdict.severity.value,
                               "features": list(touched)})
        judged = [severity for severity in severities if severity is not Severity.SKIPPED]
        status = worst(*judged).value if judged else ("SKIPPED" if severities else "NOT_SELECTED")
        tables = [table.name for table in run.config.tables if reads_table(model, table)]
        document[model.name] = {"status": status, "owner": model.owner, "tables": tables,
                                "features_affected": [feature for feature in model.features if feature in affected],
                                "checks": checks}
    return document
