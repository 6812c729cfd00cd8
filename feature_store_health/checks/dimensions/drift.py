"""drift: each numeric feature's distribution and each category column's mix against the baseline.

Per table and date, in the one aggregate query: a numeric column's rows counted in bins fixed at
the baseline's quantiles (checks/learned.py: the deciles, the outer two split at the 5th and
95th percentiles, plus below the usual minimum, above the usual maximum and NULL), and a
category column's rows per declared value, NULL and "other". Each is scored against the
baseline days' pooled counts with a threshold drawn from the baseline days' own scores at their
own row counts (checks/distributions.py). The distance is symmetric: a spread that widens and
one that collapses both move it; the message says which (the day's standard deviation against
the baseline's).
"""

from __future__ import annotations

import math
import statistics
from typing import Any, Mapping, NamedTuple, TYPE_CHECKING

from feature_store_health.checks.dimensions.anomalies import RELEASE_SHARE
from feature_store_health.checks.dimensions.base import (
    BASE, Dimension, Judgement, JudgeContext, Values, band, nothing_to_judge, settling, settling_metrics, sql_string, unreadable,
)
from feature_store_health.checks.distributions import (
    baseline_scores, day_counts, pooled, share_range, shares, statistic, worst_bins,
)
from feature_store_health.checks.learned import EDGE_QUANTILES, edge, output_metrics
from feature_store_health.checks.metrics import Metric, Source
from feature_store_health.checks.verdict import Severity

if TYPE_CHECKING:
    from feature_store_health.config_types import HealthConfig, TableConfig

__all__ = ["DIMENSION", "DistributionContext", "bins_metric", "categories_metric", "category_values"]

SHOWN_IN_MESSAGE = 3


class DistributionContext(NamedTuple):
    """What drift and continuity judge a date with besides its values."""

    learned: Any = None                  # checks/learned.Learned (None: not learned: why in error)
    # column -> the clean baseline days' values of that column's metric, newest first: (date, value)
    baseline: Mapping[str, list[tuple[Any, Any]]] = {}
    error: str | None = None             # why there is no baseline (the history unreadable)
    notes: Mapping[str, Any] = {}
    # column -> the level an incident flagged on the last game day was judged against (its
    # baseline's pooled counts, median and spread of scores, since, learned id): carried
    carried: Mapping[str, Mapping[str, Any]] = {}


def bins_metric(column: str) -> Metric:
    last = len(EDGE_QUANTILES) - 1
    parts = [f"COUNTIF({column} < {edge(0, column)})"]
    parts += [f"COUNTIF({column} >= {edge(index, column)} AND {column} < {edge(index + 1, column)})"
              for index in range(last - 1)]
    parts += [f"COUNTIF({column} >= {edge(last - 1, column)} AND {column} <= {edge(last, column)})",
              f"COUNTIF({column} > {edge(last, column)})", f"COUNTIF({column} IS NULL)"]
    return Metric(Source.FEATURES, f"bins__{column}", "[" + ", ".join(parts) + "]", empty_value=(), columns=(column,))


def category_values(table: "TableConfig", column: str) -> tuple[str, ...]:
    return next(rule.values for rule in table.value_ranges if rule.column == column)


def categories_metric(table: "TableConfig", column: str) -> Metric:
    values = category_values(table, column)
    parts = [f"COUNTIF({column} = {sql_string(value)})" for value in values]
    listed = ", ".join(sql_string(value) for value in values)
    parts += [f"COUNTIF({column} IS NULL)", f"COUNTIF({column} NOT IN ({listed}))"]
    return Metric(Source.FEATURES, f"categories__{column}", "[" + ", ".join(parts) + "]", empty_value=(),
                  columns=(column,))


def metrics(table: "TableConfig", config: "HealthConfig") -> tuple[Metric, ...]:
    # the profile's stddev metric, shared in the query (imported here: the profile imports dimensions)
    from feature_store_health.checks.profile import stddev_metric

    found = [*BASE]
    found += settling_metrics(table)   # a date still settling is not judged
    for column in table.drift_columns:
        found += [bins_metric(column), stddev_metric(column)]
    found += [categories_metric(table, column) for column in table.category_columns]
    found += output_metrics(table.drift_columns, ())
    return tuple(found)


def bin_labels(edges: tuple[float | None, ...]) -> list[str]:
    names = [f"p{q}" if q not in (0, 100) else ("usual min" if q == 0 else "usual max") for q in EDGE_QUANTILES]
    shown = [f"{value:.4g}" if value is not None else "?" for value in edges]
    labels = [f"< {shown[0]} (below the usual min)"]
    labels += [f"{shown[i]}–{shown[i + 1]} ({names[i]}–{names[i + 1]})" for i in range(len(edges) - 1)]
    labels += [f"> {shown[-1]} (above the usual max)", "NULL"]
    return labels


