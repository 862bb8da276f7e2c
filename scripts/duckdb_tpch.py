"""DuckDB's side of `skadi bench tpch`: runs queries over a catalog directory of Parquet
files (NAME.parquet, or NAME/ holding part files) with a thread count, one warm-up run
and then RUNS timed runs each; prints "NAME MILLISECONDS" (the median) per query.

    python3 duckdb_tpch.py CATALOG THREADS RUNS < queries.json   # [[name, sql], ...]
"""
import glob
import json
import os
import statistics
import sys
import time

import duckdb


def main():
    catalog, threads, runs = sys.argv[1], int(sys.argv[2]), max(int(sys.argv[3]), 1)
    queries = json.load(sys.stdin)
    con = duckdb.connect()
    con.execute(f"SET threads TO {threads}")
    for entry in sorted(os.listdir(catalog)):
        path = os.path.join(catalog, entry)
        if entry.endswith(".parquet") and os.path.isfile(path):
            name, files = entry[: -len(".parquet")], path
        elif os.path.isdir(path) and glob.glob(os.path.join(path, "*.parquet")):
            name, files = entry, os.path.join(path, "*.parquet")
        else:
            continue
        con.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{files}')")
    for name, sql in queries:
        con.execute(sql).fetchall()
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            con.execute(sql).fetchall()
            times.append(time.perf_counter() - start)
        print(name, statistics.median(times) * 1000.0, flush=True)


if __name__ == "__main__":
    main()
