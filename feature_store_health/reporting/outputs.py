"""What a run leaves behind: results JSON, the archived HTML/JSON/JUnit, and the Slack alert.

Set up in ``pytest_configure`` (the default HTML and JUnit paths point into the archive's
staging folder) and finished after pytest-html and junitxml have written their files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from feature_store_health.reporting.files import write_atomic

if TYPE_CHECKING:
    from feature_store_health.reporting.archive import RunArchive
    from feature_store_health.run import HealthRun

__all__ = ["RunOutputs"]


class RunOutputs:
    def __init__(self, config: pytest.Config, run: "HealthRun") -> None:
        self.config = config
        self.run = run
        self.notes: list[str] = []          # lines for the console summary
        self.report_path: Path | None = None
        self.archive: RunArchive | None = None
        settings = run.settings
        self.html_enabled = config.pluginmanager.hasplugin("html")
        self.user_html = getattr(config.option, "htmlpath", None) if self.html_enabled else None
        self.user_junit = config.option.xmlpath
        if settings.reports_dir is not None:
            from feature_store_health.reporting.archive import JUNIT, REPORT, RunArchive

            self.archive = RunArchive.reserve(settings.reports_dir, settings.check_date, run.started_at)
            if self.html_enabled and not self.user_html:
                config.option.htmlpath = str(self.archive.staged(REPORT))
                config.option.self_contained_html = True
            if not self.user_junit:
                config.option.xmlpath = str(self.archive.staged(JUNIT))
        if self.html_enabled and config.option.htmlpath:
            from feature_store_health.reporting.html_report import HtmlReportHooks

            config.pluginmanager.register(HtmlReportHooks(run), "feature_store_health_html")

    def finish(self, session: pytest.Session) -> None:
        """After every report is written: results JSON, archive, index, then the Slack alert."""
        run = self.run
        if not run.verdicts:
            if self.archive is not None:
                self.archive.discard()
            return
        from feature_store_health.reporting.results_json import results_json

        document = results_json(run)
        if run.settings.results_json is not None:
            try:
                write_atomic(run.settings.results_json, document)
            except OSError as exc:
                self.notes.append(f"ERROR: --results-json: cannot write {run.settings.results_json}: {exc.strerror or exc}")
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self.archive is not None:
            try:
                self._archive(document)
            except OSError as exc:
                self.notes.append(f"ERROR: archive {self.archive.folder}: {exc.strerror or exc}")
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
        elif self.user_html:
            self.report_path = Path(self.user_html).resolve()
        self._alert()

    def close(self) -> None:
        """A run that never finished (``--help``, ``--markers``, an abort) leaves no folder behind."""
        if self.archive is not None and self.archive.staging.exists():
            self.archive.discard()

    def _archive(self, document: str) -> None:
        from feature_store_health.reporting.archive import JUNIT, REPORT, RESULTS

        archive = self.archive
        archive.write(RESULTS, document)
        html_plugin = _html_plugin(self.config)
        if html_plugin is not None:
            if self.user_html:
                self.report_path = archive.publish(REPORT, source=Path(self.user_html))
            elif archive.staged(REPORT).exists():
                self.report_path = archive.publish(REPORT)
                html_plugin._report_path = self.report_path  # its "Generated html report" line
        log_xml = _junit_plugin(self.config)
        if log_xml is not None:
            if self.user_junit:
                archive.publish(JUNIT, source=Path(self.user_junit))
            elif archive.staged(JUNIT).exists():
                log_xml.logfile = os.fspath(archive.publish(JUNIT))
        archive.finish()
        self.notes.append(f"Archived: {_shown(archive.folder)} (index: {_shown(archive.root / 'index.html')})")

    def _alert(self) -> None:
        settings = self.run.settings
        if settings.slack_webhook is None:
            return
        from feature_store_health.alerting.secret import redact
        from feature_store_health.alerting.slack import build_message, send, should_alert

        status = self.run.status
        if not should_alert(status, settings.slack_on):
            self.notes.append(f"Slack: no message (status {status}, --slack-on={settings.slack_on})")
            return
        try:
            report = str(self.report_path) if self.report_path else None
            message = build_message(self.run, report)
            reshaped = self.config.hook.pytest_feature_store_health_slack_message(run=self.run, message=message)
            outcome = send(settings.slack_webhook, reshaped or message, self.run.config.slack)
        except Exception as exc:  # an alert must never change the verdict
            detail = redact(f"{type(exc).__name__}: {exc}", settings.slack_webhook)
            self.notes.append(f"WARNING: Slack alert failed: {detail}; the data verdict and exit code stand")
            return
        if outcome.sent:
            self.notes.append(f"Slack: alert sent ({outcome.detail}, {_attempts(outcome.attempts)})")
        else:
            self.notes.append(
                f"WARNING: Slack alert not delivered after {_attempts(outcome.attempts)}: {outcome.detail}; "
                "the data verdict and exit code stand"
            )


def _attempts(count: int) -> str:
    return f"{count} attempt{'s' if count != 1 else ''}"


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _html_plugin(config: pytest.Config):
    try:
        from pytest_html.basereport import BaseReport
    except ImportError:
        return None
    return next((p for p in config.pluginmanager.get_plugins() if isinstance(p, BaseReport)), None)


def _junit_plugin(config: pytest.Config):
    from _pytest.junitxml import xml_key

    return config.stash.get(xml_key, None)
