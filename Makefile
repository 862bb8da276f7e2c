# Skadi — `make demo` and `make test` install what is missing, build, then run.
SHELL := /bin/bash
CARGO ?= cargo
BIN := target/release/skadi
DEMO_DATA := data/tpch-sf0.1
WORKERS ?= 2

.PHONY: all setup build demo test bench-deps fmt clippy clean

all: build

setup:
	@scripts/setup.sh

# One profile (release) for the binary, the tests and the examples, so nothing builds twice.
build: setup
	$(CARGO) build --release --workspace --all-targets

demo: build
	@test -f $(DEMO_DATA)/lineitem.parquet || $(BIN) gen tpch --scale 0.1 --out $(DEMO_DATA)
	@echo; echo "== TPC-H Q1: the physical plan"
	$(BIN) explain --catalog $(DEMO_DATA) --workers $(WORKERS) queries/tpch/q1.sql
	@echo "== TPC-H Q1 on the embedded runtime ($(WORKERS) workers)"
	$(BIN) run --catalog $(DEMO_DATA) --workers $(WORKERS) queries/tpch/q1.sql
	@echo; echo "== TPC-H Q6"
	$(BIN) run --catalog $(DEMO_DATA) --workers $(WORKERS) queries/tpch/q6.sql
	@echo; echo "== Q6's compiled body (FlowGraph excerpt)"
	@$(BIN) compile --catalog $(DEMO_DATA) queries/tpch/q6.sql --emit flowgraph | sed -n '1,12p'
	@echo; echo "== Q1's plan as a page (open it in a browser)"
	$(BIN) viz --catalog $(DEMO_DATA) --workers $(WORKERS) queries/tpch/q1.sql -o $(DEMO_DATA)/q1-plan.html
	@echo; echo "== The same, embedded as a library (examples/embed.rs)"
	target/release/examples/embed $(DEMO_DATA)

# Not --all-targets: that would also link test harnesses for the CLI, the facade and the
# example, which have no unit tests (each link is ~400 MB of static LLVM/MLIR).
# Graphviz and Chromium are only needed here; the tests fail (not skip) without them.
test: build
	@scripts/setup.sh --test
	SKADI_REQUIRE_TOOLS=1 $(CARGO) test --release --workspace

# DuckDB for `skadi bench tpch` and NumPy for `skadi bench linreg` (Python packages in
# .venv; the benchmarks run without them, comparing with fewer peers).
bench-deps:
	@scripts/setup.sh --bench

fmt:
	$(CARGO) fmt --all

clippy: setup
	$(CARGO) clippy --release --workspace --all-targets -- -D warnings

clean:
	rm -rf target data