def _range_text(low: float, high: float) -> str:
    return f"{low:.0f}–{high:.0f} %" if high - low >= 2 else f"{low:.1f}–{high:.1f} %"


def _judge_column(column: str, kind: str, today: list[int], days: list[tuple[Any, list[int], Any]],
                  labels: list[str], limits: Mapping[str, float], stddev: Any,
                  carried: Mapping[str, Any] | None = None, level_of: tuple[Any, str | None] = (None, None)
                  ) -> dict[str, Any]:
    """The column against its baseline days and, while an incident lasts, against the level it
    left (``carried``): the larger score stands, and the incident goes on until the day is back
    within RELEASE_SHARE of the warning score of that level, as anomalies' (a lasting shift
    outliving its clean days would otherwise become the baseline). ``level_of``: (date, learned id)."""
    counts = [found for _, found, _ in days]
    warning = limits["warning_above"]
    reference, median, spread, scored = [], 0.0, 1.0, ()
    value = score = -math.inf
    if counts:
        scores = baseline_scores(counts, limits["minimum_spread"])
        reference, median, spread, scored = pooled(counts), scores.median, scores.spread, scores.scores
        value = statistic(today, reference)
        score = scores.score(value)
    level = {"reference": reference, "median": median, "spread": spread, "since": level_of[0],
             "learned_id": level_of[1]}
    carrying = False
    if carried is not None:
        carried_value = statistic(today, carried["reference"])
        carried_score = (carried_value - carried["median"]) / carried["spread"]
        carrying = carried_score > warning * RELEASE_SHARE   # not back within its level yet: it goes on
        if carried_score > score:
            reference, value, score = list(carried["reference"]), carried_value, carried_score
            median, spread = carried["median"], carried["spread"]
    rows = sum(today)
    order = worst_bins(today, reference)
    worst = order[0]
    behind = [(found[worst], sum(found)) for found in counts] or [(reference[worst], sum(reference))]
    expected = share_range(behind, rows)
    entry: dict[str, Any] = {
        "column": column, "kind": kind, "score": round(score, 2), "statistic": round(value, 3),
        "usual_statistic": [round(median, 3), round(median + warning * spread, 3)],
        "rows": rows, "baseline_days": len(days), "bins": labels,
        "shares": [round(share, 2) for share in shares(today)],
        "baseline_shares": [round(share, 2) for share in shares(reference)],
        "worst_bin": labels[worst], "worst_share": round(shares(today)[worst], 2), "worst_rows": today[worst],
        "worst_expected": [round(expected.low, 2), round(expected.high, 2)],
        "baseline_scores": [round(s, 3) for s in scored],
    }
    if carrying:
        entry["level"], entry["since"] = dict(carried), carried["since"]
    elif score > warning:   # a new incident: today's baseline is its level, carried by the next game days
        entry["level"] = level
    base_sd = [float(sd) for _, _, sd in days if _number(sd)]
    if kind == "numeric" and _number(stddev) and base_sd:
        entry["stddev"] = round(float(stddev), 4)
        entry["baseline_stddev"] = round(statistics.median(base_sd), 4)
    return entry


def _number(value: Any) -> bool:
    """A finite number of any backend's type (BigQuery returns NUMERIC as Decimal)."""
    try:
        return value is not None and not isinstance(value, bool) and float(value) == float(value)
    except (TypeError, ValueError):
        return False


def _describe(entry: Mapping[str, Any]) -> str:
    where = entry["worst_bin"] if entry["kind"] == "category" or entry["worst_bin"] == "NULL" else \
        f"rows {entry['worst_bin']}"
    # the share from the counts, rounded once (its 2-decimal worst_share rounded again can say 7.8 for 7.746)
    share = 100.0 * entry["worst_rows"] / entry["rows"] if entry["rows"] else 0.0
    since = f", off since {entry['since']}" if "since" in entry else ""
    text = (f"{entry['column']}: {where} {share:.1f} % of rows, expected "
            f"{_range_text(*entry['worst_expected'])} (score {entry['score']:.1f}{since})")
    if "stddev" in entry and entry["baseline_stddev"]:
        ratio = entry["stddev"] / entry["baseline_stddev"]
        if ratio >= 1.15 or ratio <= 0.87:
            text += (f"; spread {'wider' if ratio > 1 else 'narrower'}: stddev {entry['stddev']:.3g} against "
                     f"{entry['baseline_stddev']:.3g} (×{ratio:.2f})")
    return text


