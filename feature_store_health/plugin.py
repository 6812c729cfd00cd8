"""The pytest plugin: hooks and fixtures only. The logic lives in run.py, checks/ and backends/.

No assertions here to rewrite (PYTEST_DONT_REWRITE): failures are raised with pytest.fail.
"""

from __future__ import annotations

import datetime as dt
import gc

import pytest

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.verdict import Severity, Verdict
from feature_store_health.clock import first_date_with_baseline, now_utc, today_in
from feature_store_health.config import ConfigError, HealthConfig, load_config
from feature_store_health.options import add_options
from feature_store_health.settings import RunSettings, resolve_config_path
from feature_store_health.reporting.outputs import RunOutputs
from feature_store_health.run import CheckSpec, HealthRun
from feature_store_health.single_process import REFUSAL, ControllerGuard, DistributedHealthRun, is_worker

__all__ = ["OUTPUTS_KEY", "RUN_KEY"]

RUN_KEY = pytest.StashKey[HealthRun]()
OUTPUTS_KEY = pytest.StashKey[RunOutputs]()
FROZE_KEY = pytest.StashKey[bool]()   # this process froze its start-up objects (pytest_configure)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    from feature_store_health import hookspec

    pluginmanager.add_hookspecs(hookspec)


@pytest.hookimpl(tryfirst=True)  # before pytest-html and junitxml read their output paths
def pytest_configure(config: pytest.Config) -> None:
    for dimension in DIMENSIONS.values():
        config.addinivalue_line("markers", f"{dimension.id}: health dimension: {dimension.description}")
    config_path = resolve_config_path(config)
    try:
        health_config = load_config(config_path, config.rootpath)
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    now = now_utc()
    settings = RunSettings.from_pytest_config(
        config, config_path=config_path, today=today_in(health_config.timezone, now), timezone=health_config.timezone
    )

    def backend_factory():
        from feature_store_health.warehouse import make_backend

        return make_backend(settings, config.rootpath, getattr(config, "cache", None))

    _check_lookback(settings, health_config.baseline.lookback_days)
    _check_mutes(health_config, today_in(health_config.timezone, now))
    _check_reprocess(settings, health_config)
    if settings.model is not None:  # --model: the model's tables, cut to its features (models.py)
        from feature_store_health.models import narrow_to_model

        try:
            health_config = narrow_to_model(health_config, settings.model)
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from None
    run = HealthRun(settings, health_config, backend_factory, now)
    for check_date in (settings.dates[0], settings.dates[-1]):
        try:
            run.as_of(check_date)
        except OverflowError:
            raise pytest.UsageError(
                f"--date={check_date.isoformat()}: its check deadline is out of range in UTC; give a later date"
            ) from None
    config.stash[RUN_KEY] = run
    config.stash[OUTPUTS_KEY] = RunOutputs(config, run)
    if not is_worker(config):
        config.pluginmanager.register(ControllerGuard(), "feature_store_health_single_process")
    # Start-up objects (pytest, its plugins, this package, the parsed config) live until exit:
    # moving them to the permanent generation keeps every later garbage collection, pytest's own
    # at exit included, from walking them again. About 0.08 s of a 0.45 s weekly run. Once per
    # process: nested in-process runs (pytester) must not freeze their parent's garbage.
    if gc.get_freeze_count() == 0:
        gc.freeze()
        config.stash[FROZE_KEY] = True


def _check_lookback(settings: RunSettings, lookback_days: int) -> None:
    """A date too early for its baseline's lookback is bad input (exit 4), not an OverflowError."""
    earliest = first_date_with_baseline(lookback_days, settings.days)
    if settings.check_date >= earliest:
        return
    days = f" with --days={settings.days}" if settings.days > 1 else ""
    raise pytest.UsageError(
        f"--date={settings.check_date.isoformat()}{days}: the baseline of {settings.dates[0].isoformat()} looks back "
        f"{lookback_days} days ([baseline] lookback_days), too close to {dt.date.min.isoformat()}; "
        f"give --date={earliest.isoformat()} or later" + (", or fewer --days" if days else "")
    )


def _check_mutes(health_config: HealthConfig, today: dt.date) -> None:
    """A mute ending more than 30 days after today (New York) is bad input (exit 4): measured
    against the run's day, so it is checked here, not when the file is read."""
    if not health_config.mutes:
        return
    from feature_store_health.alerting.mutes import MuteError, check_lengths

    try:
        check_lengths(health_config.mutes, today)
    except MuteError as exc:
        raise pytest.UsageError(f"config {health_config.path}: {exc}") from None


