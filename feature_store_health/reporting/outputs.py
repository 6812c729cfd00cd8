"""What a run leaves behind: results JSON, the archived HTML/JSON/JUnit, and the Slack alert.

Set up in ``pytest_configure`` (the default HTML and JUnit paths point into the archive's
staging folder) and finished after pytest-html and junitxml have written their files. The Slack
alert goes out before the history is written: the incident states recorded with the run say
whether their message was delivered.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from feature_store_health.reporting.files import explain_write_error, output_path_problem, write_atomic

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
        # -p no:junitxml removes the option altogether
        self.junit_enabled = hasattr(config.option, "xmlpath")
        self.user_junit = getattr(config.option, "xmlpath", None)
        self.archive_error: str | None = None   # the archive could not be set up: said at the end
        # the Slack outcome and the incidents, for the results JSON (never the webhook)
        self.slack_json: dict = {"sent": False, "detail": "no webhook configured", "events": {}}
        self.incidents_json: list[dict] = []
        self.channels_json: dict[str, dict] = {}   # each other on-call channel's outcome (alerting/oncall.py)
        # pytest-html makes its folder now and writes at the very end, junitxml both at the end: a
        # path they can never write is a usage error now, not a traceback that loses every output
        for flag, value, example in (("--html", self.user_html, "report.html"),
                                     ("--junitxml", self.user_junit, "junit.xml")):
            if value:
                _check_output_path(flag, _user_path(value), example)
        if settings.reports_dir is not None:
            from feature_store_health.reporting.archive import JUNIT, REPORT, RunArchive

            try:
                self.archive = RunArchive.reserve(settings.reports_dir, settings.check_date, run.started_at)
            except OSError as exc:
                # the checks still run and are judged; the run then ends with this as an ERROR
                self.archive_error = (f"ERROR: archive not written: --reports-dir {settings.reports_dir}: "
                                      f"{explain_write_error(settings.reports_dir, exc)}")
        if self.archive is not None:
            if self.html_enabled and not self.user_html:
                config.option.htmlpath = str(self.archive.staged(REPORT))
                config.option.self_contained_html = True
            if self.junit_enabled and not self.user_junit:
                config.option.xmlpath = str(self.archive.staged(JUNIT))
        if self.html_enabled and config.option.htmlpath:
            from feature_store_health.reporting.html_report import HtmlReportHooks

            config.pluginmanager.register(HtmlReportHooks(run), "feature_store_health_html")
        # the HTML's Columns section and the results JSON show the column profile and the trend:
        # without them (--no-archive, no --html, no --results-json) the query computes neither
        run.profile_shown = bool(self.html_enabled and config.option.htmlpath) or settings.results_json is not None \
            or self.archive is not None

    def finish(self, session: pytest.Session) -> None:
        """After every report is written: the Slack alert, the history, results JSON, archive, index.

        A run that judged nothing (no check selected, --setup-only, interrupted before the first
        verdict) leaves no archive folder and sends nothing. An incomplete run is published as
        INCOMPLETE and never exits 0; an output that cannot be written is an ERROR (exit 1)."""
        run = self.run
        if session.exitstatus == pytest.ExitCode.USAGE_ERROR:  # refused before any check: no output
            self._discard_archive()
            return
        if self.archive_error:
            self._fail(session, self.archive_error)
        judging = not (run.settings.dry_run or self.config.option.collectonly)
        if not judging or (not run.collected and run.settings.results_json is None):
            self._discard_archive()
            return
        if run.collected and not run.complete and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if run.judged:
            gate = run.decide_gate()   # the go/no-go: recorded with the history, and the exit code agrees
            if gate.decision == "hold" and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED
            # before the history write, which records what was delivered; the report's final path is
            # known in advance
            self._alert(self._report_location())
            history_error = run.record_history()  # before the results JSON, which says what it cost
            if history_error:
                self._fail(session, history_error)
        from feature_store_health.reporting.results_json import results_json

        # built only for a file that holds it: a weekly run's document is ~600 kB
        document = results_json(run, slack=self.slack_json, incidents=self.incidents_json,
                                channels=self.channels_json) \
            if run.settings.results_json is not None or self.archive is not None else ""
        if run.settings.results_json is not None:
            try:
                write_atomic(run.settings.results_json, document)
            except OSError as exc:
                self._fail(session, f"ERROR: --results-json not written: "
                                    f"{explain_write_error(run.settings.results_json, exc)}")
        if run.judged == 0:
            self._discard_archive()
            if run.collected:
                self.notes.append(f"INCOMPLETE: no check was judged ({run.incomplete_reason()}); "
                                  "nothing archived, no alert sent")
            return
        if self.archive is not None:
            try:
                self._archive(document)
            except OSError as exc:
                self._fail(session, f"ERROR: archive not written: {self.archive.folder}: "
                                    f"{explain_write_error(self.archive.folder, exc)}")
            except Exception as exc:  # never an INTERNALERROR: the verdicts stand, the output is an error
                self._fail(session, f"ERROR: archive not written: {self.archive.folder}: {type(exc).__name__}: {exc}")
        elif self.user_html:
            self.report_path = Path(self.user_html).resolve()

    def _fail(self, session: pytest.Session, note: str) -> None:
        """An output that could not be written: said, and the run exits 1 whatever the data verdict."""
        self.notes.append(note)
        if session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _discard_archive(self) -> None:
        """No folder for a run that judged nothing, and no link to the files it would have held."""
        if self.archive is None:
            return
        self.archive.discard()
        html_plugin = _html_plugin(self.config)
        if html_plugin is not None and not self.user_html:
            self.config.pluginmanager.unregister(html_plugin)
        if self.junit_enabled and not self.user_junit:
            from _pytest.junitxml import xml_key

            log_xml = self.config.stash.get(xml_key, None)
            if log_xml is not None:  # junitxml's own unconfigure unregisters what its stash holds
                del self.config.stash[xml_key]
                self.config.pluginmanager.unregister(log_xml)

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
                # the user's report links its assets/ folder; the archived copy holds them inline
                archive.write(REPORT, self_contained_copy(Path(self.user_html)))
                self.report_path = archive.folder / REPORT
            elif archive.staged(REPORT).exists():
                self.report_path = archive.publish(REPORT)
                html_plugin._report_path = self.report_path  # its "Generated html report" line
        log_xml = _junit_plugin(self.config) if self.junit_enabled else None
        if log_xml is not None:
            if self.user_junit:
                archive.publish(JUNIT, source=Path(self.user_junit))
            elif archive.staged(JUNIT).exists():
                log_xml.logfile = os.fspath(archive.publish(JUNIT))
        self._dashboard(archive.root)   # before the index, which links it
        archive.finish(self.run.config.timezone)
        self.notes.append(f"Archived: {_shown(archive.folder)} (index: {_shown(archive.root / 'index.html')})")

    def _dashboard(self, root: Path) -> None:
        """reports/dashboard.html, rebuilt from the history after this run's write (never from the
        warehouse). Without a readable history the last one stands; a --model run, which sees a
        narrowed config, leaves it too. A file that cannot be written is the archive's ERROR."""
        run = self.run
        if run.settings.history_off or run.settings.model is not None:
            return
        from feature_store_health.history import HistoryError
        from feature_store_health.reporting.dashboard import write_dashboard

        try:
            self.notes.append(write_dashboard(run, root))
        except HistoryError as exc:
            self.notes.append(f"WARNING: dashboard not rebuilt: {exc}")

    def _report_location(self) -> str | None:
        """Where the HTML report will be once the run is archived (or the user's --html)."""
        from feature_store_health.reporting.archive import REPORT

        if self.archive is not None:
            if _html_plugin(self.config) is not None and (self.user_html or self.archive.staged(REPORT).exists()):
                return str(self.archive.folder / REPORT)
            return None
        return str(Path(self.user_html).resolve()) if self.user_html else None

    def _alert(self, report: str | None) -> None:
        """The incidents (with a readable history, whatever is configured), the Slack webhook, then
        each other channel (alerting/oncall.py); the incident states recorded say what each delivered."""
        from feature_store_health.alerting.oncall import closed_records, merged_states, run_channels
        from feature_store_health.alerting.slack_alert import incidents_of

        run = self.run
        assessment = incidents_of(run)
        sent = self._slack_webhook(report, assessment)
        channels = run_channels(run, assessment, report)
        for result in channels:
            if result.note:
                self.notes.append(result.note)
            self.channels_json[result.name] = dict(result.json)
        if assessment is not None:
            merged = merged_states(channels)
            run.records.extend(assessment.records(delivered=sent, channels=merged))
            run.records.extend(closed_records(run, assessment, merged))   # a resolve a channel owed
            if not self.incidents_json:   # no webhook: the incidents as recorded all the same
                from feature_store_health.alerting.slack_alert import incidents_json

                self.incidents_json = incidents_json(assessment, sent)
        for line in run.mutes.expiry_lines():
            self.notes.append(f"WARNING: {line}")

    def _slack_webhook(self, report: str | None, assessment) -> bool:
        """The webhook's message, if one is configured; whether it was delivered."""
        settings = self.run.settings
        if settings.slack_webhook_problem is not None:
            self.notes.append(f"WARNING: Slack alert not sent: {settings.slack_webhook_problem}; "
                              "the data verdict and exit code stand")
            self.slack_json = {"sent": False, "detail": f"not sent: {settings.slack_webhook_problem}", "events": {}}
            return False
        if settings.slack_webhook is None:
            return False
        from feature_store_health.alerting.secret import redact
        from feature_store_health.alerting.slack_alert import alert

        def reshape(message: dict) -> dict | None:
            return self.config.hook.pytest_feature_store_health_slack_message(run=self.run, message=message)

        try:
            result = alert(self.run, report, reshape, assessment)
        except Exception as exc:  # an alert must never change the verdict
            detail = redact(f"{type(exc).__name__}: {exc}", settings.slack_webhook)
            self.notes.append(f"WARNING: Slack alert failed: {detail}; the data verdict and exit code stand")
            self.slack_json = {"sent": False, "detail": f"failed: {detail}", "events": {}}
            return False
        self.notes.append(result.note)
        self.slack_json, self.incidents_json = result.slack_json(), result.incidents_json()
        return result.sent


def self_contained_copy(report: Path) -> str:
    """``report`` with each local stylesheet it links (pytest-html's assets/style.css) inlined."""
    import re

    text = report.read_text(encoding="utf-8")

    def inline(match: "re.Match[str]") -> str:
        href = match.group(1)
        stylesheet = (report.parent / href)
        if "://" in href or not stylesheet.is_file():
            return match.group(0)
        return f"<style>{stylesheet.read_text(encoding='utf-8')}</style>"

    return re.sub(r'<link href="([^"]+)" rel="stylesheet"[^>]*>', inline, text)


def _user_path(value: str) -> Path:
    """A report path as pytest-html and junitxml read it: variables and ~ expanded, from the cwd."""
    return Path.cwd() / Path(os.path.expandvars(value)).expanduser()


def _check_output_path(flag: str, path: Path, example: str) -> None:
    problem = output_path_problem(path)
    if problem is None:
        return
    if path.is_dir():
        raise pytest.UsageError(f"{flag}: {problem}; give a file path, e.g. {flag}={path / example}")
    raise pytest.UsageError(f"{flag}: cannot write {path}: {problem}; give a file path in a writable folder")


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
