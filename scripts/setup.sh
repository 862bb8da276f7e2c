#!/usr/bin/env bash
# Installs what building and testing Skadi needs and this machine lacks: Debian's
# LLVM/MLIR 22 (linked statically into the binary), the mold linker, protoc (the
# `substrait` crate generates Substrait's protobuf types with it; libprotobuf-dev has
# the well-known types it imports), and a Rust toolchain check. With --test, also what
# the tests drive: Graphviz (DOT plans) and Chromium (the `skadi viz` page, headless).
# Safe to run repeatedly: it installs nothing already there.
set -euo pipefail

packages=(
  llvm-22-dev libmlir-22-dev mlir-22-tools libpolly-22-dev libclang-22-dev clang-22
  libzstd-dev zlib1g-dev libxml2-dev libz3-dev mold protobuf-compiler libprotobuf-dev
)
if [ "${1:-}" = "--test" ]; then
  packages+=(graphviz chromium)
fi
# --bench: DuckDB and NumPy (benchmark peers) as Python packages in the project's .venv.
if [ "${1:-}" = "--bench" ]; then
  packages+=(python3-venv)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null; then
  echo "setup: cargo is missing; install Rust (rustup) 1.95 or newer" >&2
  exit 1
fi

test -x /usr/lib/llvm-22/bin/llvm-config || { echo "setup: LLVM 22 did not install" >&2; exit 1; }

if [ "${1:-}" = "--bench" ]; then
  cd "$(dirname "$0")/.."
  [ -x .venv/bin/python3 ] || python3 -m venv .venv
  .venv/bin/python3 -c "import duckdb" 2>/dev/null || .venv/bin/pip install --quiet duckdb
  .venv/bin/python3 -c "import numpy" 2>/dev/null || .venv/bin/pip install --quiet numpy
  echo "setup: DuckDB $(.venv/bin/python3 -c 'import duckdb; print(duckdb.__version__)'), NumPy $(.venv/bin/python3 -c 'import numpy; print(numpy.__version__)') in .venv"
fi