def _check_reprocess(settings: RunSettings, health_config: HealthConfig) -> None:
    """--reprocess=send|dry-run without a [remediation] section to send to is bad input (exit 4)."""
    from feature_store_health.alerting.remediation_run import reprocess_mode

    try:
        reprocess_mode(settings.reprocess, health_config.remediation)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "check" not in metafunc.fixturenames:
        return
    if is_worker(metafunc.config):  # the controller makes this collection error the run's usage error
        # a refused worker leaves nothing behind: no results JSON of 0 checks, no archive folder
        outputs = metafunc.config.stash.get(OUTPUTS_KEY, None)
        if outputs is not None:
            del metafunc.config.stash[OUTPUTS_KEY]
            outputs.close()
        raise DistributedHealthRun(REFUSAL)
    marked = [mark.name for mark in metafunc.definition.iter_markers() if mark.name in DIMENSIONS]
    if len(marked) != 1:
        raise pytest.UsageError(
            f"{metafunc.definition.nodeid}: a health test needs exactly one dimension marker "
            f"({', '.join(DIMENSIONS)}), found {marked or 'none'}"
        )
    specs = metafunc.config.stash[RUN_KEY].specs(marked[0])
    metafunc.parametrize("check", specs, ids=[spec.id for spec in specs])


def _spec(item: pytest.Item) -> CheckSpec | None:
    callspec = getattr(item, "callspec", None)
    spec = callspec.params.get("check") if callspec is not None else None
    return spec if isinstance(spec, CheckSpec) else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """A dimension that applies to no monitored table (its columns not configured) has no check:
    pytest's empty-parameter placeholder is deselected rather than shown as a skip. The checks run
    grouped by table (in the configuration's order), so every output lists them that way."""
    placeholders = [item for item in items if "check" in getattr(item, "fixturenames", ()) and _spec(item) is None]
    if placeholders:
        items[:] = [item for item in items if item not in placeholders]
        config.hook.pytest_deselected(items=placeholders)
    run = config.stash.get(RUN_KEY, None)
    if run is not None:
        order = {table.name: index for index, table in enumerate(run.config.tables)}
        positions = [index for index, item in enumerate(items) if _spec(item) is not None]
        grouped = sorted((items[index] for index in positions), key=lambda item: order.get(_spec(item).table, len(order)))
        for index, item in zip(positions, grouped):  # stable: dimension, then date, within a table
            items[index] = item


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """The checks selected for this run (after -m, -k and every deselection): each must end judged."""
    _record_selection(session.config, session.items)


def _record_selection(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Runs that judge by design (not --collect-only, not --dry-run) owe a verdict per selected check."""
    run = config.stash.get(RUN_KEY, None)
    if run is None:
        return
    # what the queries compute follows the selection, a dry run's planned queries included
    run.selected = tuple(spec for spec in map(_spec, items) if spec is not None)
    if not (run.settings.dry_run or config.option.collectonly):
        run.collected = run.selected


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A check's test ends judged: its call phase ran, or its setup failed or was skipped. A failure
    that its verdict does not explain (an error in setup, in the test body, in teardown) makes
    the check NOT_EVALUATED with the reason, so the summary never counts it as passed."""
    report = yield
    spec = _spec(item)
    run = item.config.stash.get(RUN_KEY, None)
    if spec is None or run is None:
        return report
    if report.when == "call" or (report.when == "setup" and not report.passed):
        run.finished.add(spec)
    if report.when == "setup" and report.skipped and run.verdict_for(spec) is None:
        run.record_unjudged(spec, f"skipped before judging: {_skip_reason(report)}", Severity.SKIPPED)
    if report.failed:
        verdict = run.verdict_for(spec)
        if verdict is None or not verdict.severity.fails(run.settings.fail_on):
            run.record_unjudged(spec, f"the test failed in {report.when}: {_failure_text(report)}")
            run.finished.add(spec)
        _say_muted(run, spec, report)
    return report


def _say_muted(run: HealthRun, spec: CheckSpec, report: pytest.TestReport) -> None:
    """A muted check's test still fails (a mute silences alerts, never the exit code: the CI gate
    stays honest); its failure text says it is muted, in the short summary and under the failure."""
    verdict = run.verdict_for(spec)
    mute = run.mutes.of(verdict) if verdict is not None else None
    if mute is None:
        return
    report.sections.append(("feature store health: muted", f"{mute.label}\nThe test still fails: a mute silences "
                            "alerts, never the status or the exit code."))
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None and mute.label not in crash.message:
        crash.message = f"{crash.message} ({mute.label})"


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr)


