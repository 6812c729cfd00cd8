"""The HTML report's sections below the checks: the gate, the reprocess requests, the models
affected, the date x dimension matrix, the drift against the baseline, the column profile and, for
more than one date, the weekly trend tables and charts (html_report.py puts them on the page)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.trend import configured_fields
from feature_store_health.reporting.html_parts import SEVERITY_COLORS, _badge, _e, _table
from feature_store_health.reporting.models_affected import models_affected_line

if TYPE_CHECKING:
    from feature_store_health.run import HealthRun

__all__ = ["columns_html", "drift_html", "gate_html", "matrix_html", "models_affected_html", "reprocess_html",
           "weekly_html"]


def models_affected_html(run: "HealthRun") -> str:
    """[[models]]: each check not OK that names a column a model reads, with those models."""
    rows = [(v.check_date, v.table, DIMENSIONS[v.dimension].label, _badge(v.severity),
             line.removeprefix("Models affected: ")) for v in run.verdicts if (line := models_affected_line(run, v))]
    if not rows:
        return ""
    return ('<h3 class="models-affected">Models affected</h3>'
            + _table(("date", "table", "check", "severity", "models affected"), rows, raw_columns=(3,)))


def gate_html(run: "HealthRun") -> str:
    """The go/no-go of the checked date for the prediction job (decided from the same verdicts the
    results JSON records it from)."""
    gate = run.gate_decision or run.gate()
    when = "final: the go/no-go" if gate.final else "not final: before ready_by minus the margin"
    reasons = "".join(f"<li>{_e(reason)}</li>" for reason in gate.reasons)
    return (f'<p class="gate">Gate for {_e(gate.check_date)}: <b>{_e(gate.decision)}</b> ({_e(when)})</p>'
            + (f"<ul>{reasons}</ul>" if reasons else ""))


def reprocess_html(run: "HealthRun") -> str:
    """The reprocess requests ([remediation]): what was sent and answered, or held and why."""
    outcomes = getattr(run, "reprocess_outcomes", ())
    if not outcomes:
        return ""
    return "<h3>Reprocess requests</h3>" + _table(
        ("date", "table", "trigger", "decision", "outcome"),
        ((o.check_date, o.table, f"{o.body['dimension']} {o.body['severity']}: {o.body['reason']}", o.decision,
          o.outcome) for o in outcomes))


def matrix_html(run: "HealthRun") -> str:
    """Dates x dimensions per table: a coloured cell per check, its value shown, its message on hover."""
    parts = []
    for table in run.config.tables:
        verdicts = {(v.check_date, v.dimension): v for v in run.verdicts if v.table == table.name}
        dimensions = [d for d in DIMENSIONS if any(key[1] == d for key in verdicts)]
        if not dimensions:
            continue
        head = "".join(f"<th>{_e(DIMENSIONS[d].label)}</th>" for d in dimensions)
        body = []
        for check_date in run.settings.dates:
            cells = []
            for dimension in dimensions:
                verdict = verdicts.get((check_date, dimension))
                if verdict is None:
                    cells.append("<td></td>")
                    continue
                shown_value = verdict.severity.value if verdict.value is None else verdict.value
                mute = run.mutes.of(verdict)
                muted = f" ({_e(mute.label)})" if mute is not None else ""
                cells.append(f'<td class="cell" title="{_e(verdict.severity.value)}: {_e(verdict.message)}{muted}" '
                             f'style="background:{SEVERITY_COLORS[verdict.severity]};color:#fff">{_e(shown_value)}</td>')
            body.append(f"<tr><td>{_e(check_date)}</td>{''.join(cells)}</tr>")
        parts.append(f"<h3>Checks by date · {_e(table.name)}</h3><table class=\"matrix\"><thead><tr><th>date</th>{head}"
                     f"</tr></thead><tbody>{''.join(body)}</tbody></table>")
    return "".join(parts)


DRIFT_ROWS_SHOWN = 20  # the flagged metrics and the closest to their edge; the rest folded away


def drift_html(run: "HealthRun") -> str:
    """Per table, the checked date's tracked metrics against their baseline: value, baseline median,
    expected range, score; the flagged ones first (the anomalies check's details, already sorted)."""
    from feature_store_health.checks.baseline import label
    from feature_store_health.checks.dimensions.anomalies import expected_range, shown_value

    last = run.settings.dates[-1]
    parts = []
    for verdict in run.verdicts:
        if verdict.dimension != "anomalies" or verdict.check_date != last or not verdict.details.get("drifts"):
            continue
        drifts = verdict.details["drifts"]
        flagged = sum(drift["flagged"] for drift in drifts)

        def row(drift: dict) -> tuple:
            metric = drift["metric"]
            mark = '<b style="color:#cf222e">flagged</b>' if drift["flagged"] else ""
            return (label(metric), shown_value(metric, drift["value"]), shown_value(metric, drift["baseline_median"]),
                    expected_range(metric, drift["expected_low"], drift["expected_high"]),
                    f"{abs(drift['score']):.1f}", mark)

        head = ("metric", "value", "baseline median", "expected range", "score", "")
        parts.append(f"<h3>Drift against the baseline · {_e(verdict.table)} · {last} ({flagged} of {len(drifts)} "
                     f"metrics flagged, {verdict.details['baseline_days']} game days)</h3>")
        parts.append(_table(head, (row(d) for d in drifts[:DRIFT_ROWS_SHOWN]), raw_columns=(5,)))
        if len(drifts) > DRIFT_ROWS_SHOWN:
            parts.append(f"<details><summary>{len(drifts) - DRIFT_ROWS_SHOWN} more metrics, all within their "
                         f"range</summary>{_table(head, (row(d) for d in drifts[DRIFT_ROWS_SHOWN:]), raw_columns=(5,))}"
                         "</details>")
    return "".join(parts)


_STATS = ("nulls", "null_pct", "mean", "stddev", "min", "median", "max", "zeros", "true", "distinct", "nonempty")


def columns_html(run: "HealthRun") -> str:
    """The column profile per table: the checked date's statistics of every column, the flagged
    ones first; with more than one date, each column's NULL % and mean by date."""
    from feature_store_health.reporting.columns import flagged_columns

    parts = []
    last = run.settings.dates[-1]
    for table in run.config.tables:
        try:
            by_date = run.profile(table.name)
        except Exception as exc:  # its checks already say why; the report stands
            parts.append(f"<p>Columns of {_e(table.name)} unavailable: {_e(exc)}</p>")
            continue
        flags = flagged_columns(run, table.name, [v for v in run.verdicts if (v.table, v.check_date) == (table.name, last)])
        profile = by_date[last]
        order = sorted(profile, key=lambda column: column not in flags)
        parts.append(f"<h3>Columns · {_e(table.name)} · {last} ({len(profile)} profiled, {len(flags)} flagged)</h3>")
        parts.append(_table(
            ("column", "type", "flags", *_STATS),
            ((column, profile[column]["type"], "; ".join(flags.get(column, ())),
              *(_stat_cell(profile[column].get(stat)) for stat in _STATS)) for column in order),
        ))
        if len(by_date) > 1:
            dates = list(by_date)
            parts.append(f"<h4>Columns by date · {_e(table.name)}: % NULL, and mean of numeric columns</h4>")
            parts.append(_table(
                ("column", "statistic", *(d.strftime("%m-%d") for d in dates)),
                [row for column in order for row in (
                    (column, "% NULL", *(_stat_cell(by_date[d][column].get("null_pct")) for d in dates)),
                    *(((column, "mean", *(_stat_cell(by_date[d][column].get("mean")) for d in dates)),)
                      if "mean" in profile[column] else ()),
                )],
            ))
    return "".join(parts)


def _stat_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def weekly_html(run: "HealthRun") -> str:
    """The weekly sections per table; one that cannot be built says why, the report stands."""
    from feature_store_health.backends.base import BackendError

    parts = []
    for table in run.config.tables:
        try:
            parts.append(_table_weekly_html(run, table))
        except BackendError as exc:
            parts.append(f"<p>Trends for {_e(table.name)} unavailable: {_e(exc)}</p>")
        except Exception as exc:
            parts.append(f"<p>Trends for {_e(table.name)} unavailable: {_e(type(exc).__name__)}: {_e(exc)}</p>")
    return "".join(parts)


def _table_weekly_html(run: "HealthRun", table) -> str:
    from feature_store_health.reporting.charts import trend_chart_svg

    rows = run.trend(table.name)
    dates = run.settings.dates
    parts = [f"<h3>Weekly trends · {_e(table.name)} · {dates[0]} … {dates[-1]}</h3>"]
    try:
        parts.append(trend_chart_svg(rows, f"{table.name}, {dates[0]} to {dates[-1]}", table))
    except Exception as exc:  # a chart is never worth losing the report over
        parts.append(f"<p>Trend chart unavailable: {_e(type(exc).__name__)}: {_e(exc)}</p>")
    features = list(table.critical_features)
    tiers = list(rows[0].tiers) if rows else []
    shown_fields = configured_fields(table)
    columns = [
        ("date", None, lambda r: f"{r.check_date} (history)" if r.from_history else r.check_date),
        ("games", None, lambda r: r.games), ("rows", None, lambda r: r.rows), ("players", None, lambda r: r.players),
        ("% ready", "ready_pct", lambda r: _num(r.ready_pct)),
        ("% complete", "complete_pct", lambda r: _num(r.complete_pct)),
        *((tier, None, lambda r, tier=tier: r.tiers[tier]) for tier in tiers),
        *((f"% NULL {f}", None, lambda r, f=f: _num(r.null_pct[f])) for f in features),
        ("processing (min)", "processing_minutes", lambda r: _num(r.processing_minutes)),
        ("active predictions", "active_predictions", lambda r: r.active_predictions),
        ("conversion", "conversion", lambda r: _num(r.conversion)),
    ]
    columns = [(header, value) for header, field, value in columns if field is None or field in shown_fields]
    parts.append(_table([header for header, _ in columns], ([value(r) for _, value in columns] for r in rows)))
    if any(r.from_history for r in rows):
        parts.append("<p>(history): the warehouse no longer holds the date (its partition expired); its "
                     "numbers are the ones recorded in the metric history when it was last checked.</p>")
    for field, values in run.issue_counts(table.name).items():
        parts.append(f"<h4>Most common {_e(field)}</h4>")
        parts.append(_table(("value", "rows"), values[:5]) if values else "<p>none</p>")
    return "".join(parts)


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"
