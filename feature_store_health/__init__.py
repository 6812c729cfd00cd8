"""pytest-based health checks for the NBA feature store (nba_precompute.player_daily_cache)."""

from feature_store_health.checks.verdict import Severity, Verdict, overall_status

__all__ = ["Severity", "Verdict", "overall_status", "__version__"]

__version__ = "0.1.0"
