"""pytest-based health checks for the NBA feature store (nba_precompute.player_daily_cache)."""

from feature_store_health.checks.verdict import Severity, Verdict, overall_status
from feature_store_health.outcome import HealthWarning, assert_acceptable

__all__ = ["HealthWarning", "Severity", "Verdict", "assert_acceptable", "overall_status", "__version__"]

__version__ = "0.1.0"
