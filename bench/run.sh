#!/usr/bin/env bash
# Benchmarks: builds claimlake and claimlake-bench in the project's one profile, then runs the
# bench. Usage: bench/run.sh [--scale city|small] [--seed N] [--cache DIR]
# The city lake (one quarter, ~15M claims, ~8 GB) is generated once per seed and kept in
# ~/.cache/claimlake/bench; see bench/README.md for what is measured and bench/RESULTS.md for
# figures from this machine. Not part of the tests: CI never runs the city scale.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p claimlake -p claimlake-bench
target="${CARGO_TARGET_DIR:-target}"
exec "$target/debug/claimlake-bench" --claimlake "$target/debug/claimlake" "$@"
