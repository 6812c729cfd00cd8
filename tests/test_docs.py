"""Docs that cannot drift: links, config keys, dimensions, the quickstart's output, the shell examples.

Conventions the tests rely on (docs/development.md says so too):
- every relative link in README.md and docs/*.md resolves to a file, and its ``#anchor`` to a
  heading of that file (GitHub's slug) or an explicit ``<a id="...">``;
- docs/configuration.md's section "Every key, with its default" has one table row per key, its
  first cell the key as ``section.key`` in backticks (``[[tables]]`` entries: ``tables.key``,
  ``[tables.source]``: ``tables.source.key``, ``[[mutes]]``: ``mutes.key``);
- the README's dimensions table has one row per dimension, its first cell
  ``[`id`](docs/runbook.md#id)``;
- the README's quickstart output is the fenced block after ``<!-- quickstart-output``;
- a shell example "names the demo warehouse" when a fenced ``sh``/``bash`` block has a line running
  ``pytest data_tests`` without ``--database`` (another file); those lines are run.
"""

from __future__ import annotations

import functools
import os
import re
import shlex
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import pytest

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.config import load_config

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
CONFIGURATION = DOCS / "configuration.md"
RUNBOOK = DOCS / "runbook.md"
HEALTH_TOML = ROOT / "feature_store_health" / "health.toml"
PAGES = [README, *sorted(DOCS.glob("*.md"))]


# -- markdown: prose, fenced blocks, headings, anchors ---------------------------------------------

