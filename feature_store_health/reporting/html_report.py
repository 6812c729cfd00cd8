"""The HTML report, through pytest-html's hooks: status banner, environment, every check against
its thresholds, the per-feature NULL table, offending-row samples of failing checks, and, for more
than one date, the weekly trend tables and charts. Everything is inline (self-contained).

This module holds the hooks, the page (``summary_html``) and each check's card (``check_card``);
the building blocks are html_parts.py's, the sections below the checks html_sections.py's.
"""

from __future__ import annotations

import datetime as dt
import decimal
from typing import TYPE_CHECKING, Any

import pytest

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.plan import applicable_dimensions
from feature_store_health.checks.verdict import STATUS_COLORS, Severity, Verdict
from feature_store_health.reporting.distribution_html import distribution_html  # drift's pictures
from feature_store_health.reporting.html_parts import STYLE, _badge, _e, _table, status_icon_svg
from feature_store_health.reporting.html_sections import (
    columns_html, drift_html, gate_html, matrix_html, models_affected_html, reprocess_html, weekly_html,
)
from feature_store_health.reporting.models_affected import models_affected_line
from feature_store_health.reporting.mutes_html import muted_badge, mutes_html
from feature_store_health.reporting.results_json import summary_counts

if TYPE_CHECKING:
    from feature_store_health.run import CheckSpec, HealthRun

__all__ = ["HtmlReportHooks", "check_card", "summary_html"]


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


def _pct_cell(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


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
