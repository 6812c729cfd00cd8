"""The models that read the feature tables (``[[models]]``): their features, and a run narrowed to
one of them (``--model=NAME``).

A model's features are columns of the monitored tables' contracts. A finding that concerns a
column (checks/concerns.py) names the models that read it; ``--model`` runs the table-level checks
of the model's tables and the column-level checks judged on its features only, so a prediction
job can gate on its own inputs. Nothing here changes a severity.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple, TYPE_CHECKING

if TYPE_CHECKING:
    from feature_store_health.config import HealthConfig, TableConfig

__all__ = ["TABLE_LEVEL", "ModelConfig", "model_features", "narrow_to_model", "narrowed_table", "parse_models",
           "reads_table"]

# Dimensions that judge the table's rows as a whole, not a column a model reads: --model runs them
# for each table the model reads. quality_tiers, production_readiness and completeness count a
# row-level status column, which no model takes as a feature: a shortfall there touches every model.
TABLE_LEVEL = ("arrival", "coverage", "staleness", "uniqueness", "production_readiness", "completeness",
               "quality_tiers", "downstream_usage", "schema")

# The table's column lists that --model narrows to the model's features. The last five belong to
# drift and continuity; a TableConfig without them (an older checkout) is left as it is.
_OPTIONAL_COLUMN_LISTS = ("drift_columns", "category_columns", "continuity_columns", "continuity_counters",
                          "team_columns")

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,299}$")
_KEYS = {"name", "features", "owner", "tables", "description"}


class ModelConfig(NamedTuple):
    """One consumer of the feature tables: the columns it reads and who answers for it."""

    name: str
    features: tuple[str, ...]
    owner: str
    tables: tuple[str, ...] = ()      # only these tables' columns; () every monitored table
    description: str | None = None


def model_features(model: ModelConfig, table: "TableConfig") -> tuple[str, ...]:
    """The model's features that are columns of ``table`` (in the model's order): none for a table
    its ``tables`` leave out or a table without a contract."""
    if (model.tables and table.name not in model.tables) or table.contract is None:
        return ()
    return tuple(feature for feature in model.features if feature in table.contract)


def reads_table(model: ModelConfig, table: "TableConfig") -> bool:
    """A table the model reads: listed in its ``tables``, or (none listed) holding one of its features."""
    return table.name in model.tables if model.tables else bool(model_features(model, table))


def parse_models(raw: Any, tables: "tuple[TableConfig, ...]") -> tuple[ModelConfig, ...]:
    """``[[models]]`` entries, validated against the monitored tables; ValueError names the key."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(entry, dict) for entry in raw):
        raise ValueError('models must be [[models]] entries, e.g. [[models]] name = "catboost_v9"')
    models = [_model(entry, index, tables) for index, entry in enumerate(raw)]
    seen: set[str] = set()
    for index, model in enumerate(models):
        if model.name in seen:
            raise ValueError(f"models[{index}].name = {model.name!r} is listed twice; model names must be unique")
        seen.add(model.name)
    return tuple(models)


def _model(entry: dict[str, Any], index: int, tables: "tuple[TableConfig, ...]") -> ModelConfig:
    prefix = f"models[{index}]"
    unknown = sorted(set(entry) - _KEYS)
    if unknown:
        raise ValueError(f"unknown key {prefix}.{unknown[0]} (allowed: {', '.join(sorted(_KEYS))})")
    missing = sorted({"name", "features", "owner"} - set(entry))
    if missing:
        raise ValueError(f"{prefix}: missing {', '.join(missing)} (a model needs its name, the features it "
                         "reads and an owner)")
    name = entry["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"{prefix}.name = {name!r} must be a name of letters, digits, _, . and - (e.g. catboost_v9)")
    prefix = f"{prefix} ({name})"
    owner = entry["owner"]
    if not isinstance(owner, str) or not owner.strip():
        raise ValueError(f"{prefix}.owner must be who answers for the model, e.g. \"ml-platform@example.com\"")
    description = entry.get("description")
    if description is not None and not isinstance(description, str):
        raise ValueError(f"{prefix}.description must be a string")
    names = [table.name for table in tables]
    listed = _names(entry["tables"], f"{prefix}.tables", _NAME) if "tables" in entry else ()
    for table_name in listed:
        if table_name not in names:
            raise ValueError(f"{prefix}.tables: {table_name} is not a monitored table ({', '.join(names)})")
    features = _names(entry["features"], f"{prefix}.features", _COLUMN)
    searched = [table for table in tables if not listed or table.name in listed]
    for feature in features:
        if not any(table.contract is not None and feature in table.contract for table in searched):
            contracts = ", ".join(f"{table.name}: {table.contract_path}" if table.contract_path is not None
                                  else f"{table.name}: no contract" for table in searched)
            raise ValueError(f"{prefix}.features: {feature} is not a column of any monitored table's contract "
                             f"({contracts}); list the columns the model reads")
    return ModelConfig(name, features, owner.strip(), listed, description)


def _names(value: Any, key: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{key} must be a non-empty list of names")
    for item in value:
        if not pattern.match(item):
            raise ValueError(f"{key}: {item!r} is not a valid name")
    duplicated = sorted({item for item in value if value.count(item) > 1})
    if duplicated:
        raise ValueError(f"{key}: {duplicated[0]} is listed twice; list each once")
    return tuple(value)


def narrow_to_model(config: "HealthConfig", name: str) -> "HealthConfig":
    """The configuration of a ``--model=NAME`` run: the tables the model reads, each with its
    column lists cut to the model's features (a dimension left with none is not collected), the one
    model, and no reprocess request (its narrowed verdicts are not the table's). ValueError for a
    name no [[models]] entry has."""
    model = next((model for model in config.models if model.name == name), None)
    if model is None:
        configured = ", ".join(model.name for model in config.models)
        known = f"the configured models: {configured}" if configured else f"no [[models]] entry in {config.path}"
        raise ValueError(f"--model={name}: no such model ({known}); give one of them, or add a [[models]] entry")
    tables = tuple(narrowed_table(model, table) for table in config.tables if reads_table(model, table))
    return config._replace(tables=tables, models=(model,), remediation=None)


def narrowed_table(model: ModelConfig, table: "TableConfig") -> "TableConfig":
    """``table`` as a --model run of ``model`` checks it: its column lists cut to the model's features."""
    features = set(model_features(model, table))
    source = table.source
    if source is not None:
        kept = tuple(feature for feature in source.features if feature in features)
        # no stat feature of the model to recompute: source_consistency (and its roster check) is not
        # collected; coverage still judges missing teams
        source = source._replace(features=kept) if kept else None
    # anomalies tracks the profiled columns: the model's features only (its table-wide metrics stay).
    # A table without a contract holds none of its features (parse_models) and keeps its profile.
    profiled = table.contract if table.contract is not None else {}
    exclude = tuple(dict.fromkeys([*table.profile_exclude, *(column for column in profiled if column not in features)]))
    narrowed = table._replace(
        critical_features=tuple(column for column in table.critical_features if column in features),
        value_ranges=tuple(rule for rule in table.value_ranges if rule.column in features),
        source=source,
        profile_exclude=exclude,
    )
    optional = {name: tuple(column for column in getattr(table, name) if column in features)
                for name in _OPTIONAL_COLUMN_LISTS if name in table._fields and getattr(table, name) is not None}
    return narrowed._replace(**optional) if optional else narrowed
