"""Where the data comes from: a backend for the run's settings, the demo warehouse on first use."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from feature_store_health.backends.base import Backend, BackendError
from feature_store_health.backends.duckdb_backend import DuckDBBackend, SqlCache
from feature_store_health.settings import RunSettings

__all__ = ["demo_warehouse_path", "load_fixture", "make_backend"]


def make_backend(settings: RunSettings, rootpath: Path, sql_cache: SqlCache | None) -> Backend:
    """The backend the settings ask for; raises BackendError when it cannot be set up."""
    if settings.backend == "bigquery":
        from feature_store_health.backends.bigquery_backend import BigQueryBackend, BigQuerySettings, normalize_endpoint

        return BigQueryBackend(BigQuerySettings(
            project=settings.project,
            location=settings.location,
            endpoint=normalize_endpoint(settings.bigquery_endpoint) if settings.bigquery_endpoint else None,
            max_bytes_billed=settings.max_bytes_billed,
            query_timeout=settings.query_timeout,
            labels={"app": "feature-store-health", "check-date": settings.check_date.isoformat(),
                    "days": str(settings.days)},
        ))
    path = settings.database if settings.database is not None else demo_warehouse_path(rootpath)
    return DuckDBBackend(path, sql_cache)


def demo_warehouse_path(rootpath: Path) -> Path:
    """The demo warehouse file, generated deterministically on first use and reused after."""
    generator = load_fixture(rootpath, "demo_warehouse")
    path = rootpath / "fixtures" / ".warehouse" / f"demo-{generator.VERSION}.duckdb"
    if not path.is_file():
        try:
            generator.build_demo_warehouse(path)
        except Exception as exc:  # any failure to build is a run that could not be evaluated
            raise BackendError(f"could not build the demo warehouse at {path}: {exc}") from None
    return path


def load_fixture(rootpath: Path, name: str) -> ModuleType:
    """A module of the checkout's ``fixtures/`` folder (the demo generator, the BigQuery loader).
    They are scripts, not part of the installed package, so they are loaded by path."""
    path = rootpath / "fixtures" / f"{name}.py"
    if not path.is_file():
        raise BackendError(f"{path} not found; run from the project checkout or pass --database")
    module_name = f"feature_store_health_fixtures_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # dataclasses resolve annotations through sys.modules
    spec.loader.exec_module(module)
    return module
