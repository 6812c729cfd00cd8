"""The metric history: every run's metrics and verdicts, kept beyond the warehouse's partitions.

A DuckDB file beside the run archive (embedded backend) or a BigQuery table (bigquery backend),
append-only: the newest value per (table, date, metric) wins when read, so a rerun never counts
twice and two runs at once never overwrite each other. Baselines are read back from it.
"""

from feature_store_health.history.records import (
    HISTORY_COLUMNS, HistoryError, HistoryStore, RunInfo, decode_rows, history_rows,
)

__all__ = ["HISTORY_COLUMNS", "HistoryError", "HistoryStore", "RunInfo", "decode_rows", "history_rows"]
