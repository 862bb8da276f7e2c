"""Runs TPC-DS-shaped queries with Skadi and with DataFusion (its Python package, the
oracle) over the same Parquet tables and says, per query, whether the rows agree.

    python3 scripts/tpcds/compare.py DATA_DIR QUERY.sql...

Numbers compare to within 0.01 or 1e-6 relative (Skadi computes decimals in f64).
Rows that agree only as multisets print OK-UNORDERED: ORDER BY ties, which each engine
may break its own way (a LIMIT after such ties may then keep different rows: rerun the
query without its LIMIT to tell). Set SKADI to the binary (default target/release/skadi).
"""

import csv
import glob
import io
import os
import subprocess
import sys

import datafusion


def norm(v):
    if v is None or v == "":
        return None
    try:
        return round(float(v), 2)
    except (TypeError, ValueError):
        return str(v)


def close(a, b):
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= max(0.011, 1e-6 * abs(b))
    return a == b


def same(x, y):
    return len(x) == len(y) and all(len(r) == len(s) and all(map(close, r, s)) for r, s in zip(x, y))


def order(row):
    return tuple((0, "") if v is None else (1, v) if isinstance(v, float) else (2, v) for v in row)


def main():
    data, queries = sys.argv[1], sys.argv[2:]
    skadi = os.environ.get("SKADI", "target/release/skadi")
    ctx = datafusion.SessionContext()
    for path in glob.glob(os.path.join(data, "*.parquet")):
        ctx.register_parquet(os.path.basename(path)[: -len(".parquet")], path)
    tally = {}
    for query in queries:
        name = os.path.basename(query).rsplit(".", 1)[0]
        try:
            want = [[norm(x) for x in r.values()] for r in ctx.sql(open(query).read()).to_arrow_table().to_pylist()]
        except Exception as e:  # the oracle's own error: Skadi should fail too
            want = f"error: {str(e).splitlines()[0][:120]}"
        run = subprocess.run([skadi, "run", "-c", data, "--workers", "3", "--format", "csv", query],
                             capture_output=True, text=True, timeout=600)
        if run.returncode != 0:
            said = (run.stderr.strip().splitlines() or ["?"])[0][:160]
            verdict = "BOTH-FAIL" if isinstance(want, str) else "SKADI-FAILS"
            print(f"{name} {verdict}: {said}")
        elif isinstance(want, str):
            verdict = "ORACLE-FAILS"
            print(f"{name} {verdict} ({want}) but Skadi answered")
        else:
            got = [[norm(x) for x in r] for r in list(csv.reader(io.StringIO(run.stdout)))[1:]]
            if same(got, want):
                verdict = "OK"
            elif same(sorted(got, key=order), sorted(want, key=order)):
                verdict = "OK-UNORDERED"
            else:
                verdict = "DIFF"
            print(f"{name} {verdict}: {len(got)} rows, the oracle {len(want)}")
        tally[verdict] = tally.get(verdict, 0) + 1
    print(", ".join(f"{k} {v}" for k, v in sorted(tally.items())))


if __name__ == "__main__":
    main()
