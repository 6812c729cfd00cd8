"""A pytest plugin for bench/run_benchmark.py: records every query the DuckDB backend sends.

    BENCH_QUERY_LOG=/tmp/queries.jsonl PYTHONPATH=bench python -m pytest -p capture_queries data_tests ...

Each call of ``DuckDBBackend.run_query`` appends one JSON line: the table, the query as the suite
built it (BigQuery SQL, before translation), its parameters and its sql_hash. The benchmark runs
this in one untimed run with the same options as the timed ones, so the query it prints is the one
those runs sent (``--results-json`` would ask for the column profile; the benchmark compares the
``--dry-run`` plan with it).
"""

from __future__ import annotations

import json
import os

from feature_store_health.backends.duckdb_backend import DuckDBBackend
from feature_store_health.checks.query import sql_hash

_sent = DuckDBBackend.run_query


def _recording(self, table, sql, parameters):
    with open(os.environ["BENCH_QUERY_LOG"], "a") as log:
        log.write(json.dumps({"table": table, "sql": sql, "sql_hash": sql_hash(sql),
                              "parameters": {name: str(value) for name, value in parameters.items()}}) + "\n")
    return _sent(self, table, sql, parameters)


DuckDBBackend.run_query = _recording