def _failure_text(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    text = crash.message if crash is not None else str(report.longrepr)
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "unknown error"


@pytest.fixture
def health(request: pytest.FixtureRequest) -> HealthRun:
    """The run state: settings, configuration, fetched metrics and recorded verdicts."""
    return request.config.stash[RUN_KEY]


@pytest.fixture
def verdict(request: pytest.FixtureRequest, health: HealthRun, check: CheckSpec) -> Verdict:
    """The judged check. A check whose query failed errors here: never a pass."""
    judged = health.judge(check)
    # JUnit (and any report reading user_properties) shows the severity, not a plain pass
    request.node.user_properties.extend([
        ("health_severity", judged.severity.value),
        ("health_value", "n/a" if judged.value is None else judged.value),
        ("health_message", judged.message),
    ])
    if judged.severity is Severity.NOT_EVALUATED:
        pytest.fail(judged.message, pytrace=False)
    return judged


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """A history variable naming no possible file, or a table whose date column is no DATE, is
    refused (exit 4). --dry-run: validate and print every planned query instead of running the checks."""
    run = session.config.stash[RUN_KEY]
    if session.config.option.collectonly:
        return None
    if run.settings.history_problem and any(_spec(item) is not None for item in session.items):
        raise pytest.UsageError(run.settings.history_problem)
    _refuse_unusable_date_columns(run, session.items)
    if not run.settings.dry_run:
        if _checks_will_run(session):
            run.fetch_ahead()   # every query the selected checks read, sent at once (run_ahead.py)
        return None
    from feature_store_health.alerting.remediation_run import reprocess_plan_lines
    from feature_store_health.reporting.console import dry_run_lines

    planned = run.dry_run()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for line in [*dry_run_lines(run, planned), *reprocess_plan_lines(run)]:
        reporter.write_line(line)
    if any(error for *_, error in planned):
        session.testsfailed += 1
    return True


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int):
    """Before pytest-html writes its report: the reprocess request (the report shows its outcome).
    After pytest-html and junitxml have written their files: archive, results JSON, Slack."""
    run = session.config.stash.get(RUN_KEY, None)
    if run is not None:   # the queries sent ahead that no check read: recorded before any output lists them
        run.settle_ahead(interrupted=exitstatus == pytest.ExitCode.INTERRUPTED)
    _request_reprocess(session, exitstatus)
    result = yield
    run = session.config.stash.get(RUN_KEY, None)
    if run is not None:
        run.stop_reason = _stop_reason(session, exitstatus) or run.stop_reason   # settle_ahead's Ctrl-C
    outputs = session.config.stash.get(OUTPUTS_KEY, None)
    if outputs is not None:
        outputs.finish(session)
    return result


def _request_reprocess(session: pytest.Session, exitstatus: int) -> None:
    """[remediation]: the guarded reprocess request of a run that judged (never one refused,
    interrupted or collecting only). Its outcome is a console note; it never raises."""
    run = session.config.stash.get(RUN_KEY, None)
    outputs = session.config.stash.get(OUTPUTS_KEY, None)
    if run is None or outputs is None or run.config.remediation is None or session.config.option.collectonly \
            or exitstatus in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERRUPTED):
        return
    from feature_store_health.alerting.remediation_run import request_reprocess

    outputs.notes.extend(request_reprocess(run, session.config.hook))


def _checks_will_run(session: pytest.Session) -> bool:
    """Whether pytest goes on to run the tests: not after a collection error (its loop stops at
    once), not under --setup-plan, not when the session is already stopping."""
    option = session.config.option
    if session.testsfailed and not getattr(option, "continue_on_collection_errors", False):
        return False
    return not (getattr(option, "setupplan", False) or session.shouldstop or session.shouldfail)


def _refuse_unusable_date_columns(run: HealthRun, items: list[pytest.Item]) -> None:
    """A usage error (exit 4, before any check) for a table with a selected check whose date column
    is no DATE. It reads the metadata lookup each such table has anyway, cached for its checks."""
    for table in dict.fromkeys(spec.table for spec in map(_spec, items) if spec is not None):
        refusal = run.date_column_refusal(table)
        if refusal is not None:
            raise pytest.UsageError(refusal)


def _stop_reason(session: pytest.Session, exitstatus: int) -> str | None:
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        return "interrupted"
    if session.shouldfail or session.shouldstop:
        return str(session.shouldfail or session.shouldstop)
    if getattr(session.config.option, "setuponly", False) or getattr(session.config.option, "setupplan", False):
        return "--setup-only/--setup-plan: no test body ran"
    return None


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is None or not (run.verdicts or run.collected) or exitstatus == pytest.ExitCode.USAGE_ERROR:
        return  # a run refused before any check (exit 4) has only its one-line error to say
    from feature_store_health.reporting.console import summary_lines

    terminalreporter.section("feature store health")
    try:
        lines = summary_lines(run)
    except Exception as exc:  # the results JSON and the exit code still stand; say what is missing
        lines = [f"ERROR: the summary could not be printed: {type(exc).__name__}: {exc}"]
    for line in lines:
        terminalreporter.write_line(line)
    for line in config.stash[OUTPUTS_KEY].notes:
        terminalreporter.write_line(line, yellow=line.startswith(("WARNING", "ERROR")))


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    outputs = config.stash.get(OUTPUTS_KEY, None)
    if outputs is not None:
        outputs.close()
    run = config.stash.get(RUN_KEY, None)
    if run is not None:
        run.close()
    # The run's objects (its metrics, history, verdicts) live until exit too: frozen like the
    # start-up's, pytest's garbage collections at exit (unraisableexception's two) skip them.
    # Only in the process that froze at configure (never a nested run's parent).
    if config.stash.get(FROZE_KEY, False):
        gc.freeze()