def split_fences(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The prose (fenced blocks blanked) and each fenced block as (language, body). Fences may be
    indented, as in a list item."""
    prose: list[str] = []
    blocks: list[tuple[str, str]] = []
    fence: str | None = None
    body: list[str] = []
    for line in text.split("\n"):
        stripped = line.strip()
        if fence is None and stripped.startswith("```"):
            fence, body = stripped[3:].strip(), []
            prose.append("")
        elif fence is not None and stripped == "```":
            blocks.append((fence, "\n".join(body)))
            fence = None
            prose.append("")
        elif fence is not None:
            body.append(line)
            prose.append("")
        else:
            prose.append(line)
    return "\n".join(prose), blocks


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: markup dropped, lower case, punctuation but - and _ removed,
    spaces to hyphens."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)   # a link: its text
    text = text.replace("`", "").strip().lower()
    text = "".join(char for char in text if char.isalnum() or char in " -_")
    return text.replace(" ", "-")


def anchors(text: str) -> set[str]:
    prose, _ = split_fences(text)
    found: set[str] = set()
    seen: dict[str, int] = {}
    for match in re.finditer(r"^#{1,6} (.+?)\s*$", prose, re.M):
        base = slug(match.group(1))
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    found.update(re.findall(r'<a id="([^"]+)"', text))
    return found


LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(text: str) -> list[str]:
    prose, _ = split_fences(text)
    # code spans (`x`, or ``x`` holding a backtick) are not links; a link's text may be one
    prose = re.sub(r"``.*?``|`[^`\n]*`", "", prose)
    return [target for target in LINK.findall(prose)
            if not re.match(r"[a-z][a-z0-9+.-]*:", target)]   # http:, https:, mailto: are not ours


def broken_links(page: Path) -> list[str]:
    broken = []
    for target in relative_links(page.read_text()):
        path_part, _, anchor = target.partition("#")
        file = (page.parent / path_part).resolve() if path_part else page
        if not file.exists():
            broken.append(f"{target}: no file {file}")
        elif anchor and (file.suffix != ".md" or anchor not in anchors(file.read_text())):
            broken.append(f"{target}: no heading or <a id> {anchor!r} in {file.name}")
    return broken


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves(page):
    assert broken_links(page) == []


def test_a_broken_link_is_found(tmp_path):
    (tmp_path / "other.md").write_text("# Other page\n\n## Its `section`: here\n<a id=\"kept\"></a>\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](other.md#its-section-here) [ok](other.md#kept) [`code` ok](#a-heading)\n"
                    "``[`code`](not-a-link.md)``\n\n"
                    "## A heading\n\n[gone](missing.md) [bad](other.md#nowhere) [web](https://example.test/x)\n"
                    "```sh\n[not a link](inside-a-fence.md)\n```\n")
    assert broken_links(page) == [
        f"missing.md: no file {tmp_path / 'missing.md'}",
        "other.md#nowhere: no heading or <a id> 'nowhere' in other.md",
    ]


def test_readme_is_a_front_door():
    assert len(README.read_text().split("\n")) <= 300


# -- config keys: docs/configuration.md against health.toml and the parsers -----------------------

KEY_SECTION = "## Every key, with its default"
KEY_ROW = re.compile(r"^\| `([a-z_]+(?:\.[a-z_]+)+)` \|", re.M)
# [tables.value_ranges] holds column names and [tables.thresholds] the [thresholds] keys again:
# each is one documented key, not a section of its own
OPAQUE = {"tables.value_ranges", "tables.thresholds"}


def documented_keys(text: str) -> set[str]:
    start = text.index(KEY_SECTION)
    end = text.find("\n## ", start + len(KEY_SECTION))
    return set(KEY_ROW.findall(text[start:end if end != -1 else len(text)]))


def _flatten(value: object, prefix: str, keys: set[str]) -> None:
    if isinstance(value, list) and value and all(isinstance(item, dict) for item in value):
        for item in value:
            _flatten(item, prefix, keys)
    elif isinstance(value, dict) and prefix not in OPAQUE:
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else key, keys)
    else:
        keys.add(prefix)


def toml_keys(text: str) -> set[str]:
    """Every key of health.toml: the set ones and the commented-out examples (``# key = value``
    under a real or a commented ``[section]``)."""
    keys: set[str] = set()
    _flatten(tomllib.loads(text), "", keys)
    section, pending = "", ""
    for line in text.split("\n"):
        header = re.match(r"^(#\s*)?\[\[?([a-z_.]+)\]\]?\s*(#.*)?$", line)
        if header:
            section = header.group(2)
            continue
        if not line.startswith("#"):
            continue
        body = line[1:].strip()
        if pending:   # a commented multi-line value: read on until it parses
            pending += "\n" + body
        elif re.match(r"^[a-z_]+ = ", body):
            pending = body
        else:
            continue
        try:
            parsed = tomllib.loads(pending)
        except tomllib.TOMLDecodeError:
            # only an array goes on over lines; a line that fails otherwise is prose
            if not re.match(r"^[a-z_]+ = \[", pending) or pending.count("\n") > 40:
                pending = ""
            continue
        pending = ""
        for key in parsed:
            if not section.startswith("tables.value_ranges"):
                keys.add(f"{section}.{key}")
    return keys


# every section the parsers validate; a header not in health.toml is appended to it
PARSED_SECTIONS = ["deadline", "schedule", "predictions", "runbook", "slack", "history", "baseline",
                   "[tables]", "tables.source", "pagerduty", "remediation", "[mutes]", "[models]",
                   "[baseline.new_levels]", *(f"thresholds.{dimension}" for dimension in DIMENSIONS)]


@functools.cache
def parser_keys() -> frozenset[str]:
    """The keys each config parser accepts, asked of the parsers themselves: an unknown key in a
    section is refused with the list of the allowed ones."""
    text = HEALTH_TOML.read_text()
    keys: set[str] = set()
    with tempfile.TemporaryDirectory() as folder:
        for section in PARSED_SECTIONS:
            header = f"[{section}]"
            line = re.compile(rf"^{re.escape(header)}[ \t]*(#.*)?$", re.M)
            probe = (line.sub(lambda match: match.group(0) + "\nzz_unknown = 1", text, count=1) if line.search(text)
                     else text + f"\n{header}\nzz_unknown = 1\n")
            path = Path(folder) / "probe.toml"
            path.write_text(probe)
            with pytest.raises(ValueError) as refused:
                load_config(path, ROOT)
            allowed = re.search(r"(?:allowed: |the keys are |expected )([a-z_, ]*)", str(refused.value))
            assert allowed, str(refused.value)
            name = section.strip("[]")
            keys.update(f"{name}.{key.strip()}" for key in allowed.group(1).split(",") if key.strip())
    return frozenset(keys)


def key_drift(configuration: str, health_toml: str) -> dict[str, list[str]]:
    documented = documented_keys(configuration)
    known = parser_keys() | toml_keys(health_toml)
    return {"undocumented": sorted(known - documented), "unknown": sorted(documented - known)}


def test_every_config_key_is_documented_and_every_documented_key_exists():
    assert key_drift(CONFIGURATION.read_text(), HEALTH_TOML.read_text()) == {"undocumented": [], "unknown": []}


def test_the_key_list_reads_health_toml_and_the_parsers():
    keys = toml_keys(HEALTH_TOML.read_text())
    # set keys, commented examples under a real section and under a commented one
    assert {"deadline.time", "tables.source.tolerance", "thresholds.drift.minimum_spread", "tables.value_ranges",
            "tables.thresholds", "slack.channel", "history.path", "tables.partition_expiration_days",
            "pagerduty.routing_key_env", "mutes.until", "models.features", "baseline.new_levels.since"} <= keys
    assert not any(key.startswith("tables.value_ranges.") for key in keys)
    # keys only a parser knows: no default in health.toml
    assert {"tables.drift_columns", "tables.profile_exclude", "tables.source.features"} <= parser_keys() - keys


def test_a_key_missing_from_the_docs_or_unknown_to_the_config_fails():
    configuration = CONFIGURATION.read_text()
    row = re.search(r"^\| `slack\.repeat_after_hours` \|.*\n", configuration, re.M).group(0)
    assert key_drift(configuration.replace(row, ""), HEALTH_TOML.read_text()) == {
        "undocumented": ["slack.repeat_after_hours"], "unknown": []}
    assert key_drift(configuration.replace(row, row + "| `slack.retry_forever` | gone | — |\n"),
                     HEALTH_TOML.read_text()) == {"undocumented": [], "unknown": ["slack.retry_forever"]}
    # a key health.toml gains (a commented example too) must be documented
    grown = HEALTH_TOML.read_text().replace("[runbook]\n", "[runbook]\n# mirror = \"https://example.test\"\n")
    assert key_drift(configuration, grown) == {"undocumented": ["runbook.mirror"], "unknown": []}


# -- dimensions: the registry, the README's table, the runbook -------------------------------------

DIMENSION_ROW = re.compile(r"^\| \[`([a-z_]+)`\]\(docs/runbook\.md#([a-z_]+)\) \|", re.M)


def dimension_drift(readme: str, runbook: str) -> dict[str, list[str]]:
    rows = {dimension: anchor for dimension, anchor in DIMENSION_ROW.findall(readme)}
    sections = anchors(runbook)
    return {
        "no_readme_row": [dimension for dimension in DIMENSIONS if dimension not in rows],
        "row_links_elsewhere": sorted(dimension for dimension, anchor in rows.items() if anchor != dimension),
        "no_runbook_section": [dimension for dimension in DIMENSIONS if dimension not in sections],
        "not_a_dimension": sorted(set(rows) - set(DIMENSIONS)),
    }


def test_every_dimension_has_a_readme_row_and_a_runbook_section():
    assert dimension_drift(README.read_text(), RUNBOOK.read_text()) == {
        "no_readme_row": [], "row_links_elsewhere": [], "no_runbook_section": [], "not_a_dimension": []}


def test_a_dimension_missing_from_the_readme_or_the_runbook_fails():
    readme, runbook = README.read_text(), RUNBOOK.read_text()
    row = re.search(r"^\| \[`drift`\].*\n", readme, re.M).group(0)
    section = runbook.index('<a id="drift"></a>')
    following = runbook.index("\n## ", section + 30)
    assert dimension_drift(readme.replace(row, ""), runbook[:section] + runbook[following:]) == {
        "no_readme_row": ["drift"], "row_links_elsewhere": [], "no_runbook_section": ["drift"],
        "not_a_dimension": []}


# -- the quickstart's output and the shell examples, run on the demo warehouse --------------------

@pytest.fixture(scope="module")
def run_example(tmp_path_factory):
    """Run a documented command as a user would, from a folder standing for a fresh clone: the
    suite, the fixtures (its demo warehouse) and pytest.ini linked in, so the examples' reports/ and
    out/ land there, not in the checkout. Each command runs once per session."""
    folder = tmp_path_factory.mktemp("docs-examples")
    for name in ("data_tests", "fixtures", "pytest.ini", "conftest.py"):
        (folder / name).symlink_to(ROOT / name)
    environment = {**os.environ, "FEATURE_STORE_HEALTH_HISTORY": "off"}   # never the developer's history
    for variable in ("SLACK_WEBHOOK_URL", "PYTEST_ADDOPTS", "BIGQUERY_EMULATOR_HOST"):
        environment.pop(variable, None)
    done: dict[str, subprocess.CompletedProcess[str]] = {}

    def run(command: str) -> subprocess.CompletedProcess[str]:
        words = shlex.split(command, comments=True)
        if words[0] == "./with-venv":   # the tests already run in the project's environment
            words = words[1:]
        assert words[0] == "pytest", command
        key = " ".join(words)
        if key not in done:
            done[key] = subprocess.run([sys.executable, "-m", *words], cwd=folder, env=environment,
                                       capture_output=True, text=True, timeout=600)
        return done[key]

    return run


QUICKSTART = "./with-venv pytest data_tests --date=2026-02-05"
# the lines of the output that carry timings or paths of the run that printed them
TIMED = ("Queries:", "History:", "Dashboard:", "Archived:")


def quickstart_output(readme: str) -> list[str]:
    block = readme.split("<!-- quickstart-output", 1)[1].split("```\n", 1)[1].split("\n```", 1)[0]
    return [line for line in block.split("\n") if not line.startswith(TIMED)]


def printed_report(stdout: str, first_line: str) -> list[str]:
    lines = stdout.split("\n")
    start = lines.index(first_line)
    end = next(index for index in range(start, len(lines)) if lines[index].startswith("Overall Status:"))
    return [line for line in lines[start:end + 1] if not line.startswith(TIMED)]


def test_the_readme_shows_what_the_quickstart_prints(run_example):
    expected = quickstart_output(README.read_text())
    assert expected[0] == "player_daily_cache · 2026-02-05 · as of 2026-02-05 09:00 EST"
    assert "Summary: 25/25 checks passed" in expected and expected[-1] == "Overall Status: ✅ HEALTHY"
    run = run_example(QUICKSTART)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert printed_report(run.stdout, expected[0]) == expected


def test_a_changed_output_line_is_found():
    expected = quickstart_output(README.read_text())
    stdout = "\n".join(expected).replace("Summary: 25/25 checks passed", "Summary: 24/25 checks passed")
    assert printed_report(stdout, expected[0]) != expected


def shell_examples() -> list[object]:
    params = []
    for page in PAGES:
        _, blocks = split_fences(page.read_text())
        for language, body in blocks:
            if language not in ("sh", "bash", "shell"):
                continue
            for line in body.replace("\\\n", " ").split("\n"):
                command = line.strip()
                if "pytest data_tests" not in command or "--database" in command:
                    continue   # not the suite, or another file than the demo warehouse
                where = f"{page.relative_to(ROOT).as_posix()}: {command.split('#')[0].strip()}"
                reason = None
                if "--backend=bigquery" in command or "--bigquery-endpoint" in command:
                    reason = "needs BigQuery (or its emulator: tests/test_bigquery.py runs it)"
                elif "SLACK_WEBHOOK_URL=https://" in body:
                    reason = "sends to Slack over the network (the tests use a loopback webhook: tests/loopback_http.py)"
                marks = [pytest.mark.skip(reason=reason)] if reason else []
                params.append(pytest.param(command, marks=marks, id=where))
    return params


EXAMPLES = shell_examples()


def test_the_examples_are_found():
    commands = [param.values[0] for param in EXAMPLES]
    assert any(command.startswith(QUICKSTART) for command in commands)
    assert len([param for param in EXAMPLES if not param.marks]) >= 5


@pytest.mark.parametrize("command", EXAMPLES)
def test_every_shell_example_on_the_demo_warehouse_runs(command, run_example):
    run = run_example(command)
    output = run.stdout + run.stderr
    # judged: exit 0 (healthy) or 1 (a documented incident date), never bad input (4) or a crash
    assert run.returncode in (0, 1), output[-3000:]
    assert "Traceback" not in output
    assert re.search(r"^Overall Status: ", run.stdout, re.M), output[-3000:]


# -- the package layout: one line per module in docs/development.md --------------------------------

def test_every_module_of_the_package_has_its_line_in_the_layout():
    documented = re.findall(r"^\| `(feature_store_health/[^`]+\.py)` \|", (DOCS / "development.md").read_text(), re.M)
    modules = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "feature_store_health").rglob("*.py"))
    assert sorted(documented) == modules
