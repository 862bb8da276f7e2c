#!/usr/bin/env bash
# Checks all 22 TPC-H queries against DataFusion at a scale factor (default 1), with one
# and four workers: generates the data with `skadi gen tpch` if missing, then runs the
# ignored test `tpch::all_queries_on_external_data` over it.
#   scripts/check-tpch.sh [SCALE]
set -euo pipefail
cd "$(dirname "$0")/.."
scale="${1:-1}"
dir="data/tpch-sf${scale}"
cargo build --release --bin skadi
if [[ ! -e "$dir/lineitem.parquet" && ! -d "$dir/lineitem" ]]; then
    ./target/release/skadi gen tpch --scale "$scale" --out "$dir"
fi
SKADI_TPCH_DIR="$PWD/$dir" cargo test --release --test skadi tpch::all_queries_on_external_data \
    -- --ignored --nocapture
