"""completeness: % rows with every rolling window (l5, l10, l7d, l14d) complete."""

from feature_store_health.checks.dimensions.base import share_of_true_rows

__all__ = ["DIMENSION"]

DIMENSION = share_of_true_rows(
    "completeness", "Completeness", "% rows with all rolling windows complete",
    "completeness_column", "complete_count", "rows with all windows complete", "incomplete",
    minimum_key="completeness_min_pct",
)
