"""Run the statements `cts connect ENGINE` printed, then print the number of traces per day and
rating in `traces`, one JSON array [day, rating, count] per line.

    python counts.py duckdb|spark STATEMENTS_FILE

Spark runs in this process as local[2], bound to 127.0.0.1, without its web UI: one session for
every statement and the query.
"""

import json
import sys

QUERY = (
    "SELECT day, trace_rating, count(*) AS n FROM traces "
    "GROUP BY day, trace_rating ORDER BY 1, 2"
)


def statements(text):
    """The statements of the text: comment lines dropped, each ending with `;` at a line end."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    parts = "\n".join(lines).split(";\n")
    return [p.strip().rstrip(";") for p in parts if p.strip()]


def duckdb_rows(sql):
    import duckdb

    con = duckdb.connect()
    for statement in sql:
        con.execute(statement)
    return con.execute(QUERY).fetchall()


def spark_rows(sql):
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("cts-connect-test")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        for statement in sql:
            spark.sql(statement)
        return [tuple(row) for row in spark.sql(QUERY).collect()]
    finally:
        spark.stop()


def main():
    engine, path = sys.argv[1], sys.argv[2]
    with open(path, encoding="utf-8") as f:
        sql = statements(f.read())
    rows = {"duckdb": duckdb_rows, "spark": spark_rows}[engine](sql)
    for day, rating, n in rows:
        print(json.dumps([str(day), rating, int(n)]))


if __name__ == "__main__":
    main()
