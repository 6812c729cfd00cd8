"""How a judged check becomes a pytest outcome: pass, pass with a visible warning, skip or fail."""

from __future__ import annotations

import warnings

import pytest

from feature_store_health.checks.dimensions import DIMENSIONS
from feature_store_health.checks.verdict import Severity, Verdict

__all__ = ["HealthWarning", "assert_acceptable"]


class HealthWarning(UserWarning):
    """A check at WARNING severity: the run passes (unless --fail-on=warning), visibly."""


def assert_acceptable(verdict: Verdict, fail_on: str) -> None:
    """Pass, warn visibly, skip (nothing to judge) or fail, by severity and ``--fail-on``."""
    label = DIMENSIONS[verdict.dimension].label
    if verdict.severity is Severity.SKIPPED:
        pytest.skip(f"{label}: {verdict.message}")
    text = f"{verdict.severity.value} {label} on {verdict.check_date}: {verdict.message}"
    if verdict.severity.fails(fail_on):
        pytest.fail(f"{text}; thresholds: {verdict.threshold_text()}", pytrace=False)
    if verdict.severity is Severity.WARNING:
        warnings.warn(HealthWarning(text), stacklevel=2)
