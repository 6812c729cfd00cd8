"""[[models]] and --model: each finding names the models that read its columns (console, HTML,
Slack, results JSON), and a model's run gates on its own inputs. Never a severity changed.

On the demo warehouse (v5) around two dated incidents: 2026-03-05 minutes_avg_last_10 x1.25 on
every row (source_consistency CRITICAL, anomalies ERROR) and 2026-03-10 usage_rate_last_10 NULL on
8 % of rows (null_rates ERROR, source_consistency ERROR, anomalies WARNING). catboost_v9 reads
both columns, breakout_classifier only minutes_avg_last_10, fatigue_adjuster neither (the
composite factors only).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest

from feature_store_health.checks.concerns import concerned_columns
from feature_store_health.checks.verdict import Severity, Verdict
from feature_store_health.config import DEFAULT_CONFIG_PATH, load_config
from feature_store_health.models import model_features
from conftest import CACHE, CACHE_DIMENSIONS, COMPOSITE, COMPOSITE_DIMENSIONS, FAST_SLACK, ROOT


CHECKED, FIRST = "2026-03-10", "2026-03-05"
CATBOOST_LINE = "Models affected: catboost_v9 (1 of 38 features: usage_rate_last_10)"
MINUTES_LINE = ("Models affected: catboost_v9 (1 of 38 features: minutes_avg_last_10); "
                "breakout_classifier (1 of 8 features: minutes_avg_last_10)")
# a third model, limited to the composite factors: early_season_flag is a column of both tables
FATIGUE = """
[[models]]
name = "fatigue_adjuster"
owner = "ml-fatigue@example.com"
tables = ["player_composite_factors"]
features = ["fatigue_score", "fatigue_adjustment", "early_season_flag"]
"""


def shipped_example() -> str:
    """The commented-out [[models]] example at the end of health.toml, uncommented."""
    text = DEFAULT_CONFIG_PATH.read_text()
    block = text[text.index("# [[models]]"):]
    return "\n".join(line[2:] if line.startswith("# ") else "" if line == "#" else line
                     for line in block.splitlines()) + "\n"


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory, demo_generator) -> Path:
    """Three weeks of the demo season: enough game days before 2026-03-05 for a baseline."""
    path = tmp_path_factory.mktemp("models") / "demo.duckdb"
    demo_generator.build_warehouse(path, dt.date(2026, 2, 19), dt.date(2026, 3, 12))
    return path


@pytest.fixture
def models_config(tmp_path) -> Path:
    path = tmp_path / "models.toml"
    path.write_text(FAST_SLACK + shipped_example() + FATIGUE)
    return path


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    return path


def usage_error(run, expected: str) -> None:
    """Exit 4 and exactly the expected line on stderr: no traceback, no INTERNALERROR."""
    everything = run.stdout + run.stderr
    assert run.ret == 4, everything
    assert run.stderr.strip() == expected, run.stderr
    assert "Traceback" not in everything and "INTERNALERROR" not in everything


def severities(run) -> dict[tuple[str, str, str], tuple[str, str]]:
    return {(c["table"], c["date"], c["dimension"]): (c["severity"], c["message"]) for c in run.results["checks"]}


# -- the configuration ---------------------------------------------------------------------

def test_the_shipped_example_reads_features_of_both_contracts(models_config):
    config = load_config(models_config)
    assert [(m.name, m.owner, len(m.features), m.tables) for m in config.models] == [
        ("catboost_v9", "ml-points@example.com", 38, ()),
        ("breakout_classifier", "ml-breakout@example.com", 8, (CACHE,)),
        ("fatigue_adjuster", "ml-fatigue@example.com", 3, (COMPOSITE,)),
    ]
    catboost, breakout, fatigue = config.models
    cache, composite = config.tables
    assert (len(model_features(catboost, cache)), len(model_features(catboost, composite))) == (33, 5)
    assert model_features(breakout, composite) == ()
    assert model_features(fatigue, cache) == ()   # early_season_flag of the cache: not its table
    assert model_features(fatigue, composite) == ("fatigue_score", "fatigue_adjustment", "early_season_flag")
    assert load_config().models == ()   # commented out in the defaults: no model unless configured


CONTRACTS = (f"player_daily_cache: {ROOT}/fixtures/schema/nba_precompute.player_daily_cache.json, "
             f"player_composite_factors: {ROOT}/fixtures/schema/nba_precompute.player_composite_factors.json")


@pytest.mark.parametrize(("entry", "problem"), [
    ('name = "m"\nowner = "o"\nfeatures = ["minutes_avg_last_11"]',
     "models[0] (m).features: minutes_avg_last_11 is not a column of any monitored table's contract "
     f"({CONTRACTS}); list the columns the model reads"),
    ('name = "m"\nowner = "o"\ntables = ["player_composite_factors"]\nfeatures = ["minutes_avg_last_10"]',
     "models[0] (m).features: minutes_avg_last_10 is not a column of any monitored table's contract "
     f"(player_composite_factors: {ROOT}/fixtures/schema/nba_precompute.player_composite_factors.json); "
     "list the columns the model reads"),
    ('name = "m"\nowner = "o"\nfeatures = ["fatigue_score"]\n[[models]]\nname = "m"\nowner = "p"\n'
     'features = ["pace_score"]',
     "models[1].name = 'm' is listed twice; model names must be unique"),
    ('name = "m"\nowner = "o"\ntables = ["player_cache"]\nfeatures = ["fatigue_score"]',
     "models[0] (m).tables: player_cache is not a monitored table (player_daily_cache, player_composite_factors)"),
    ('name = "m"\nowner = "o"',
     "models[0]: missing features (a model needs its name, the features it reads and an owner)"),
    ('name = "m"\nowner = "o"\nfeatures = []',
     "models[0] (m).features must be a non-empty list of names"),
    ('name = "m"\nfeatures = ["fatigue_score"]',
     "models[0]: missing owner (a model needs its name, the features it reads and an owner)"),
    ('name = "m"\nowner = "o"\nfeatures = ["fatigue_score", "fatigue_score"]',
     "models[0] (m).features: fatigue_score is listed twice; list each once"),
    ('name = "m"\nowner = "o"\nfeatures = ["fatigue_score"]\nversion = 9',
     "unknown key models[0].version (allowed: description, features, name, owner, tables)"),
], ids=["unknown-feature", "feature-not-in-its-tables", "duplicate-name", "unknown-table", "missing-features",
        "empty-features", "missing-owner", "feature-twice", "unknown-key"])
def test_a_bad_models_entry_is_a_one_line_config_error(run_suite, tmp_path, entry, problem):
    config = write_config(tmp_path, f"[[models]]\n{entry}\n")
    usage_error(run_suite(f"--health-config={config}", "--date=2026-02-05"), f"ERROR: config {config}: {problem}")


def test_an_unknown_model_is_a_usage_error_naming_the_configured_ones(run_suite, models_config, demo_file):
    usage_error(run_suite(f"--database={demo_file}", f"--date={CHECKED}", f"--health-config={models_config}",
                          "--model=catboost_v8"),
                "ERROR: --model=catboost_v8: no such model (the configured models: catboost_v9, breakout_classifier, "
                "fatigue_adjuster); give one of them, or add a [[models]] entry")
    usage_error(run_suite(f"--database={demo_file}", f"--date={CHECKED}", "--model=catboost_v9"),
                f"ERROR: --model=catboost_v9: no such model (no [[models]] entry in {DEFAULT_CONFIG_PATH}); "
                "give one of them, or add a [[models]] entry")


# -- which columns a finding concerns ------------------------------------------------------

def verdict(dimension: str, details: dict, severity: Severity = Severity.ERROR,
            threshold: dict | None = None) -> Verdict:
    return Verdict(CACHE, dt.date(2026, 3, 10), dimension, severity, None, threshold or {}, "", details)


def test_concerned_columns_are_read_from_each_dimensions_details():
    table = load_config().tables[0]
    limits = {"warning_above": 2, "error_above": 5, "critical_above": 10}
    nulls = {"rows": 100, "null_count": {"points_avg_last_10": 1, "usage_rate_last_10": 8, "ts_pct_last_10": 3}}
    assert concerned_columns(verdict("null_rates", nulls, threshold=limits), table) == (
        "usage_rate_last_10", "ts_pct_last_10")   # over the warning limit; 1 % is not
    ranges = {"columns_out_of_range": ["ts_pct_last_10"], "not_evaluated_columns": {"player_age": "missing"}}
    assert concerned_columns(verdict("value_ranges", ranges), table) == ("ts_pct_last_10", "player_age")
    drifts = {"drifts": [{"metric": "mean:minutes_avg_last_10", "flagged": True},
                         {"metric": "median:minutes_avg_last_10", "flagged": True},
                         {"metric": "rows_per_team", "flagged": True},
                         {"metric": "null_pct:ts_pct_last_10", "flagged": False}]}
    assert concerned_columns(verdict("anomalies", drifts), table) == ("minutes_avg_last_10",)
    source_limits = {**limits, "roster_warning_above": 2, "roster_error_above": 5}
    mismatched = {"rows": 100, "mismatched_rows": 9, "mismatches": {"points_avg_season": 3, "games_played_season": 9},
                  "expected_players": 90, "roster_pct": 0.0}
    assert concerned_columns(verdict("source_consistency", mismatched, threshold=source_limits), table) == (
        "games_played_season", "points_avg_season")   # the most rows off first
    roster_only = {"rows": 100, "mismatched_rows": 0, "mismatches": {}, "expected_players": 90, "roster_pct": 14.7}
    assert concerned_columns(verdict("source_consistency", roster_only, threshold=source_limits), table) == ()
    schema = {"missing": ["usage_rate_last_10"], "retyped": [{"column": "player_age", "contract": "INT64",
                                                              "live": "STRING"}], "extra": ["new_column"]}
    assert concerned_columns(verdict("schema", schema), table) == ("usage_rate_last_10", "player_age")
    # table-level findings concern no column; an OK or SKIPPED verdict concerns nothing
    for dimension in ("coverage", "staleness", "arrival", "uniqueness", "production_readiness", "completeness",
                      "quality_tiers", "downstream_usage"):
        assert concerned_columns(verdict(dimension, {"rows": 100}), table) == ()
    assert concerned_columns(verdict("null_rates", nulls, Severity.OK, limits), table) == ()
    # columns_affected, when a dimension's details hold it, wins for any dimension (drift, continuity)
    assert concerned_columns(verdict("drift", {"columns_affected": ["three_pt_rate_last_10"]}), table) == (
        "three_pt_rate_last_10",)
    assert concerned_columns(verdict("null_rates", {**nulls, "columns_affected": ["ts_pct_last_10"]},
                                     threshold=limits), table) == ("ts_pct_last_10",)


# -- a full run names the models; severities unchanged ---------------------------------------

def test_a_run_names_the_models_reading_each_flagged_column_and_changes_no_severity(
        run_suite, demo_file, models_config, webhook, monkeypatch, tmp_path):
    window = (f"--database={demo_file}", f"--date={CHECKED}", "--days=6", "--no-archive")
    plain = run_suite(*window)
    monkeypatch.setenv("SLACK_WEBHOOK_URL", webhook.url)
    run = run_suite(*window, f"--health-config={models_config}")
    # the same verdicts, messages, exit code and gate as without [[models]]
    assert severities(run) == severities(plain)
    assert (run.ret, run.results["status"], run.results["gate"]["decision"]) == (plain.ret, "CRITICAL", "hold") \
        == (1, plain.results["status"], plain.results["gate"]["decision"])
    not_ok = {key: severity for key, (severity, _) in severities(run).items() if severity not in ("OK", "SKIPPED")}
    assert not_ok == {(CACHE, FIRST, "source_consistency"): "CRITICAL", (CACHE, FIRST, "anomalies"): "ERROR",
                      (CACHE, CHECKED, "null_rates"): "ERROR", (CACHE, CHECKED, "source_consistency"): "ERROR",
                      (CACHE, CHECKED, "anomalies"): "WARNING",
                      # drift and continuity (issue 18): the window bug moves every player; the NULL bin
                      (CACHE, FIRST, "drift"): "CRITICAL", (CACHE, FIRST, "continuity"): "CRITICAL",
                      (CACHE, CHECKED, "drift"): "WARNING"}
    assert "models" not in plain.results

    # console: a line under each check that names a column a model reads, and only there
    lines = run.stdout.splitlines()
    affected = [(lines[index - 1].split(":")[0], line.strip()) for index, line in enumerate(lines)
                if "Models affected" in line]
    assert affected == [("🚨 Source Consistency", MINUTES_LINE), ("❌ Anomalies", MINUTES_LINE),
                        ("🚨 Drift", MINUTES_LINE), ("🚨 Continuity", MINUTES_LINE),
                        ("❌ NULL Rates", CATBOOST_LINE), ("❌ Source Consistency", CATBOOST_LINE),
                        ("⚠️ Anomalies", CATBOOST_LINE), ("⚠️ Drift", CATBOOST_LINE)]
    assert "Models affected" not in plain.stdout

    # results JSON: each model's worst check of those --model would run, and the features touched
    models = run.results["models"]
    assert {name: (m["status"], m["owner"], m["tables"], m["features_affected"]) for name, m in models.items()} == {
        "catboost_v9": ("CRITICAL", "ml-points@example.com", [CACHE, COMPOSITE],
                        ["minutes_avg_last_10", "usage_rate_last_10"]),
        "breakout_classifier": ("CRITICAL", "ml-breakout@example.com", [CACHE], ["minutes_avg_last_10"]),
        "fatigue_adjuster": ("OK", "ml-fatigue@example.com", [COMPOSITE], []),
    }
    breakout_checks = models["breakout_classifier"]["checks"]
    assert [(c["date"], c["dimension"], c["severity"], c["features"]) for c in breakout_checks] == [
        (FIRST, "source_consistency", "CRITICAL", ["minutes_avg_last_10"]),
        (FIRST, "anomalies", "ERROR", ["minutes_avg_last_10"]),
        (FIRST, "drift", "CRITICAL", ["minutes_avg_last_10"]), (FIRST, "continuity", "CRITICAL", ["minutes_avg_last_10"])]
    assert len(models["catboost_v9"]["checks"]) == 8

    # Slack: the same line under each of those checks
    (message,) = [request["json"] for request in webhook.received]
    text = "\n".join(block["text"]["text"] for block in message["blocks"]
                     if block["type"] == "section" and "text" in block)
    shown = text.splitlines()
    slack = [(shown[index - 1].split(":")[0], line) for index, line in enumerate(shown)
             if line.startswith("Models affected")]
    assert slack == [(f"❌ *NULL Rates* · {CHECKED}", CATBOOST_LINE),   # by dimension, then date, as Slack lists them
                     (f"🚨 *Source Consistency* · {FIRST}", MINUTES_LINE),
                     (f"❌ *Source Consistency* · {CHECKED}", CATBOOST_LINE),
                     (f"❌ *Anomalies* · {FIRST}", MINUTES_LINE),
                     (f"⚠️ *Anomalies* · {CHECKED}", CATBOOST_LINE),
                     (f"🚨 *Drift* · {FIRST}", MINUTES_LINE), (f"⚠️ *Drift* · {CHECKED}", CATBOOST_LINE),
                     (f"🚨 *Continuity* · {FIRST}", MINUTES_LINE)]


def test_the_report_shows_the_models_affected(browser, run_suite, demo_file, models_config, tmp_path):
    reports = tmp_path / "reports"
    run = run_suite(f"--database={demo_file}", f"--date={CHECKED}", f"--health-config={models_config}",
                    f"--reports-dir={reports}")
    assert run.ret == 1
    (report,) = reports.glob("*/*/report.html")
    page = browser.open(report)
    assert page.console_errors == []
    table = page.evaluate("""(() => {
        const heading = Array.from(document.querySelectorAll('h3')).find(h => h.textContent === 'Models affected');
        return Array.from(heading.nextElementSibling.querySelectorAll('tbody tr'))
            .map(tr => Array.from(tr.children).map(td => td.innerText));
    })()""")
    assert table == [[CHECKED, CACHE, "NULL Rates", "ERROR", CATBOOST_LINE.removeprefix("Models affected: ")],
                     [CHECKED, CACHE, "Source Consistency", "ERROR", CATBOOST_LINE.removeprefix("Models affected: ")],
                     [CHECKED, CACHE, "Anomalies", "WARNING", CATBOOST_LINE.removeprefix("Models affected: ")],
                     [CHECKED, CACHE, "Drift", "WARNING", CATBOOST_LINE.removeprefix("Models affected: ")]]
    # the failing check's card, as pytest-html shows it under its row
    card = page.evaluate(f"""(() => {{
        const row = Array.from(document.querySelectorAll('tbody.results-table-row'))
            .find(r => r.id.endsWith({json.dumps(f"test_null_rates[{CACHE}-{CHECKED}]")}));
        const line = row.querySelector('.extra p.models-affected');
        return [line.innerText, line.getBoundingClientRect().height > 0];
    }})()""")
    assert card == [CATBOOST_LINE, True]
    cards = page.evaluate("document.querySelectorAll('.extra p.models-affected').length")
    assert cards == 4   # the four checks not OK (drift's NULL bin too); no line on the 21 others


# -- --model: a model's own gate ---------------------------------------------------------

def test_a_model_not_reading_the_null_feature_goes_where_the_full_run_holds(run_suite, demo_file, models_config):
    window = (f"--database={demo_file}", f"--date={CHECKED}", f"--health-config={models_config}")
    full = run_suite(*window)
    assert (full.ret, full.results["gate"]["decision"], full.verdict("null_rates", CHECKED)["severity"]) == \
        (1, "hold", "ERROR")
    breakout = run_suite(*window, "--model=breakout_classifier")
    assert (breakout.ret, breakout.results["status"]) == (0, "HEALTHY")
    assert breakout.results["gate"] | {"as_of": None, "tables": None} == {
        "date": CHECKED, "decision": "go", "reasons": [], "as_of": None, "final": True, "tables": None,
        "partial": "--model=breakout_classifier: the checks of its tables and features only", "recorded": False}
    # its tables' table-level checks and its features' checks: 13 of the 22, the cache only
    assert [(c["table"], c["dimension"]) for c in breakout.results["checks"]] == [(CACHE, d) for d in CACHE_DIMENSIONS]
    # the column-level checks judged on its features alone
    assert list(breakout.verdict("null_rates", CHECKED)["details"]["null_pct"]) == [
        "points_avg_last_10", "minutes_avg_last_10"]
    assert breakout.verdict("value_ranges", CHECKED)["message"] == "8 columns within their valid ranges (142 rows)"
    assert list(breakout.verdict("source_consistency", CHECKED)["details"]["mismatches"]) == []
    assert breakout.verdict("anomalies", CHECKED)["details"]["metrics_judged"] == 37   # 8 x 4 + 5 of the table
    assert breakout.results["models"] == {"breakout_classifier": {
        "status": "OK", "owner": "ml-breakout@example.com", "tables": [CACHE], "features_affected": [],
        "checks": []}}
    assert "--model=breakout_classifier" in breakout.results["rerun"]

    # a model reading usage_rate_last_10 holds, on the same findings as the full run
    catboost = run_suite(*window, "--model=catboost_v9")
    gate = catboost.results["gate"]
    assert (catboost.ret, gate["decision"], gate["recorded"]) == (1, "hold", False)
    assert [reason.split(":")[0] for reason in catboost.results["gate"]["reasons"]] == [
        f"{CACHE} null_rates ERROR", f"{CACHE} source_consistency ERROR"]
    assert {key: value[0] for key, value in severities(catboost).items()} == \
        {key: value[0] for key, value in severities(full).items()}
    assert "   " + CATBOOST_LINE in catboost.stdout.splitlines()
    assert catboost.results["models"]["catboost_v9"]["status"] == "ERROR"


@pytest.mark.parametrize(("model", "collected"), [
    ("catboost_v9", "25 tests collected"),                       # both tables, every dimension
    ("breakout_classifier", "15 tests collected"),               # its tables list: the cache only
    # the composite factors' 9 but drift: fatigue_score and fatigue_adjustment are schedule-driven, no drift column
    ("fatigue_adjuster", "9/15 tests collected (6 deselected)"),
])
def test_the_checks_collected_for_a_model(run_suite, demo_file, models_config, model, collected):
    run = run_suite(f"--database={demo_file}", f"--date={CHECKED}", f"--health-config={models_config}",
                    f"--model={model}", "--collect-only", "-q", results=False)
    assert run.ret == 0
    assert run.stdout.splitlines()[-1].startswith(f"{collected} in ")
    ids = [line.split("::")[1] for line in run.stdout.splitlines() if "::" in line]
    if model == "fatigue_adjuster":   # the composite factors' every dimension; none of the cache's
        assert ids == [f"test_{d}[{COMPOSITE}-{CHECKED}]" for d in COMPOSITE_DIMENSIONS if d != "drift"]


def test_a_model_run_reads_the_history_and_records_nothing(run_suite, demo_file, models_config, tmp_path):
    history = tmp_path / "history.duckdb"
    window = (f"--database={demo_file}", f"--date={CHECKED}", f"--health-config={models_config}",
              f"--history={history}")
    full = run_suite(*window)
    assert full.results["gate"]["recorded"] is True
    with duckdb.connect(str(history), read_only=True) as connection:
        rows = connection.execute("SELECT count(*) FROM metric_history").fetchone()[0]
    model = run_suite(*window, "--model=breakout_classifier")
    assert (model.ret, model.results["gate"]["decision"], model.results["gate"]["recorded"]) == (0, "go", False)
    assert model.results["history"]["read"]["dates"] > 0   # its baselines: what the full run recorded
    assert model.results["history"]["write"] == {
        "skipped": "--model=breakout_classifier: a model's run records nothing", "location": str(history)}
    assert f"not written (--model=breakout_classifier: a model's run records nothing) ({history})" in model.stdout
    with duckdb.connect(str(history), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM metric_history").fetchone()[0] == rows
    # the next full run still sees the table's day as it was: its verdicts, not the model's
    again = run_suite(*window)
    assert severities(again) == severities(full)
