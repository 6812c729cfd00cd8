"""The package's layout, read from its source with ``ast`` (nothing is imported):

- the imports go one way between the configuration and the checks: ``config.py`` (the reader)
  may import ``checks/``, no module of ``checks/`` imports ``config.py``, and ``config_types.py``
  (the types the checks use) imports nothing from ``checks/``;
- no module is over 400 lines.

Every import counts: at module level, under ``TYPE_CHECKING`` and inside a function, since each is
a dependency someone reading or moving the module has to follow.
"""

from __future__ import annotations

import ast
from pathlib import Path


ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "feature_store_health"
READER = "feature_store_health.config"
TYPES = "feature_store_health.config_types"
CHECKS = "feature_store_health.checks"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(source: str, name: str, is_package: bool, known: set[str]) -> list[tuple[str, int]]:
    """(module, line) for every import in ``source``, the module ``name``: ``from X import y``
    names X, and X.y too when that is a module of ``known`` (``from feature_store_health import
    config``); relative imports are resolved against ``name``."""
    package = name if is_package else name.rpartition(".")[0]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            found.append((base, node.lineno))
            found += [(f"{base}.{alias.name}", node.lineno) for alias in node.names if f"{base}.{alias.name}" in known]
    return found


def package_imports() -> dict[str, list[tuple[str, int]]]:
    modules = package_modules()
    return {name: imports_of(path.read_text(encoding="utf-8"), name, path.name == "__init__.py", set(modules))
            for name, path in modules.items()}


def within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def import_chain(start: str, target: str, graph: dict[str, list[tuple[str, int]]]) -> list[str] | None:
    """The shortest chain of imports from ``start`` to ``target`` (importing a module runs its
    packages' ``__init__`` too), or None."""
    def runs(module: str) -> list[str]:
        parents = [".".join(module.split(".")[:end]) for end in range(1, module.count(".") + 1)]
        return [m for m in (*parents, module) if m in graph]

    previous: dict[str, str | None] = {start: None}
    frontier = [start]
    while frontier:
        following = []
        for module in frontier:
            for imported, _ in graph[module]:
                for step in runs(imported):
                    if step not in previous:
                        previous[step] = module
                        following.append(step)
        if target in previous:
            chain, step = [], target
            while step is not None:
                chain.append(step)
                step = previous[step]
            return chain[::-1]
        frontier = following
    return None


def modules_over(limit: int) -> set[str]:
    return {path.relative_to(ROOT).as_posix() for path in package_modules().values()
            if len(path.read_text(encoding="utf-8").splitlines()) > limit}


def test_the_import_reader_sees_every_import() -> None:
    """The reader the tests below rely on: relative, lazy and TYPE_CHECKING imports, and a module
    imported by ``from package import module``."""
    source = (
        "from typing import TYPE_CHECKING\n"
        "from ...config_types import TableConfig\n"
        "if TYPE_CHECKING:\n"
        "    from feature_store_health.config import HealthConfig\n"
        "def f():\n"
        "    from feature_store_health import config\n"
        "    import feature_store_health.checks.verdict as verdict\n"
        "    from . import base\n"
    )
    known = {"feature_store_health.config", "feature_store_health.checks.dimensions.base"}
    assert imports_of(source, "feature_store_health.checks.dimensions.drift", False, known) == [
        ("typing", 1), ("feature_store_health.config_types", 2), ("feature_store_health.config", 4),
        ("feature_store_health", 6), ("feature_store_health.config", 6), ("feature_store_health.checks.verdict", 7),
        ("feature_store_health.checks.dimensions", 8), ("feature_store_health.checks.dimensions.base", 8),
    ]


def test_no_module_of_the_checks_imports_the_config_reader() -> None:
    """checks/ takes its types from config_types.py (and its kin), never from config.py: config.py
    imports the checks (the registry validates the thresholds), so the other way is a circle."""
    offenders = [f"{name} line {line}" for name, imports in package_imports().items() if within(name, CHECKS)
                 for imported, line in imports if imported == READER]
    assert offenders == []


def test_no_module_of_the_checks_reaches_the_config_reader_through_another() -> None:
    graph = package_imports()
    chains = {name: chain for name in graph if within(name, CHECKS)
              if (chain := import_chain(name, READER, graph)) is not None}
    assert chains == {}


def test_the_config_types_import_nothing_from_the_checks() -> None:
    imports = package_imports()[TYPES]
    assert [f"{imported} line {line}" for imported, line in imports if within(imported, CHECKS)] == []


def test_no_module_is_over_400_lines() -> None:
    assert modules_over(MAX_LINES) == set(), f"over {MAX_LINES} lines: split them by job"
