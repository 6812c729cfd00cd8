"""production_readiness: % rows with is_production_ready = TRUE (NULL counts as not ready)."""

from feature_store_health.checks.dimensions.base import share_of_true_rows

__all__ = ["DIMENSION"]

DIMENSION = share_of_true_rows(
    "production_readiness", "Production Readiness", "% rows production ready",
    "production_ready_column", "production_ready_count", "production ready", "not_ready",
)
