"""The HTML report, through pytest-html's hooks: status banner, environment, every check against
its thresholds, the per-feature NULL table, offending-row samples of failing checks, and, for more
than one date, the weekly trend tables and charts. Everything is inline (self-contained).
"""

from __future__ import annotations

import datetime as dt
import decimal
import html
from typing import TYPE_CHECKING, Any, Iterable, Sequence

import pytest

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.plan import applicable_dimensions
from feature_store_health.checks.trend import configured_fields
from feature_store_health.checks.verdict import STATUS_COLORS, Severity, Verdict
from feature_store_health.reporting.models_affected import models_affected_line
from feature_store_health.reporting.mutes_html import muted_badge, mutes_html
from feature_store_health.reporting.results_json import summary_counts

if TYPE_CHECKING:
    from feature_store_health.run import CheckSpec, HealthRun

__all__ = ["HtmlReportHooks", "check_card", "summary_html"]

SEVERITY_COLORS = {
    Severity.OK: "#1a7f37", Severity.WARNING: "#9a6700", Severity.ERROR: "#cf222e",
    Severity.CRITICAL: "#8b0000", Severity.NOT_EVALUATED: "#6e40c9", Severity.SKIPPED: "#57606a",
}
STYLE = (
    "<style>.fsh table{border-collapse:collapse;margin:6px 0}.fsh td,.fsh th{border:1px solid #d0d7de;"
    "padding:3px 8px;text-align:left;font-size:13px}.fsh th{background:#f6f8fa}.fsh .sev{font-weight:bold}"
    ".fsh h3{margin:14px 0 4px}</style>"
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


# The banner's status icon drawn inline (a white shape on the banner's colour): no emoji font needed
_ICON_SHAPES = {
    "HEALTHY": '<path d="M5 10.5l3.2 3.2L15 7" fill="none" stroke="#fff" stroke-width="2.4"/>',
    "DEGRADED": '<path d="M10 4.5v7" stroke="#fff" stroke-width="2.4"/><circle cx="10" cy="15" r="1.5" fill="#fff"/>',
    "UNHEALTHY": '<path d="M6.5 6.5l7 7M13.5 6.5l-7 7" stroke="#fff" stroke-width="2.4"/>',
    "CRITICAL": '<path d="M10 4.5v7" stroke="#fff" stroke-width="2.4"/><circle cx="10" cy="15" r="1.5" fill="#fff"/>'
                '<circle cx="10" cy="10" r="8.2" fill="none" stroke="#fff" stroke-width="1.2"/>',
    "INCOMPLETE": '<path d="M8 6v8M12 6v8" stroke="#fff" stroke-width="2.4"/>',
}


def status_icon_svg(status: str) -> str:
    """An inline SVG icon for an overall status, labelled with the status for screen readers."""
    return (f'<svg class="status-icon" role="img" aria-label="{_e(status)}" width="20" height="20" viewBox="0 0 20 20" '
            f'style="vertical-align:-3px">{_ICON_SHAPES.get(status, "")}</svg>')


def _badge(severity: Severity) -> str:
    return f'<span class="sev" style="color:{SEVERITY_COLORS[severity]}">{_e(severity.value)}</span>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], raw_columns: Iterable[int] = ()) -> str:
    raw = set(raw_columns)
    head = "".join(f"<th>{_e(header)}</th>" for header in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if index in raw else _e(cell)}</td>" for index, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def null_table(verdict: Verdict) -> str:
    rates, counts = verdict.details.get("null_pct"), verdict.details.get("null_count")
    if not rates:
        return ""
    rows = [(feature, f"{rate:.2f}%", counts.get(feature, "")) for feature, rate in rates.items()]
    return "<h4>NULL rate per critical feature</h4>" + _table(("feature", "% NULL", "NULL rows"), rows)


def samples_html(samples: list[dict[str, Any]] | str) -> str:
    """The rows that made the check fail (``HealthRun.failing_samples``), or why there are none."""
    if isinstance(samples, str):
        return f"<p>{_e(samples)}</p>"
    if not samples:
        return ""
    headers = list(samples[0])
    return (f"<h4>Offending rows (first {len(samples)}, by player)</h4>"
            + _table(headers, ([_cell(row[key]) for key in headers] for row in samples)))


def _cell(value: Any) -> str:
    """Sample cells as people read them: NULL spelled out, numbers short, times in UTC."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float, decimal.Decimal)):
        return f"{float(value):.4f}".rstrip("0").rstrip(".") if not isinstance(value, int) else str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "[]"
    return str(value)


from feature_store_health.reporting.distribution_html import distribution_html  # noqa: E402  (drift's pictures)


def check_card(verdict: Verdict, samples: list[dict[str, Any]] | str | None = None, runbook: str | None = None,
               models: str | None = None, mute: Any = None) -> str:
    """One check: severity (and its mute), message, the models reading the columns it names, value
    against thresholds, NULL table, samples when failing."""
    dimension = DIMENSIONS[verdict.dimension]
    value = "n/a" if verdict.value is None else verdict.value
    parts = [
        f'<div class="fsh">{STYLE}<p><b>{_e(dimension.label)}</b> · {_e(verdict.table)} · {_e(verdict.check_date)} · '
        f"{_badge(verdict.severity)}{muted_badge(mute)}</p><p>{_e(verdict.message)}</p>"
        + (f'<p class="models-affected">{_e(models)}</p>' if models else ""),
        _table(("value", "thresholds"), [(value, verdict.threshold_text())]),
        null_table(verdict),
        distribution_html(verdict),
    ]
    if runbook is not None:
        parts.insert(1, f'<p>Runbook: <a href="{_e(runbook)}">{_e(runbook)}</a></p>')
    if samples is not None:
        parts.append(samples_html(samples))
    parts.append("</div>")
    return "".join(parts)


def summary_html(run: "HealthRun") -> str:
    """Banner, every check, the NULL table per date, and the weekly sections for a multi-date run."""
    status = run.status
    counts = summary_counts(run)
    parts = [
        f'<div class="fsh">{STYLE}<div class="status-banner" style="padding:10px 14px;border-radius:6px;color:white;'
        f'background:{STATUS_COLORS[status]};font-size:18px;font-weight:bold">Overall Status: '
        f"{status_icon_svg(status)} {_e(status)} · {counts['passed']}/{counts['checks']} checks passed"
        + (f" · {counts['skipped']} skipped" if counts["skipped"] else "")
        + (f" · {counts['not_run']} never ran" if counts["not_run"] else "")
        + (f" · {muted} muted" if (muted := len(run.mutes.muted_verdicts(run.verdicts))) else "") + "</div>",
        "" if run.complete else f"<p><b>Incomplete run</b>: {_e(run.incomplete_reason())}; "
        f"the checks that ran say {_e(run.judged_status)}.</p>",
        f"<p>Rerun: <code>{_e(run.rerun_command())}</code></p>",
        gate_html(run),
        reprocess_html(run),
        "<h3>Checks</h3>",
        _table(
            ("date", "table", "check", "severity", "value", "thresholds", "message", "runbook"),
            ((v.check_date, v.table, DIMENSIONS[v.dimension].label, _badge(v.severity) + muted_badge(run.mutes.of(v)),
              "n/a" if v.value is None else v.value, v.threshold_text(), v.message,
              "" if v.severity in (Severity.OK, Severity.SKIPPED)
              else f'<a href="{_e(run.runbook_link(v.dimension))}">{_e(v.dimension)}</a>') for v in run.verdicts),
            raw_columns=(3, 7),
        ),
    ]
    parts.append(models_affected_html(run))
    parts.append(mutes_html(run))
    for table in run.config.tables:  # a dimension whose columns the table's entry does not name
        missing = [DIMENSIONS[d].label for d in DIMENSIONS if d not in applicable_dimensions(table)]
        if missing:
            parts.append(f'<p class="not-configured">Not configured for {_e(table.name)}: {_e(", ".join(missing))} '
                         "(its [[tables]] entry names no column for them)</p>")
    for table in run.config.tables:  # each table has its own critical features
        nulls = [v for v in run.verdicts
                 if v.table == table.name and v.dimension == "null_rates" and v.details.get("null_pct")]
        if nulls:
            features = list(table.critical_features)
            parts.append(f"<h3>NULL rate per critical feature (%) · {_e(table.name)}</h3>")
            parts.append(_table(("date", *features),
                                ((v.check_date, *(_pct_cell(v.details["null_pct"].get(f)) for f in features))
                                 for v in nulls)))
    if run.settings.days > 1:
        parts.insert(3, matrix_html(run))  # the date x dimension matrix first, the rows below it
    parts.append(drift_html(run))
    parts.append(columns_html(run))
    if run.settings.days > 1:
        parts.append(weekly_html(run))
    parts.append("</div>")
    return "".join(parts)


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


def _pct_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:g}"


class HtmlReportHooks:
    """pytest-html hook implementations, registered only when an HTML report is being written."""

    def __init__(self, run: "HealthRun") -> None:
        self.run = run

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        try:
            from pytest_metadata.plugin import metadata_key
        except ImportError:
            return
        settings = self.run.settings
        dates = settings.dates
        metadata = session.config.stash[metadata_key]
        metadata.update({
            "Dates": str(dates[0]) if len(dates) == 1 else f"{dates[0]} … {dates[-1]} ({len(dates)} days)",
            "Backend": f"{settings.backend}: {self.run.source_description()}",
            "Tables": ", ".join(table.table for table in self.run.config.tables),
            "As of": ", ".join(f"{d}: {self.run.as_of(d).isoformat()}" for d in dates[-3:])
            + (" …" if len(dates) > 3 else ""),
            "Config": str(self.run.config.path),
            "Fail on": settings.fail_on,
            "Suite version": _version(),
        })

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report) -> None:
        dates = self.run.settings.dates
        shown = str(dates[0]) if len(dates) == 1 else f"{dates[0]} … {dates[-1]}"
        report.title = f"Feature store health · {', '.join(t.name for t in self.run.config.tables)} · {shown}"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix, summary, postfix, session) -> None:
        if not self.run.verdicts:
            return
        try:
            prefix.append(summary_html(self.run))
        except Exception as exc:  # the report is still written, saying what is missing
            prefix.append(f"<p><b>Health summary unavailable</b>: {_e(type(exc).__name__)}: {_e(exc)}</p>")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        spec: CheckSpec | None = getattr(getattr(item, "callspec", None), "params", {}).get("check")
        attach = report.when == "call" or (report.when == "setup" and report.failed)
        if spec is None or not attach:
            return report
        verdict = self.run.verdict_for(spec)
        if verdict is None:
            return report
        samples = None
        if verdict.severity.fails(self.run.settings.fail_on) and verdict.severity is not Severity.NOT_EVALUATED:
            try:
                samples = self.run.failing_samples(verdict)
            except Exception as exc:  # samples illustrate a verdict; they never replace it
                samples = f"samples unavailable: {type(exc).__name__}: {exc}"
        from pytest_html import extras

        runbook = None if verdict.severity in (Severity.OK, Severity.SKIPPED) else self.run.runbook_link(verdict.dimension)
        card = check_card(verdict, samples, runbook, models_affected_line(self.run, verdict),
                          self.run.mutes.of(verdict))
        report.extras = [*getattr(report, "extras", []), extras.html(card)]
        return report


def _version() -> str:
    from feature_store_health import __version__

    return __version__
