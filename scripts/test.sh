#!/usr/bin/env bash
# The test command: installs the test tools, then runs every test of the workspace.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/claimlake/target}"
bash scripts/setup-test-tools.sh
cargo test --workspace --all-targets
