"""DuckDB's best effort at the same job as `cts load`: trace files (.json.gz) to Parquet.

read_json's schema inference fails on real CTS variants (a sampled column typed UUID meets
'mapping_corp-adfs'; union_by_name runs out of memory over ~30k files), so this reads each record
as a JSON object and extracts the same fields in SQL, as a DuckDB user would. It neither
normalises every variant nor drops re-delivered duplicates: it does less work than cts.

usage: python3 duckdb_load.py BUCKET OUT.parquet THREADS
"""
import sys
import time

import duckdb

bucket, out, threads = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect()
con.execute(f"SET threads={threads}")
con.execute("SET preserve_insertion_order=false")
files = f"{bucket}/CloudTraces/*/*/*/*/*/*/*_CloudTrace_*.json.gz"
text = ["trace_id", "service_type", "resource_type", "resource_name", "resource_id", "trace_name",
        "trace_type", "event_type", "source_ip", "code", "api_version", "request_id", "tracker_name",
        "project_id", "domain_id", "operation_id", "enterprise_project_id", "resource_account_id",
        "user_agent", "location_info", "endpoint", "resource_url"]
columns = ", ".join(f"json->>'{c}' AS {c}" for c in text)
query = f"""SELECT {columns},
  coalesce(json->>'trace_rating', json->>'trace_status') AS trace_rating,
  try_cast(json->>'time' AS BIGINT) AS time, try_cast(json->>'record_time' AS BIGINT) AS record_time,
  json->>'message' AS message, json->>'request' AS request, json->>'response' AS response,
  CASE WHEN json_type(json->'user') = 'VARCHAR' THEN json_extract_string(json, '$.user')::JSON
       ELSE json->'user' END AS "user"
  FROM read_json_objects('{files}', format='array')"""
started = time.time()
con.execute(f"COPY ({query}) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
seconds = time.time() - started
rows = con.execute(f"SELECT count(*) FROM '{out}'").fetchone()[0]
print(f"{rows} {seconds:.2f}")
