#!/usr/bin/env bash
# Checks TPC-DS-shaped queries against DataFusion (its Python package, the oracle) on
# seeded random data of TPC-DS's schema (scripts/tpcds/: not dsdgen's data, and the
# queries are not in this repository: give a directory of them, e.g. the 99 of
# github.com/cwida/tpcds-result-reproduction, query_qualification/).
#   scripts/check-tpcds.sh QUERY_DIR [SEED]
# Prints one verdict per query (OK, OK-UNORDERED, DIFF, SKADI-FAILS, ORACLE-FAILS,
# BOTH-FAIL) and a tally; see scripts/tpcds/compare.py.
set -euo pipefail
cd "$(dirname "$0")/.."
queries="${1:?give a directory of TPC-DS queries (*.sql)}"
seed="${2:-7}"
data="data/tpcds-random-${seed}"
[ -x .venv/bin/python3 ] || python3 -m venv .venv
.venv/bin/python3 -c "import pyarrow, datafusion" 2>/dev/null || .venv/bin/pip install --quiet pyarrow datafusion
cargo build --release --bin skadi
[ -e "$data/store_sales.parquet" ] || .venv/bin/python3 scripts/tpcds/data.py "$data" "$seed"
.venv/bin/python3 scripts/tpcds/compare.py "$data" "$queries"/*.sql