def judge(values: Values, table: "TableConfig", limits: Mapping[str, float], ctx: JudgeContext) -> Judgement:
    if (skip := nothing_to_judge(values, ctx)) is not None:
        return skip
    early = settling(values, table)
    if early is not None:
        return Judgement(Severity.SKIPPED, None, f"early season: {early:.0f}% of rows {table.early_season_column}: "
                         "distributions still settling, not compared with a baseline", {})
    context: DistributionContext = ctx.distributions or DistributionContext(error="no baseline was prepared")
    if context.error is not None:
        return Judgement(Severity.NOT_EVALUATED, None, f"not evaluated: {context.error}", {})
    needed = ctx.baseline_config.minimum_game_days
    judged, short = [], []
    learned = context.learned
    # a column the live table lacks (or holds retyped) is named, and the others judged
    not_evaluated = unreadable((*table.drift_columns, *table.category_columns), ctx)
    for column in (*table.drift_columns, *table.category_columns):
        if column in not_evaluated:
            continue
        numeric = column in table.drift_columns
        today = day_counts(values, f"bins__{column}" if numeric else f"categories__{column}")
        if numeric:
            edges = learned.edges.get(column) if learned is not None else None
            if today is None or edges is None or any(value is None for value in edges):
                short.append(column)
                continue
            labels = bin_labels(edges)
        else:
            labels = [*category_values(table, column), "NULL", "other"]
        days = [(day, counts, sd) for day, counts, sd in context.baseline.get(column, ())
                if counts is not None and len(counts) == len(labels) and sum(counts)]
        learned_id = learned.id if numeric and learned is not None else None
        carried = (context.carried or {}).get(column)
        if carried is not None and (carried.get("learned_id") != learned_id or len(carried["reference"]) != len(labels)
                                    or not sum(carried["reference"]) or not carried["spread"]):
            carried = None   # counted in other bins: not comparable
        if today is None or len(today) != len(labels) or (len(days) < needed and carried is None):
            short.append(column)
            continue
        judged.append(_judge_column(column, "numeric" if numeric else "category", today,
                                    days if len(days) >= needed else [], labels, limits,
                                    values.get(f"stddev__{column}"), carried,
                                    (ctx.check_date.isoformat() if ctx.check_date else None, learned_id)))
    details: dict[str, Any] = {"columns_judged": len(judged), "columns_without_baseline": short,
                               **dict(context.notes or {})}
    # a column not judged for want of learned bins or baseline days is named, never silently dropped
    unevaluated = f"; without a baseline in the same bins yet: {', '.join(short)}" if short and judged else ""
    if not_evaluated:
        details["not_evaluated_columns"] = not_evaluated
        unevaluated += "; not evaluated: " + ", ".join(f"{column} ({problem})" for column, problem in not_evaluated.items())
    if not judged and not short:
        return Judgement(Severity.NOT_EVALUATED, None, "not evaluated: no tracked column can be read" + unevaluated,
                         details)
    if not judged:
        return Judgement(Severity.SKIPPED, None,
                         f"insufficient history: no column has {needed} baseline game days counted in the same bins"
                         + unevaluated, details)
    judged.sort(key=lambda entry: (-entry["score"], entry["column"]))
    flagged = [entry for entry in judged if "level" in entry]
    details["columns"] = judged
    details["flagged"] = [f"drift:{entry['column']}" for entry in flagged]
    details["columns_affected"] = [entry["column"] for entry in flagged]
    worst = judged[0]
    severity = band(worst["score"], limits, "above")
    if flagged and severity is Severity.OK:   # an incident not yet back within its level: still flagged
        severity = Severity.WARNING
    if not flagged:
        message = (f"{len(judged)} columns within their usual distribution ({worst['baseline_days']} game days); "
                   f"largest score {worst['score']:.1f} ({worst['column']})")
    else:
        named = "; ".join(_describe(entry) for entry in flagged[:SHOWN_IN_MESSAGE])
        more = f"; and {len(flagged) - SHOWN_IN_MESSAGE} more" if len(flagged) > SHOWN_IN_MESSAGE else ""
        message = f"{len(flagged)} of {len(judged)} columns off their usual distribution: {named}{more}"
    return Judgement(severity, round(worst["score"], 2), message + unevaluated, details)


DIMENSION = Dimension(
    "drift", "Drift", "each numeric feature's bins and each category's mix against the baseline days",
    ("warning_above", "error_above", "critical_above", "minimum_spread"), metrics, judge,
    applies=lambda table: bool(table.drift_columns or table.category_columns),
    partial=True,
)
