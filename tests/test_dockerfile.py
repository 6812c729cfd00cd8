"""The Cloud Run image: its entrypoint runs the suite. Executed without Docker (none here): the
image's command, run from the files the image holds, against the BigQuery emulator."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def dockerfile_entrypoint() -> list[str]:
    text = (ROOT / "Dockerfile").read_text()
    (entrypoint,) = re.findall(r"^ENTRYPOINT (\[.*\])$", text, re.M)
    return json.loads(entrypoint)


def image_files(target: Path) -> Path:
    """The build context less .dockerignore's patterns (the ones this project uses)."""
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith(("#", "!"))]
    skip = {pattern for pattern in ignored if "/" not in pattern and "*" not in pattern}
    shutil.copytree(ROOT, target, ignore=lambda folder, names: [
        name for name in names if name in skip or name in ("__pycache__", ".warehouse", ".pytest_cache")
        or name.endswith((".duckdb", ".egg-info")) or (Path(folder) == ROOT / "reports" and name != ".gitkeep")])
    return target


def test_dockerfile_installs_the_package_and_runs_the_suite_on_bigquery():
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11-slim" in text
    assert "RUN pip install --no-cache-dir '.[bigquery]'" in text and " -e " not in text
    assert dockerfile_entrypoint() == ["pytest", "data_tests", "--backend=bigquery"]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", "tests", "fixtures/.warehouse", ".git"} <= set(ignored)


def test_the_entrypoint_runs_the_suite(healthy_warehouse_file, bigquery_emulator, tmp_path):
    bigquery_emulator.load("image", healthy_warehouse_file)
    app = image_files(tmp_path / "app")
    assert not (app / "tests").exists() and (app / "data_tests").is_dir()
    command = [*dockerfile_entrypoint(), f"--bigquery-endpoint={bigquery_emulator.url}", "--project=image",
               "--date=2026-02-05", f"--reports-dir={tmp_path / 'reports'}", "-p", "no:cacheprovider"]
    command[0] = str(Path(sys.executable).with_name("pytest"))
    env = {key: value for key, value in os.environ.items() if key not in ("SLACK_WEBHOOK_URL", "PYTEST_ADDOPTS")}
    completed = subprocess.run(command, cwd=app, capture_output=True, text=True, timeout=180, env=env)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-2000:]
    assert "Overall Status: ✅ HEALTHY" in completed.stdout
    assert "Summary: 25/25 checks passed" in completed.stdout  # both tables, source_consistency included
    assert list((tmp_path / "reports").glob("2026-02-05/*/report.html"))
