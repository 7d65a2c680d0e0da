"""The same questions as benches/queries.rs, in DuckDB over the same Parquet files, in-process.

usage: duckdb_queries.py ARCHIVE_DIR QUERIES_FILE [RUNS] -> `name rows median_ms min_ms` lines
"""
import statistics
import sys
import time

import duckdb

archive, queries = sys.argv[1], sys.argv[2]
runs = int(sys.argv[3]) if len(sys.argv) > 3 else 5
con = duckdb.connect()
con.execute(
    "CREATE VIEW traces AS SELECT * FROM read_parquet("
    f"'{archive}/traces/*/*.parquet', hive_partitioning = true, hive_types = {{'day': VARCHAR}})"
)
for line in open(queries):
    if not line.strip():
        continue
    name, sql = line.rstrip("\n").split("|", 1)
    times = []
    rows = 0
    for _ in range(runs + 1):
        started = time.perf_counter()
        rows = len(con.execute(sql).fetchall())
        times.append((time.perf_counter() - started) * 1000)
    times = sorted(times[1:])
    print(f"{name} {rows} {statistics.median(times):.1f} {times[0]:.1f}")
