"""A wheel built from the repository holds every package of the suite and its default config.

The full flow (install the wheel in a fresh venv, run the main job from it) is tools/check-wheel,
which .ci/run runs: it downloads the dependencies, too slow for the unit tests.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_holds_every_package_and_the_default_config(tmp_path):
    # built from a clean copy: setuptools' in-tree build/ folder would carry stale modules along
    source = tmp_path / "source"
    shutil.copytree(ROOT / "feature_store_health", source / "feature_store_health",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    [wheel] = tmp_path.glob("feature_store_health-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    packages = sorted(
        init.parent.relative_to(ROOT).as_posix() for init in (ROOT / "feature_store_health").rglob("__init__.py")
    )
    assert "feature_store_health/alerting" in packages  # the one a hand-kept list once left out
    for package in packages:
        assert f"{package}/__init__.py" in names, package
    modules = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "feature_store_health").rglob("*.py"))
    assert [module for module in modules if module not in names] == []
    assert "feature_store_health/health.toml" in names
    assert not any(name.startswith(("tests/", "fixtures/", "bench/")) for name in names)
